import { randomUUID } from "node:crypto";
import {
  appendToOutbox,
  createOutboxMigration,
  type EventConsumer,
  type EventEnvelope,
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
  until,
} from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { findTopProducts } from "../sales/sales.repository.ts";
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
    const facts = await until("the facts", async () => {
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
    await until("the first delivery", async () =>
      (await factsOf(event.payload.orderId)).length ? true : undefined,
    );

    // The failover: the event was never marked published, and the new Redis has no job for it.
    await producer.db.updateTable("outbox").set({ published_at: null }).where("id", "=", event.id).execute();
    await relays[1]?.flush();
    await until("the second delivery", () => logged("event already processed", event.id));

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
    const failure = await until("the failure", () =>
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

type OutcomeEvent = "OrderConfirmed" | "OrderCancelled" | "OrderRejected";

/** Publishes what orders would after OrderPlaced, and waits until insights has applied it. */
async function settle(type: OutcomeEvent, orderId: string): Promise<EventEnvelope<OutcomeEvent>> {
  const payload = type === "OrderConfirmed" ? { orderId } : { orderId, reason: "test" };
  const event = await producer.db
    .transaction()
    .execute((trx) => appendToOutbox(trx, type, orderId, payload as EventPayloads[OutcomeEvent]));
  await relays[0]?.flush();
  await applied(event.id);
  return event;
}

const applied = (eventId: string) =>
  until(`event ${eventId} to be applied`, async () =>
    (await pg.db
      .selectFrom("processed_events")
      .select("event_id")
      .where("event_id", "=", eventId)
      .executeTakeFirst())
      ? true
      : undefined,
  );

/** Places an order of `quantity` units of product `n` and waits until its facts are recorded. */
async function placed(n: number, quantity: number, orderId: string = randomUUID()): Promise<string> {
  const event = await placeOrder([{ productId: productId(n), quantity, unitPrice: 1000 }], orderId);
  await applied(event.id);
  return orderId;
}

/** Units sold of product `n` as `topProducts` counts them; 0 when it is not ranked at all. */
async function unitsSold(n: number): Promise<number> {
  const rows = await findTopProducts(pg.db, 100);
  return rows.find((row) => row.product_id === productId(n))?.units_sold ?? 0;
}

describe("what counts as a sale", () => {
  it("counts a confirmed order, and neither one never confirmed nor one rejected", async () => {
    await settle("OrderConfirmed", await placed(10, 3));
    // Rejected by inventory (out of stock): orders publishes no outcome, so it stays unconfirmed.
    await placed(11, 5);
    // Payment declined after the reservation: OrderRejected without a confirmation.
    await settle("OrderRejected", await placed(12, 2));
    expect([await unitsSold(10), await unitsSold(11), await unitsSold(12)]).toEqual([3, 0, 0]);
  });

  it("takes a cancelled or refunded order back out, whatever order the events are handled in", async () => {
    const cancelled = await placed(20, 4);
    await settle("OrderConfirmed", cancelled);
    expect(await unitsSold(20)).toBe(4);
    await settle("OrderCancelled", cancelled);
    expect(await unitsSold(20)).toBe(0);

    // Confirmed, then refunded because inventory let the reservation lapse (OrderRejected).
    const refunded = await placed(21, 6);
    await settle("OrderConfirmed", refunded);
    await settle("OrderRejected", refunded);
    expect(await unitsSold(21)).toBe(0);

    // The confirmation retried until after the cancellation: still not a sale.
    const late = await placed(22, 1);
    await settle("OrderCancelled", late);
    await settle("OrderConfirmed", late);
    expect(await unitsSold(22)).toBe(0);

    // The confirmation handled before the OrderPlaced it follows (that one was being retried).
    const early = randomUUID();
    await settle("OrderConfirmed", early);
    expect(await unitsSold(23)).toBe(0);
    await placed(23, 7, early);
    expect(await unitsSold(23)).toBe(7);
  });

  it("changes nothing when every event of an order is delivered again", async () => {
    const orderId = await placed(30, 2);
    const confirmed = await settle("OrderConfirmed", orderId);
    const kept = await placed(31, 5);
    await settle("OrderConfirmed", kept);
    await settle("OrderCancelled", orderId);
    const before = await pg.db
      .selectFrom("order_outcomes")
      .selectAll()
      .where("order_id", "=", orderId)
      .execute();
    expect([await unitsSold(30), await unitsSold(31)]).toEqual([0, 5]);

    // The failover: every event published again, to a Redis that forgot them.
    await producer.db
      .updateTable("outbox")
      .set({ published_at: null })
      .where("aggregate_id", "in", [orderId, kept])
      .execute();
    await relays[1]?.flush();
    await until("the redeliveries", () => logged("event already processed", confirmed.id));
    // And a confirmation published twice under two ids (no producer does, but no harm if one did).
    await settle("OrderConfirmed", kept);

    expect([await unitsSold(30), await unitsSold(31)]).toEqual([0, 5]);
    expect(
      await pg.db.selectFrom("order_outcomes").selectAll().where("order_id", "=", orderId).execute(),
    ).toEqual(before);
    expect(before).toEqual([
      {
        order_id: orderId,
        confirmed_at: new Date(confirmed.occurredAt),
        reversed_at: expect.any(Date),
      },
    ]);
  });

  it("fails an outcome event without an order id visibly, recording nothing", async () => {
    const event = await producer.db
      .transaction()
      .execute((trx) => appendToOutbox(trx, "OrderConfirmed", "not-a-uuid", { orderId: "not-a-uuid" }));
    await relays[0]?.flush();
    const failure = await until("the failure", () =>
      logged("event handler failed; BullMQ will retry", event.id),
    );
    expect(String(failure.fields.error)).toBe(
      `Error: OrderConfirmed ${event.id} is malformed: orderId is not a UUID.`,
    );
    expect(
      await pg.db.selectFrom("processed_events").where("event_id", "=", event.id).selectAll().execute(),
    ).toEqual([]);
  });
});
