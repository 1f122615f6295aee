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
  deleteRedisKeys,
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
      await deleteRedisKeys(redis, [prefix]);
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

const factsOf = async (orderId: string) => ({
  order: await pg.db.selectFrom("order_facts").selectAll().where("order_id", "=", orderId).executeTakeFirst(),
  lines: (
    await pg.db
      .selectFrom("order_line_facts")
      .selectAll()
      .where("order_id", "=", orderId)
      .orderBy("product_id")
      .execute()
  ).map((line) => ({ ...line, amount: Number(line.amount) })),
});

const logged = (message: string, eventId: string) =>
  logs.find((log) => log.message === message && log.fields.eventId === eventId);

describe("OrderPlaced", () => {
  it("records the order and one line per product, merging repeated lines, at the time it was placed", async () => {
    const event = await placeOrder([
      { productId: productId(2), quantity: 1, unitPrice: 2500, productName: "Mug", categoryId: "c1" },
      { productId: productId(1), quantity: 2, unitPrice: 999 },
      // An imported invoice may sell one product twice at two prices: the amount keeps both.
      { productId: productId(2), quantity: 4, unitPrice: 2000, productName: "Mug", categoryId: "c1" },
    ]);
    const orderId = event.payload.orderId;
    await applied(event.id);
    expect(await factsOf(orderId)).toEqual({
      order: {
        order_id: orderId,
        customer_id: event.payload.customerId,
        currency_code: "EUR",
        placed_at: new Date(event.occurredAt),
        country_code: null,
        total_amount: "12498",
        units: 7,
        historical: false,
      },
      lines: [
        // An event from before names and categories: unknown, not refused.
        {
          order_id: orderId,
          product_id: productId(1),
          category_id: null,
          product_name: null,
          quantity: 2,
          unit_price: 999,
          amount: 1998,
        },
        {
          order_id: orderId,
          product_id: productId(2),
          category_id: "c1",
          product_name: "Mug",
          quantity: 5,
          unit_price: 2500,
          amount: 10500,
        },
      ],
    });
  });

  it("records a guest's imported order with its country, at its historical time", async () => {
    const orderId = randomUUID();
    const placedAt = new Date("2011-03-04T05:06:07Z");
    const event = await producer.db.transaction().execute((trx) =>
      appendToOutbox(
        trx,
        "OrderPlaced",
        orderId,
        {
          orderId,
          customerId: null,
          currencyCode: "GBP",
          countryCode: "GB",
          historical: true,
          lines: [{ productId: productId(9), quantity: 3, unitPrice: 125 }],
        },
        { occurredAt: placedAt },
      ),
    );
    await relays[0]?.flush();
    await applied(event.id);
    expect((await factsOf(orderId)).order).toEqual({
      order_id: orderId,
      customer_id: null,
      currency_code: "GBP",
      placed_at: placedAt,
      country_code: "GB",
      total_amount: "375",
      units: 3,
      historical: true,
    });
  });

  it("ignores the same event delivered again", async () => {
    const event = await placeOrder([{ productId: productId(3), quantity: 7, unitPrice: 100 }]);
    await applied(event.id);

    // The failover: the event was never marked published, and the new Redis has no job for it.
    await producer.db.updateTable("outbox").set({ published_at: null }).where("id", "=", event.id).execute();
    await relays[1]?.flush();
    await until("the second delivery", () => logged("event already processed", event.id));

    expect((await factsOf(event.payload.orderId)).lines).toEqual([
      expect.objectContaining({ product_id: productId(3), quantity: 7 }),
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
    expect(await factsOf(event.payload.orderId)).toEqual({ order: undefined, lines: [] });
    expect(
      await pg.db.selectFrom("processed_events").where("event_id", "=", event.id).selectAll().execute(),
    ).toEqual([]);
  });
});

type OutcomeEvent = "OrderConfirmed" | "OrderCancelled" | "OrderRejected" | "OrderShipped" | "OrderDelivered";

/** Publishes what orders would after OrderPlaced, and waits until insights has applied it. */
async function settle(
  type: OutcomeEvent,
  orderId: string,
  occurredAt = new Date(),
  reason = "test",
): Promise<EventEnvelope<OutcomeEvent>> {
  const payload =
    type === "OrderCancelled" || type === "OrderRejected"
      ? { orderId, reason }
      : type === "OrderDelivered"
        ? { orderId, customerId: randomUUID(), productIds: [] }
        : { orderId };
  const event = await producer.db
    .transaction()
    .execute((trx) =>
      appendToOutbox(trx, type, orderId, payload as EventPayloads[OutcomeEvent], { occurredAt }),
    );
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
        reversal_kind: "CANCELLED",
        reversal_reason: "test",
        shipped_at: null,
        delivered_at: null,
        placed: true,
        // It was counted while it stood, and taken out again.
        counted: false,
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

describe("what became of an order", () => {
  it("records each time once, the first event's, and the first reversal's kind and reason", async () => {
    const orderId = await placed(40, 1);
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 2, 3, minute));
    await settle("OrderConfirmed", orderId, at(1));
    await settle("OrderShipped", orderId, at(2));
    await settle("OrderDelivered", orderId, at(3));
    await settle("OrderRejected", orderId, at(4), "reservation expired");
    // Later tellings of what already happened change nothing.
    await settle("OrderConfirmed", orderId, at(11));
    await settle("OrderShipped", orderId, at(12));
    await settle("OrderCancelled", orderId, at(14), "too late");
    expect(
      await pg.db.selectFrom("order_outcomes").selectAll().where("order_id", "=", orderId).executeTakeFirst(),
    ).toEqual({
      order_id: orderId,
      confirmed_at: at(1),
      shipped_at: at(2),
      delivered_at: at(3),
      reversed_at: at(4),
      reversal_kind: "REJECTED",
      reversal_reason: "reservation expired",
      placed: true,
      counted: false,
    });
  });
});

/** Publishes an OrderRefunded and waits until insights has applied it (or given up on it). */
async function refund(payload: EventPayloads["OrderRefunded"], occurredAt: Date) {
  const event = await producer.db
    .transaction()
    .execute((trx) => appendToOutbox(trx, "OrderRefunded", payload.refundId, payload, { occurredAt }));
  await relays[0]?.flush();
  return event;
}

describe("OrderRefunded", () => {
  it("records the refund and its lines at the time it was made", async () => {
    const orderId = await placed(50, 3);
    const refundId = randomUUID();
    const customerId = randomUUID();
    const at = new Date("2026-02-03T04:05:06Z");
    const event = await refund(
      {
        refundId,
        orderId,
        customerId,
        currencyCode: "EUR",
        amount: 2600,
        lines: [
          { productId: productId(50), quantity: 2, unitPrice: 1000 },
          { productId: productId(51), quantity: 1, unitPrice: 600 },
        ],
        reason: "damaged",
      },
      at,
    );
    await applied(event.id);
    expect(
      await pg.db.selectFrom("refund_facts").selectAll().where("refund_id", "=", refundId).executeTakeFirst(),
    ).toEqual({
      refund_id: refundId,
      order_id: orderId,
      customer_id: customerId,
      currency_code: "EUR",
      amount: "2600",
      refunded_at: at,
      reason: "damaged",
      historical: false,
    });
    expect(
      await pg.db
        .selectFrom("refund_line_facts")
        .select(["product_id", "quantity", "unit_price"])
        .where("refund_id", "=", refundId)
        .orderBy("product_id")
        .execute(),
    ).toEqual([
      { product_id: productId(50), quantity: 2, unit_price: 1000 },
      { product_id: productId(51), quantity: 1, unit_price: 600 },
    ]);
  });

  it("takes a partial refund of a live order, of units or of an amount, off that day's revenue and keeps the sale", async () => {
    const orderId = await placed(60, 3);
    await settle("OrderConfirmed", orderId);
    const day = new Date("2031-07-08T12:00:00Z");
    const customerId = randomUUID();
    const base = { orderId, customerId, currencyCode: "EUR", reason: "partial", restock: true };
    const units = await refund(
      {
        ...base,
        refundId: randomUUID(),
        amount: 1000,
        lines: [{ productId: productId(60), quantity: 1, unitPrice: 1000 }],
      },
      day,
    );
    const amount = await refund(
      { ...base, refundId: randomUUID(), amount: 250, lines: [], restock: false },
      day,
    );
    await applied(units.id);
    await applied(amount.id);

    expect(
      await pg.db
        .selectFrom("daily_sales")
        .select(["refunds", "refunded_amount"])
        .where("currency_code", "=", "EUR")
        .where("day", "=", "2031-07-08")
        .execute(),
    ).toEqual([{ refunds: 2, refunded_amount: "1250" }]);
    // Only the refund of units names a product; the refund of an amount gives back money alone.
    expect(
      await pg.db
        .selectFrom("daily_product_sales")
        .select(["product_id", "returned_units", "refunded_amount"])
        .where("currency_code", "=", "EUR")
        .where("day", "=", "2031-07-08")
        .execute(),
    ).toEqual([{ product_id: productId(60), returned_units: "1", refunded_amount: "1000" }]);
    // The order is still a sale: a partial refund is not a cancellation.
    expect(await unitsSold(60)).toBeGreaterThan(0);
    expect(
      await pg.db
        .selectFrom("order_outcomes")
        .select(["counted", "reversed_at"])
        .where("order_id", "=", orderId)
        .execute(),
    ).toEqual([{ counted: true, reversed_at: null }]);
  });

  it("fails a refund whose amount is not its lines' total, recording nothing", async () => {
    const refundId = randomUUID();
    const event = await refund(
      {
        refundId,
        orderId: null,
        customerId: null,
        currencyCode: "EUR",
        amount: 999,
        lines: [{ productId: productId(52), quantity: 1, unitPrice: 1000 }],
        reason: "returned",
        historical: true,
      },
      new Date(),
    );
    const failure = await until("the failure", () =>
      logged("event handler failed; BullMQ will retry", event.id),
    );
    expect(String(failure.fields.error)).toBe(
      `Error: OrderRefunded ${refundId} is malformed: amount 999 is not the lines' total 1000.`,
    );
    expect(
      await pg.db.selectFrom("refund_facts").where("refund_id", "=", refundId).selectAll().execute(),
    ).toEqual([]);
  });
});

describe("CartUpdated", () => {
  const customerId = randomUUID();
  const cartAt = (minute: number) => new Date(Date.UTC(2026, 0, 5, 10, minute));

  async function cart(minute: number, lines: EventPayloads["CartUpdated"]["lines"]) {
    const event = await producer.db
      .transaction()
      .execute((trx) =>
        appendToOutbox(
          trx,
          "CartUpdated",
          customerId,
          { customerId, currencyCode: lines.length > 0 ? "EUR" : null, lines },
          { occurredAt: cartAt(minute) },
        ),
      );
    await relays[0]?.flush();
    await applied(event.id);
  }

  const kept = () =>
    pg.db
      .selectFrom("cart_facts")
      .select(["currency_code", "line_count", "units", "value_amount", "lines", "updated_at"])
      .where("customer_id", "=", customerId)
      .executeTakeFirst();

  it("keeps the newest cart: a late older change neither overwrites it nor brings an emptied one back", async () => {
    const mug = { productId: productId(60), quantity: 2, unitPrice: 1500 };
    const gone = { productId: productId(61), quantity: 1, unitPrice: null };
    await cart(10, [mug, gone]);
    expect(await kept()).toEqual({
      currency_code: "EUR",
      line_count: 2,
      units: 3,
      value_amount: "3000",
      lines: [mug, gone],
      updated_at: cartAt(10),
    });
    // Delivered late: the change from minute 5 happened before the one recorded.
    await cart(5, [{ ...mug, quantity: 9 }]);
    expect(await kept()).toMatchObject({ units: 3, updated_at: cartAt(10) });
    // Emptied at minute 20: a row without lines remembers when.
    await cart(20, []);
    const emptied = {
      currency_code: null,
      line_count: 0,
      units: 0,
      value_amount: "0",
      lines: [],
      updated_at: cartAt(20),
    };
    expect(await kept()).toEqual(emptied);
    await cart(15, [mug]);
    expect(await kept()).toEqual(emptied);
    await cart(25, [mug]);
    expect(await kept()).toMatchObject({ line_count: 1, units: 2, updated_at: cartAt(25) });
  });
});
