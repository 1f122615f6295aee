/**
 * The whole supergraph over HTTP, as a client sees it: all five subgraphs and the gateway run
 * in this process on real PostgreSQL, Redis and MongoDB-wire stores with fresh databases, and
 * every request goes through the gateway. Stores are counted to guard against N+1 fetches.
 */

import { randomBytes } from "node:crypto";
import { startApp as startCatalog } from "@nexus/catalog/app";
import { loadConfig as loadCatalogConfig } from "@nexus/catalog/config";
import { createLogger } from "@nexus/core";
import { DEMO_ACCOUNTS } from "@nexus/demo";
import { startGateway } from "@nexus/gateway/app";
import { loadConfig as loadGatewayConfig } from "@nexus/gateway/config";
import { startApp as startInsights } from "@nexus/insights/app";
import { loadConfig as loadInsightsConfig } from "@nexus/insights/config";
import { startApp as startInventory } from "@nexus/inventory/app";
import { loadConfig as loadInventoryConfig } from "@nexus/inventory/config";
import { startApp as startOrders } from "@nexus/orders/app";
import { loadConfig as loadOrdersConfig } from "@nexus/orders/config";
import { databaseUrl, dropDatabase } from "@nexus/stores";
import { createTestAuth, TEST_REDIS_URL, TEST_SERVER_URL, testRedisPrefix } from "@nexus/testing";
import { startApp as startUsers } from "@nexus/users/app";
import { loadConfig as loadUsersConfig } from "@nexus/users/config";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { graphql, graphqlOk } from "../graphql-client.ts";

const suffix = randomBytes(4).toString("hex");
const databases = ["users", "orders", "inventory", "insights"].map((name) =>
  databaseUrl(TEST_SERVER_URL, `nexus_e2e_${name}_${suffix}`),
);
const [usersDb, ordersDb, inventoryDb, insightsDb] = databases as [string, string, string, string];

const logger = createLogger("e2e", "silent");
const productFinds: unknown[] = [];
const stockQueries: string[] = [];
const stops: (() => Promise<void>)[] = [];
let endpoint = "";

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  const env: Record<string, string> = {
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    SEED_DEMO_DATA: "true",
    DATABASE_URL: TEST_SERVER_URL,
    REDIS_URL: TEST_REDIS_URL,
    EVENTS_PREFIX: testRedisPrefix("e2e"),
    OUTBOX_POLL_MS: "200",
    JWT_PRIVATE_KEY: (await createTestAuth()).privateKeyPem,
    MONGO_URL: inject("mongoUrl"),
    MONGO_EMBEDDED: "false",
    CATALOG_MONGO_DATABASE: `nexus_e2e_catalog_${suffix}`,
    USERS_DATABASE_URL: usersDb,
    ORDERS_DATABASE_URL: ordersDb,
    INVENTORY_DATABASE_URL: inventoryDb,
    INSIGHTS_DATABASE_URL: insightsDb,
    USERS_PORT: "0",
    CATALOG_PORT: "0",
    ORDERS_PORT: "0",
    INVENTORY_PORT: "0",
    INSIGHTS_PORT: "0",
    GATEWAY_PORT: "0",
  };

  const users = await startUsers(loadUsersConfig(env), logger);
  stops.push(users.stop);
  env.USERS_URL = users.url;
  env.JWKS_URL = users.url.replace(/\/graphql$/, "/.well-known/jwks.json");

  const catalog = await startCatalog(loadCatalogConfig(env), logger, {
    onCommand: (event) => {
      if (event.commandName === "find" && event.command.find === "products")
        productFinds.push(event.command.filter);
    },
  });
  stops.push(catalog.stop);
  env.CATALOG_URL = catalog.url;

  const inventory = await startInventory(loadInventoryConfig(env), logger, {
    onQuery: (sql) => {
      if (sql.includes("stock_levels")) stockQueries.push(sql);
    },
  });
  stops.push(inventory.stop);
  env.INVENTORY_URL = inventory.url;

  const insights = await startInsights(loadInsightsConfig(env), logger);
  stops.push(insights.stop);
  env.INSIGHTS_URL = insights.url;

  const orders = await startOrders(loadOrdersConfig(env), logger);
  stops.push(orders.stop);
  env.ORDERS_URL = orders.url;

  const gateway = await startGateway(loadGatewayConfig(env), logger);
  stops.push(gateway.stop);
  endpoint = gateway.url;
}, 120_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await Promise.all(databases.map((url) => dropDatabase(url)));
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

  it("places a 20-line order priced by the catalog, reserves its stock and counts its sales", async () => {
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

    const { placeOrder } = await graphqlOk<{
      placeOrder: { order: { id: string; status: string; total: { amount: number } }; userErrors: unknown[] };
    }>(
      endpoint,
      `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status total { amount } } userErrors { code message } } }`,
      { input: { lines } },
      { authorization: bearer },
    );
    expect(placeOrder.userErrors).toEqual([]);
    expect(placeOrder.order.status).toBe("PENDING");
    const expectedTotal = picked.reduce((sum, p, i) => sum + p.price.amount * (1 + (i % 3)), 0);
    expect(placeOrder.order.total.amount).toBe(expectedTotal);

    // OrderPlaced -> inventory reserves -> InventoryReserved -> orders confirms.
    await until("the order to be confirmed", async () => {
      const { order } = await graphqlOk<{ order: { status: string } }>(
        endpoint,
        `query ($id: ID!) { order(id: $id) { status } }`,
        { id: placeOrder.order.id },
        { authorization: bearer },
      );
      return order.status === "CONFIRMED" ? order : undefined;
    });

    productFinds.length = 0;
    stockQueries.length = 0;
    const history = await graphqlOk<History>(endpoint, ORDER_HISTORY, {}, { authorization: bearer });
    // N+1 guard: every product of every line in at most one MongoDB find (none when the catalog's
    // product cache already holds them from pricing the order), all their stock in one SQL query.
    expect(productFinds.length).toBeLessThanOrEqual(1);
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

    const top = await until("insights to count the order", async () => {
      const { topProducts } = await graphqlOk<{
        topProducts: { product: { id: string; name: string }; unitsSold: number }[];
      }>(endpoint, "{ topProducts(first: 100) { unitsSold product { id name } } }");
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
