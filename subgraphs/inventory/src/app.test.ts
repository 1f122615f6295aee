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
  createTestPostgres,
  deleteRedisKeys,
  TEST_REDIS_URL,
  TEST_SUBGRAPH_SECRET,
  type TestPostgres,
  testRedisPrefix,
  testSubgraphHeaders,
  until,
} from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { DEMO_STOCK } from "./db/demo.ts";

/** The process as index.ts starts it: config, migrations, seed, consumer, relay and HTTP. */

const prefix = testRedisPrefix("inventory-app");
let app: Awaited<ReturnType<typeof startApp>>;
let target: TestPostgres<OutboxDatabase>;
let producer: TestPostgres<OutboxDatabase>;
let producerRelay: OutboxRelay;
let redis: Awaited<ReturnType<typeof connectRedis>>;
const stockQueries: string[] = [];

beforeAll(async () => {
  // An empty database for the app to migrate, and an outbox standing in for orders.
  target = await createTestPostgres<OutboxDatabase>("inventory_app", {});
  producer = await createTestPostgres<OutboxDatabase>("inventory_app_orders", {
    "0001_outbox": createOutboxMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
  const logger = createLogger("inventory-test", "silent");
  producerRelay = startOutboxRelay({ db: producer.db, redis, prefix, logger, pollIntervalMs: 60_000 });
  const config = loadConfig({
    HOST: "127.0.0.1",
    INVENTORY_PORT: "0",
    INVENTORY_DATABASE_URL: target.url,
    REDIS_URL: TEST_REDIS_URL,
    EVENTS_PREFIX: prefix,
    SEED_DEMO_DATA: "true",
    OUTBOX_POLL_MS: "100",
    SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
  });
  app = await startApp(config, logger, {
    onQuery: (sql) => {
      if (sql.includes("stock_levels")) stockQueries.push(sql);
    },
  });
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
});

async function availability(ids: readonly string[]) {
  const request = JSON.stringify({
    query: `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id inventory { available } } } }`,
    variables: { reps: ids.map((id) => ({ __typename: "Product", id })) },
  });
  const response = await fetch(app.url, {
    method: "POST",
    headers: testSubgraphHeaders(request),
    body: request,
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as {
    data: { _entities: { id: string; inventory: { available: number } }[] };
  };
  return body.data._entities.map((entity) => entity.inventory.available);
}

describe("startApp", () => {
  it("serves the seeded stock over HTTP with one SQL query, and reserves orders arriving on its queue", async () => {
    const [first, second, third] = DEMO_STOCK.filter((level) => level.onHand >= 3);
    const ids = [first, second, third].map((level) => level?.productId ?? "");

    stockQueries.length = 0;
    expect(await availability(ids)).toEqual([first?.onHand, second?.onHand, third?.onHand]);
    expect(stockQueries).toHaveLength(1);

    const orderId = randomUUID();
    await producer.db.transaction().execute((trx) =>
      appendToOutbox(trx, "OrderPlaced", orderId, {
        orderId,
        customerId: randomUUID(),
        currencyCode: "USD",
        lines: [
          { productId: ids[0] ?? "", quantity: 1, unitPrice: 500 },
          { productId: ids[2] ?? "", quantity: 3, unitPrice: 700 },
        ],
      }),
    );
    await producerRelay.flush();

    const expected = [(first?.onHand ?? 0) - 1, second?.onHand, (third?.onHand ?? 0) - 3];
    // The decision is asynchronous: OrderPlaced travels through BullMQ to the app's consumer.
    await until(
      "the app to reserve the order",
      async () => JSON.stringify(await availability(ids)) === JSON.stringify(expected),
      { timeoutMs: 10_000 },
    );
    expect(await availability(ids)).toEqual(expected);
  });

  it("answers /health when PostgreSQL and Redis do", async () => {
    const response = await fetch(app.url.replace(/\/graphql$/, "/health"));
    expect(await response.json()).toEqual({ status: "ok" });
  });
});

describe("loadConfig", () => {
  it("defaults to the local stack", () => {
    expect(loadConfig({})).toMatchObject({
      port: 4004,
      databaseUrl: "postgres://postgres@127.0.0.1:5432/inventory",
      redisUrl: "redis://127.0.0.1:6379",
      eventsPrefix: "nexus",
      outboxPollMs: 500,
      seedDemoData: false,
    });
    expect(loadConfig({ DATABASE_URL: "postgres://db.internal:5433/postgres" }).databaseUrl).toBe(
      "postgres://db.internal:5433/inventory",
    );
  });

  it("reports every bad value at once", () => {
    const load = () =>
      loadConfig({ REDIS_URL: "http://cache", SEED_DEMO_DATA: "maybe", OUTBOX_POLL_MS: "0" });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      expect.objectContaining({
        problems: [
          'REDIS_URL must use redis: or rediss:, got "http:"',
          'OUTBOX_POLL_MS must be an integer between 10 and 60000, got "0"',
          'SEED_DEMO_DATA must be true or false, got "maybe"',
        ],
      }),
    );
  });
});
