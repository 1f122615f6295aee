import type { AddressInput } from "@nexus/core";
import { DEMO_ACCOUNTS } from "@nexus/users/demo";
import { graphqlOk } from "./graphql-client.ts";

const DEMO_ADDRESS: AddressInput = {
  name: "Demo Customer",
  line1: "1 Market Street",
  city: "San Francisco",
  region: "CA",
  postalCode: "94105",
  countryCode: "US",
};

/**
 * Fills the cart and checks out a few times for the demo customer through the gateway, the way a client would,
 * so the demo shows order history, reserved stock and top products. Skipped when the
 * customer already has orders. Returns how many orders were placed.
 */
export async function placeDemoOrders(endpoint: string): Promise<number> {
  const customer = DEMO_ACCOUNTS[0];
  const { login } = await graphqlOk<{ login: { accessToken: string | null } }>(
    endpoint,
    "mutation ($input: LoginInput!) { login(input: $input) { accessToken } }",
    { input: { email: customer.email, password: customer.password } },
  );
  if (!login.accessToken) throw new Error(`cannot sign in as ${customer.email}`);
  const auth = { authorization: `Bearer ${login.accessToken}` };

  const { me } = await graphqlOk<{ me: { orders: { totalCount: number } } }>(
    endpoint,
    "{ me { orders(first: 1) { totalCount } } }",
    {},
    auth,
  );
  if (me.orders.totalCount > 0) return 0;

  const { products } = await graphqlOk<{ products: { edges: { node: { id: string } }[] } }>(
    endpoint,
    "{ products(first: 9) { edges { node { id } } } }",
  );
  const ids = products.edges.map((edge) => edge.node.id);
  const baskets = [ids.slice(0, 3), ids.slice(2, 5), ids.slice(5, 9)];
  for (const [index, basket] of baskets.entries()) {
    for (const [line, productId] of basket.entries()) {
      const { addToCart } = await graphqlOk<{ addToCart: { userErrors: { message: string }[] } }>(
        endpoint,
        "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { message } } }",
        { input: { productId, quantity: 1 + ((index + line) % 3) } },
        auth,
      );
      if (addToCart.userErrors.length > 0)
        throw new Error(addToCart.userErrors.map((e) => e.message).join("; "));
    }
    const { checkout } = await graphqlOk<{ checkout: { userErrors: { message: string }[] } }>(
      endpoint,
      "mutation ($input: CheckoutInput!) { checkout(input: $input) { userErrors { message } } }",
      // A fixed key per basket: a demo run interrupted and started again does not order twice.
      { input: { idempotencyKey: `demo-order-${index + 1}`, shippingAddress: DEMO_ADDRESS } },
      auth,
    );
    if (checkout.userErrors.length > 0) throw new Error(checkout.userErrors.map((e) => e.message).join("; "));
  }
  return baskets.length;
}
