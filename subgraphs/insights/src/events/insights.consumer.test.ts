import { randomUUID } from "node:crypto";
import {
  appendToOutbox,
  createOutboxMigration,
  type EventConsumer,
  type EventPayloads,
  type OutboxDatabase,
  type OutboxRelay,
  startOutboxRelay,
} from "@nexus/events";
import { connectRedis } from "@nexus/stores";
import {
  createRecordingLogger,
  createTestPostgres,
  TEST_REDIS_URL,
  type TestPostgres,
  testRedisPrefix,
} from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { startInsightsConsumer } from "./insights.consumer.ts";

/**
 * Real BullMQ queues under prefixes of their own. Orders is stood in for by an outbox
 * database and its relay. A second prefix plays a Redis that lost its record of finished
 * jobs (a failover): the relay publishes the same event again and the consumer sees it twice.
 */

const prefixes = [testRedisPrefix("insights"), testRedisPrefix("insights-failover")] as const;
let pg: TestPostgres<Database>;
let producer: TestPostgres<OutboxDatabase>;
let redis: Awaited<ReturnType<typeof connectRedis>>;
const relays: OutboxRelay[] = [];
const consumers: EventConsumer[] = [];
const { logger: recordingLogger, logs } = createRecordingLogger();

beforeAll(async () => {
  pg = await createTestPostgres<Database>("insights_events", migrations);
  producer = await createTestPostgres<OutboxDatabase>("insights_orders", {
    "0001_outbox": createOutboxMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
  const logger = recordingLogger;
  for (const prefix of prefixes) {
    relays.push(startOutboxRelay({ db: producer.db, redis, prefix, logger, pollIntervalMs: 60_000 }));
    consumers.push(startInsightsConsumer({ db: pg.db, redis, prefix, logger }));
  }
});

afterAll(async () => {
  for (const consumer of consumers) await consumer.stop();
  for (const relay of relays) await relay.stop();
  if (redis) {
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await redis.quit();
  }
  await pg?.drop();
  await producer?.drop();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const productId = (n: number) => n.toString(16).padStart(24, "0");

async function placeOrder(lines: EventPayloads["OrderPlaced"]["lines"], orderId: string = randomUUID()) {
  const event = await producer.db.transaction().execute((trx) =>
    appendToOutbox(trx, "OrderPlaced", orderId, {
      orderId,
      customerId: randomUUID(),
      currencyCode: "EUR",
      lines,
    }),
  );
  await relays[0]?.flush();
  return event;
}

const factsOf = (orderId: string) =>
  pg.db.selectFrom("sales_facts").selectAll().where("order_id", "=", orderId).orderBy("product_id").execute();

const logged = (message: string, eventId: string) =>
  logs.find((log) => log.message === message && log.fields.eventId === eventId);

describe("OrderPlaced", () => {
  it("records one fact per product, merging repeated lines", async () => {
    const event = await placeOrder([
      { productId: productId(2), quantity: 1, unitPrice: 2500 },
      { productId: productId(1), quantity: 2, unitPrice: 999 },
      { productId: productId(2), quantity: 4, unitPrice: 2500 },
    ]);
    const orderId = event.payload.orderId;
    const facts = await waitFor("the facts", async () => {
      const rows = await factsOf(orderId);
      return rows.length > 0 ? rows : undefined;
    });
    const fact = {
      event_id: event.id,
      order_id: orderId,
      currency_code: "EUR",
      occurred_at: new Date(event.occurredAt),
    };
    expect(facts).toEqual([
      { ...fact, product_id: productId(1), quantity: 2, unit_price: 999 },
      { ...fact, product_id: productId(2), quantity: 5, unit_price: 2500 },
    ]);
  });

  it("ignores the same event delivered again", async () => {
    const event = await placeOrder([{ productId: productId(3), quantity: 7, unitPrice: 100 }]);
    await waitFor("the first delivery", async () =>
      (await factsOf(event.payload.orderId)).length ? true : undefined,
    );

    // The failover: the event was never marked published, and the new Redis has no job for it.
    await producer.db.updateTable("outbox").set({ published_at: null }).where("id", "=", event.id).execute();
    await relays[1]?.flush();
    await waitFor("the second delivery", () => logged("event already processed", event.id));

    expect(await factsOf(event.payload.orderId)).toEqual([
      expect.objectContaining({ event_id: event.id, product_id: productId(3), quantity: 7 }),
    ]);
    expect(
      await pg.db
        .selectFrom("processed_events")
        .select("event_type")
        .where("event_id", "=", event.id)
        .execute(),
    ).toEqual([{ event_type: "OrderPlaced" }]);
  });

  it("fails a malformed event visibly and records nothing from it", async () => {
    const event = await placeOrder([
      { productId: productId(4), quantity: 1, unitPrice: 100 },
      { productId: productId(5), quantity: 0, unitPrice: 100 },
      { productId: productId(6), quantity: 1, unitPrice: 1.5 },
    ]);
    const failure = await waitFor("the failure", () =>
      logged("event handler failed; BullMQ will retry", event.id),
    );
    expect(String(failure.fields.error)).toBe(
      `Error: OrderPlaced for order ${event.payload.orderId} is malformed: quantity 0 of ${productId(5)} is not a positive integer; unitPrice 1.5 of ${productId(6)} is not a whole amount of minor units.`,
    );
    expect(await factsOf(event.payload.orderId)).toEqual([]);
    expect(
      await pg.db.selectFrom("processed_events").where("event_id", "=", event.id).selectAll().execute(),
    ).toEqual([]);
  });
});
