import { randomUUID } from "node:crypto";
import { ConfigError, createLogger } from "@nexus/core";
import {
  appendToOutbox,
  createOutboxMigration,
  type OutboxDatabase,
  type OutboxRelay,
  startOutboxRelay,
} from "@nexus/events";
import { connectRedis } from "@nexus/stores";
import {
  createTestAuth,
  createTestPostgres,
  deleteRedisKeys,
  globalId,
  serveJwks,
  TEST_REDIS_URL,
  TEST_SUBGRAPH_SECRET,
  TEST_TOKEN_AUDIENCE,
  type TestPostgres,
  testRedisPrefix,
  testSubgraphHeaders,
  until,
} from "@nexus/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp } from "./app.ts";
import { loadConfig } from "./config.ts";

/** The process as index.ts starts it: config, migrations, consumer and HTTP. */

const prefix = testRedisPrefix("insights-app");
let app: Awaited<ReturnType<typeof startApp>>;
let target: TestPostgres<OutboxDatabase>;
let producer: TestPostgres<OutboxDatabase>;
let producerRelay: OutboxRelay;
let redis: Awaited<ReturnType<typeof connectRedis>>;
const queries: string[] = [];
let jwks: Awaited<ReturnType<typeof serveJwks>>;
let adminAuthorization: string;

beforeAll(async () => {
  // An empty database for the app to migrate, and an outbox standing in for orders.
  target = await createTestPostgres<OutboxDatabase>("insights_app", {});
  producer = await createTestPostgres<OutboxDatabase>("insights_app_orders", {
    "0001_outbox": createOutboxMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
  const auth = await createTestAuth();
  jwks = await serveJwks(auth.jwks);
  adminAuthorization = await auth.bearer(randomUUID(), "ADMIN");
  const logger = createLogger("insights-test", "silent");
  producerRelay = startOutboxRelay({ db: producer.db, redis, prefix, logger, pollIntervalMs: 60_000 });
  const config = loadConfig({
    HOST: "127.0.0.1",
    INSIGHTS_PORT: "0",
    INSIGHTS_DATABASE_URL: target.url,
    REDIS_URL: TEST_REDIS_URL,
    EVENTS_PREFIX: prefix,
    JWKS_URL: jwks.url,
    JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
    JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
    SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
  });
  app = await startApp(config, logger, { onQuery: (sql) => queries.push(sql) });
});

afterAll(async () => {
  await app?.stop();
  await producerRelay?.stop();
  if (redis) {
    await deleteRedisKeys(redis, [prefix]);
    await redis.quit();
  }
  await target?.drop();
  await producer?.drop();
  await jwks?.close();
});

type TopProducts = { topProducts: { product: { id: string }; unitsSold: number; orderCount: number }[] };

async function topProducts(): Promise<TopProducts["topProducts"]> {
  const body = JSON.stringify({ query: "{ topProducts(first: 5) { product { id } unitsSold orderCount } }" });
  const response = await fetch(app.url, {
    method: "POST",
    headers: { ...testSubgraphHeaders(body), authorization: adminAuthorization },
    body,
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: TopProducts }).data.topProducts;
}

describe("startApp", () => {
  it("counts confirmed orders arriving on its queue and ranks them over HTTP", async () => {
    expect(await topProducts()).toEqual([]);
    const product = (n: number) => n.toString(16).padStart(24, "a");
    await producer.db.transaction().execute(async (trx) => {
      for (const [lines, confirmed] of [
        [[{ productId: product(1), quantity: 2, unitPrice: 500 }], true],
        [
          [
            { productId: product(2), quantity: 3, unitPrice: 900 },
            { productId: product(1), quantity: 2, unitPrice: 500 },
          ],
          true,
        ],
        // Placed and never confirmed (out of stock): not a sale.
        [[{ productId: product(3), quantity: 9, unitPrice: 100 }], false],
      ] as const) {
        const orderId = randomUUID();
        await appendToOutbox(trx, "OrderPlaced", orderId, {
          orderId,
          customerId: randomUUID(),
          currencyCode: "USD",
          lines: [...lines],
        });
        if (confirmed) await appendToOutbox(trx, "OrderConfirmed", orderId, { orderId });
      }
    });
    await producerRelay.flush();

    const expected = [
      { product: { id: globalId("Product", product(1)) }, unitsSold: 4, orderCount: 2 },
      { product: { id: globalId("Product", product(2)) }, unitsSold: 3, orderCount: 1 },
    ];
    // Facts and outcomes arrive asynchronously, through BullMQ to the app's consumer.
    await until("the five events to be applied", async () => {
      const { n } = await app.db
        .selectFrom("processed_events")
        .select(sql<number>`count(*)::int`.as("n"))
        .executeTakeFirstOrThrow();
      return n === 5 ? true : undefined;
    });
    expect(await topProducts()).toEqual(expected);

    queries.length = 0;
    await topProducts();
    expect(queries).toHaveLength(1);
  });

  it("answers /health when PostgreSQL and Redis do", async () => {
    const response = await fetch(app.url.replace(/\/graphql$/, "/health"));
    expect(await response.json()).toEqual({ status: "ok" });
  });
});

describe("loadConfig", () => {
  it("defaults to the local stack", () => {
    expect(loadConfig({})).toMatchObject({
      port: 4005,
      databaseUrl: "postgres://postgres@127.0.0.1:5432/insights",
      redisUrl: "redis://127.0.0.1:6379",
      eventsPrefix: "nexus",
      storeCurrency: "USD",
      eventConcurrency: 16,
    });
    expect(loadConfig({ STORE_CURRENCY: "GBP", INSIGHTS_EVENT_CONCURRENCY: "4" })).toMatchObject({
      storeCurrency: "GBP",
      eventConcurrency: 4,
    });
  });

  it("refuses a store currency that is not an ISO 4217 code, and a concurrency out of range", () => {
    const load = () => loadConfig({ STORE_CURRENCY: "pounds", INSIGHTS_EVENT_CONCURRENCY: "0" });
    expect(load).toThrow(
      expect.objectContaining({
        problems: [
          'STORE_CURRENCY must be an ISO 4217 currency code in capitals such as USD, got "pounds"',
          'INSIGHTS_EVENT_CONCURRENCY must be an integer between 1 and 256, got "0"',
        ],
      }),
    );
  });

  it("reports every bad value at once", () => {
    const load = () => loadConfig({ INSIGHTS_DATABASE_URL: "mysql://db/insights", REDIS_URL: "not a url" });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      expect.objectContaining({
        problems: [
          'INSIGHTS_DATABASE_URL must use postgres: or postgresql:, got "mysql:"',
          'REDIS_URL must be a URL, got "not a url"',
        ],
      }),
    );
  });
});
