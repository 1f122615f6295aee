import { randomUUID } from "node:crypto";
/**
 * The whole supergraph over HTTP, as a client sees it: all five subgraphs and the gateway run
 * in this process on real PostgreSQL, Redis and MongoDB-wire stores with fresh databases, and
 * every request goes through the gateway. Stores are counted to guard against N+1 fetches.
 */

import { randomBytes } from "node:crypto";
import { until } from "@nexus/testing";
import { graphql, graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { DEMO_ACCOUNTS } from "@nexus/users/demo";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const suffix = randomBytes(4).toString("hex");
const productFinds: unknown[] = [];
const stockQueries: string[] = [];
let stack: Stack;
let endpoint = "";

beforeAll(async () => {
  stack = await startStack({
    mongoUrl: inject("mongoUrl"),
    // Product finds are counted: the search index's catch-up pass, on its own clock, would add to them.
    env: { SEARCH_CATCH_UP_MS: "0" },
    onProductFind: (filter) => productFinds.push(filter),
    onInventoryQuery: (sql) => {
      if (sql.includes("stock_levels")) stockQueries.push(sql);
    },
  });
  endpoint = stack.endpoint;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const ORDER_HISTORY = `{
  me {
    orders(first: 5) {
      totalCount
      edges { node { id status total { amount currencyCode } lines {
        quantity productName unitPrice { amount } lineTotal { amount }
        product { id name price { amount currencyCode } inventory { available } }
      } } }
    }
  }
}`;

interface HistoryLine {
  quantity: number;
  productName: string;
  unitPrice: { amount: number };
  lineTotal: { amount: number };
  product: {
    id: string;
    name: string;
    price: { amount: number; currencyCode: string };
    inventory: { available: number };
  };
}
interface History {
  me: {
    orders: {
      totalCount: number;
      edges: {
        node: {
          id: string;
          status: string;
          total: { amount: number; currencyCode: string };
          lines: HistoryLine[];
        };
      }[];
    };
  };
}

describe("the supergraph through the gateway", () => {
  let bearer = "";

  it("registers and signs in a customer", async () => {
    const email = `e2e-${suffix}@example.com`;
    const { register } = await graphqlOk<{ register: { accessToken: string; user: { email: string } } }>(
      endpoint,
      `mutation ($input: RegisterInput!) { register(input: $input) { accessToken user { email } userErrors { code } } }`,
      { input: { email, password: "e2e password", name: "E2E" } },
    );
    expect(register.user.email).toBe(email);

    const { login } = await graphqlOk<{ login: { accessToken: string } }>(
      endpoint,
      `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`,
      { input: { email: email.toUpperCase(), password: "e2e password" } },
    );
    expect(login.accessToken).toMatch(/^ey/);
    bearer = `Bearer ${login.accessToken}`;
  });

  it("keeps subgraph error codes and refuses a bad token with 401", async () => {
    const anonymous = await graphql(endpoint, `{ order(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    const forged = await graphql(endpoint, "{ me { id } }", {}, { authorization: "Bearer not.a.token" });
    expect(forged.status).toBe(401);
    expect(forged.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("checks out a 20-line cart priced by the catalog, reserves its stock and counts its sales", async () => {
    const { products } = await graphqlOk<{
      products: {
        totalCount: number;
        edges: {
          node: { id: string; name: string; price: { amount: number }; inventory: { available: number } };
        }[];
      };
    }>(
      endpoint,
      "{ products(first: 40) { totalCount edges { node { id name price { amount } inventory { available } } } } }",
    );
    expect(products.totalCount).toBe(1031);
    const picked = products.edges
      .map((e) => e.node)
      .filter((p) => p.inventory.available >= 3)
      .slice(0, 20);
    expect(picked).toHaveLength(20);
    const lines = picked.map((p, i) => ({ productId: p.id, quantity: 1 + (i % 3) }));

    for (const line of lines) {
      const { addToCart } = await graphqlOk<{ addToCart: { userErrors: unknown[] } }>(
        endpoint,
        `mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code message } } }`,
        { input: line },
        { authorization: bearer },
      );
      expect(addToCart.userErrors).toEqual([]);
    }
    const { checkout } = await graphqlOk<{
      checkout: { order: { id: string; status: string; total: { amount: number } }; userErrors: unknown[] };
    }>(
      endpoint,
      `mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id status total { amount } } userErrors { code message } } }`,
      {
        input: {
          idempotencyKey: "e2e-20-lines",
          shippingAddress: {
            name: "E2E",
            line1: "1 Test Way",
            city: "Berlin",
            postalCode: "10115",
            countryCode: "DE",
          },
        },
      },
      { authorization: bearer },
    );
    expect(checkout.userErrors).toEqual([]);
    expect(checkout.order.status).toBe("PENDING");
    const expectedTotal = picked.reduce((sum, p, i) => sum + p.price.amount * (1 + (i % 3)), 0);
    expect(checkout.order.total.amount).toBe(expectedTotal);

    // OrderPlaced -> inventory reserves -> InventoryReserved -> orders confirms.
    await until("the order to be confirmed", async () => {
      const { order } = await graphqlOk<{ order: { status: string } }>(
        endpoint,
        `query ($id: ID!) { order(id: $id) { status } }`,
        { id: checkout.order.id },
        { authorization: bearer },
      );
      return order.status === "CONFIRMED" ? order : undefined;
    });

    productFinds.length = 0;
    stockQueries.length = 0;
    const history = await graphqlOk<History>(endpoint, ORDER_HISTORY, {}, { authorization: bearer });
    // N+1 guard: every product of every line in one MongoDB find (the stack runs without
    // catalog's product cache), all their stock in one SQL query.
    expect(productFinds).toHaveLength(1);
    expect(stockQueries).toHaveLength(1);

    const order = history.me.orders.edges[0]?.node;
    expect(history.me.orders.totalCount).toBe(1);
    expect(order?.lines).toHaveLength(lines.length);
    for (const [i, line] of (order?.lines ?? []).entries()) {
      const product = picked[i];
      expect(line.product).toMatchObject({
        id: product?.id,
        name: product?.name,
        price: { amount: product?.price.amount, currencyCode: "USD" },
      });
      expect(line.productName).toBe(product?.name);
      expect(line.unitPrice.amount).toBe(product?.price.amount);
      expect(line.lineTotal.amount).toBe((product?.price.amount ?? 0) * line.quantity);
      expect(line.product.inventory.available).toBe((product?.inventory.available ?? 0) - line.quantity);
    }

    // Sales figures are for holders of insights:read.
    const analyst = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
    const top = await until("insights to count the order", async () => {
      const { topProducts } = await graphqlOk<{
        topProducts: { product: { id: string; name: string }; unitsSold: number }[];
      }>(endpoint, "{ topProducts(first: 100) { unitsSold product { id name } } }", {}, analyst);
      return topProducts.length === lines.length ? topProducts : undefined;
    });
    const sold = new Map(top.map((t) => [t.product.id, t.unitsSold]));
    for (const line of lines) expect(sold.get(line.productId)).toBe(line.quantity);
    expect(top[0]?.product.name).toBeTruthy();
  });

  it("signs in the seeded demo customer", async () => {
    const { login } = await graphqlOk<{ login: { user: { email: string } } }>(
      endpoint,
      `mutation ($input: LoginInput!) { login(input: $input) { user { email } } }`,
      { input: { email: DEMO_ACCOUNTS[0].email, password: DEMO_ACCOUNTS[0].password } },
    );
    expect(login.user.email).toBe(DEMO_ACCOUNTS[0].email);
  });
});
