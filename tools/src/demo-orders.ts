import type { AddressInput } from "@nexus/core";
import { DEMO_ACCOUNTS } from "@nexus/users/demo";
import { DEMO_DISCOUNT_CODE } from "./demo-store.ts";
import { graphqlOk } from "./graphql-client.ts";

const DEMO_ADDRESS: AddressInput = {
  name: "Demo Customer",
  line1: "1 Market Street",
  city: "San Francisco",
  region: "CA",
  postalCode: "94105",
  countryCode: "US",
};

/** Signs a demo account in through the gateway; its access token. */
export async function signIn(
  endpoint: string,
  account: { email: string; password: string },
): Promise<string> {
  const { login } = await graphqlOk<{ login: { accessToken: string | null } }>(
    endpoint,
    "mutation ($input: LoginInput!) { login(input: $input) { accessToken } }",
    { input: { email: account.email, password: account.password } },
  );
  if (!login.accessToken) throw new Error(`cannot sign in as ${account.email}`);
  return login.accessToken;
}

/**
 * Fills the cart and checks out a few times for the demo customer through the gateway, the way a client would,
 * so the demo shows order history, reserved stock and top products. Skipped when the
 * customer already has orders. Returns how many orders were placed.
 */
export async function placeDemoOrders(endpoint: string): Promise<number> {
  const auth = { authorization: `Bearer ${await signIn(endpoint, DEMO_ACCOUNTS[0])}` };

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
    await chooseShipping(endpoint, auth, index === 0);
    const { checkout } = await graphqlOk<{ checkout: { userErrors: { message: string }[] } }>(
      endpoint,
      "mutation ($input: CheckoutInput!) { checkout(input: $input) { userErrors { message } } }",
      // A fixed key per basket: a demo run interrupted and started again does not order twice.
      // The address is the cart's, set by chooseShipping.
      { input: { idempotencyKey: `demo-order-${index + 1}` } },
      auth,
    );
    if (checkout.userErrors.length > 0) throw new Error(checkout.userErrors.map((e) => e.message).join("; "));
  }
  return baskets.length;
}

/**
 * Sets the cart's address, picks the cheapest shipping option when the store ships there, and
 * on the first order applies the demo's discount code, as a storefront's checkout page would.
 */
async function chooseShipping(endpoint: string, auth: { authorization: string }, withCode: boolean) {
  const { setCartShippingAddress } = await graphqlOk<{
    setCartShippingAddress: {
      cart: { shippingOptions: { id: string; price: { amount: number } }[] };
      userErrors: { message: string }[];
    };
  }>(
    endpoint,
    `mutation ($input: SetCartShippingAddressInput!) { setCartShippingAddress(input: $input) {
      cart { shippingOptions { id price { amount } } } userErrors { message } } }`,
    { input: { address: DEMO_ADDRESS } },
    auth,
  );
  const problems = setCartShippingAddress.userErrors.map((e) => e.message);
  const [cheapest] = [...setCartShippingAddress.cart.shippingOptions].sort(
    (a, b) => a.price.amount - b.price.amount,
  );
  if (cheapest) {
    const { selectShippingMethod } = await graphqlOk<{
      selectShippingMethod: { userErrors: { message: string }[] };
    }>(
      endpoint,
      "mutation ($input: SelectShippingMethodInput!) { selectShippingMethod(input: $input) { userErrors { message } } }",
      { input: { methodId: cheapest.id } },
      auth,
    );
    problems.push(...selectShippingMethod.userErrors.map((e) => e.message));
  }
  if (withCode) {
    // Not a failure when the store has no such code: the order is placed without it.
    await graphqlOk(
      endpoint,
      "mutation ($input: ApplyDiscountCodeInput!) { applyDiscountCode(input: $input) { userErrors { code } } }",
      { input: { code: DEMO_DISCOUNT_CODE } },
      auth,
    );
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
}
