import { randomUUID } from "node:crypto";
import {
  appendToOutbox,
  createOutboxMigration,
  createProcessedEventsMigration,
  type EventConsumer,
  type EventEnvelope,
  type OutboxDatabase,
  type OutboxRelay,
  type ProcessedEventsDatabase,
  startEventConsumer,
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
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { createStockLoaders } from "../stock/stock.loaders.ts";
import { insertInitialStock } from "../stock/stock.repository.ts";
import { startInventoryConsumer } from "./inventory.consumer.ts";

/**
 * Drives the consumer through real BullMQ queues under a prefix of its own. A stand-in for
 * orders (its own database with an outbox, relay and `orders` consumer) places orders the way
 * the orders subgraph does and records the decisions inventory publishes to `events.orders`.
 */

type PeerDatabase = OutboxDatabase & ProcessedEventsDatabase;
type Decision = EventEnvelope<"InventoryReserved" | "InventoryRejected">;

const prefix = testRedisPrefix("inventory");
let pg: TestPostgres<Database>;
let peer: TestPostgres<PeerDatabase>;
let redis: Awaited<ReturnType<typeof connectRedis>>;
let relay: OutboxRelay;
let peerRelay: OutboxRelay;
let consumer: EventConsumer;
let peerConsumer: EventConsumer;
const decisions: Decision[] = [];
const { logger: recordingLogger, logs } = createRecordingLogger();
/** Makes the consumer's next post-commit flush fail, as when Redis drops mid-job. */
let failNextFlush = false;

beforeAll(async () => {
  pg = await createTestPostgres<Database>("inventory_events", migrations);
  peer = await createTestPostgres<PeerDatabase>("inventory_peer", {
    "0001_outbox": createOutboxMigration,
    "0002_processed_events": createProcessedEventsMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
  const logger = recordingLogger;

  relay = startOutboxRelay({ db: pg.db, redis, prefix, logger, pollIntervalMs: 100 });
  consumer = startInventoryConsumer({
    db: pg.db,
    redis,
    prefix,
    logger,
    reservationTtlSeconds: 900,
    alerts: { lowStockThreshold: 5 },
    relay: {
      flush: async () => {
        if (failNextFlush) {
          failNextFlush = false;
          throw new Error("Redis connection lost");
        }
        return relay.flush();
      },
    },
  });

  peerRelay = startOutboxRelay({ db: peer.db, redis, prefix, logger, pollIntervalMs: 60_000 });
  peerConsumer = startEventConsumer({
    consumer: "orders",
    db: peer.db,
    redis,
    prefix,
    logger,
    handlers: {
      InventoryReserved: async (_trx, event) => {
        decisions.push(event);
      },
      InventoryRejected: async (_trx, event) => {
        decisions.push(event);
      },
    },
  });
});

afterAll(async () => {
  await consumer?.stop();
  await peerConsumer?.stop();
  await relay?.stop();
  await peerRelay?.stop();
  if (redis) {
    await deleteRedisKeys(redis, [prefix]);
    await redis.quit();
  }
  await pg?.drop();
  await peer?.drop();
});

beforeEach(async () => {
  await sql`TRUNCATE stock_movements, reservations, order_reservations, stock_levels, outbox`.execute(pg.db);
});

const productId = (n: number) => n.toString(16).padStart(24, "0");

/** Places orders the way the orders subgraph does: outbox rows in one transaction, then a relay flush. */
async function placeOrders(...orders: { productId: string; quantity: number }[][]) {
  const events = await peer.db.transaction().execute(async (trx) => {
    const placed: EventEnvelope<"OrderPlaced">[] = [];
    for (const lines of orders) {
      const orderId = randomUUID();
      placed.push(
        await appendToOutbox(trx, "OrderPlaced", orderId, {
          orderId,
          customerId: randomUUID(),
          currencyCode: "USD",
          lines: lines.map((line) => ({ ...line, unitPrice: 1999 })),
        }),
      );
    }
    return placed;
  });
  await peerRelay.flush();
  return events;
}

const decisionFor = (orderId: string) =>
  until(`a decision on ${orderId}`, () => decisions.find((event) => event.aggregateId === orderId));

async function stockRows() {
  return pg.db
    .selectFrom("stock_levels")
    .select(["product_id", "on_hand", "reserved"])
    .orderBy("product_id")
    .execute();
}

async function ledger() {
  return pg.db
    .selectFrom("stock_movements")
    .select(["product_id", "on_hand_delta", "reserved_delta", "reason", "order_id"])
    .orderBy("id")
    .execute();
}

describe("OrderPlaced", () => {
  it("reserves every line, writes the ledger and publishes InventoryReserved to events.orders", async () => {
    await insertInitialStock(pg.db, [
      { productId: productId(1), onHand: 5 },
      { productId: productId(2), onHand: 3 },
    ]);
    const [placed] = await placeOrders([
      { productId: productId(1), quantity: 2 },
      { productId: productId(2), quantity: 3 },
    ]);
    const orderId = placed?.payload.orderId ?? "";

    const decision = await decisionFor(orderId);
    const [outboxRow] = await pg.db
      .selectFrom("outbox")
      .selectAll()
      .where("type", "=", "InventoryReserved")
      .execute();
    expect(decision).toEqual({
      id: outboxRow?.id,
      type: "InventoryReserved",
      aggregateId: orderId,
      occurredAt: outboxRow?.occurred_at.toISOString(),
      payload: { orderId },
    });
    expect(outboxRow?.published_at).toBeInstanceOf(Date);

    expect(await stockRows()).toEqual([
      { product_id: productId(1), on_hand: 5, reserved: 2 },
      { product_id: productId(2), on_hand: 3, reserved: 3 },
    ]);
    expect(
      await createStockLoaders(pg.db, { lowStockThreshold: 2 }).stockByProductId.loadMany([
        productId(1),
        productId(2),
      ]),
    ).toEqual([
      {
        productId: productId(1),
        available: 3,
        inStock: true,
        lowStock: false,
        onHand: 5,
        reserved: 2,
        lowStockThreshold: 2,
      },
      {
        productId: productId(2),
        available: 0,
        inStock: false,
        lowStock: true,
        onHand: 3,
        reserved: 3,
        lowStockThreshold: 2,
      },
    ]);
    expect(
      await pg.db
        .selectFrom("reservations")
        .select(["order_id", "product_id", "quantity", "status"])
        .orderBy("product_id")
        .execute(),
    ).toEqual([
      { order_id: orderId, product_id: productId(1), quantity: 2, status: "RESERVED" },
      { order_id: orderId, product_id: productId(2), quantity: 3, status: "RESERVED" },
    ]);
    expect(await ledger()).toEqual([
      { product_id: productId(1), on_hand_delta: 5, reserved_delta: 0, reason: "SEED", order_id: null },
      { product_id: productId(2), on_hand_delta: 3, reserved_delta: 0, reason: "SEED", order_id: null },
      {
        product_id: productId(1),
        on_hand_delta: 0,
        reserved_delta: 2,
        reason: "RESERVATION",
        order_id: orderId,
      },
      {
        product_id: productId(2),
        on_hand_delta: 0,
        reserved_delta: 3,
        reason: "RESERVATION",
        order_id: orderId,
      },
    ]);
    expect(
      await pg.db
        .selectFrom("processed_events")
        .select(["event_id", "event_type"])
        .where("event_id", "=", placed?.id ?? "")
        .execute(),
    ).toEqual([{ event_id: placed?.id, event_type: "OrderPlaced" }]);
  });

  it("reserves nothing when any line is short, and names each short line in InventoryRejected", async () => {
    await insertInitialStock(pg.db, [
      { productId: productId(1), onHand: 5 },
      { productId: productId(2), onHand: 1 },
    ]);
    const [placed] = await placeOrders([
      { productId: productId(1), quantity: 2 },
      { productId: productId(2), quantity: 2 },
      { productId: productId(3), quantity: 1 },
    ]);
    const orderId = placed?.payload.orderId ?? "";

    expect(await decisionFor(orderId)).toMatchObject({
      type: "InventoryRejected",
      aggregateId: orderId,
      payload: {
        orderId,
        lines: [
          { productId: productId(2), requested: 2, available: 1 },
          { productId: productId(3), requested: 1, available: 0 },
        ],
      },
    });
    expect(await stockRows()).toEqual([
      { product_id: productId(1), on_hand: 5, reserved: 0 },
      { product_id: productId(2), on_hand: 1, reserved: 0 },
    ]);
    expect(await pg.db.selectFrom("reservations").selectAll().execute()).toEqual([]);
    expect(await ledger()).toEqual([
      { product_id: productId(1), on_hand_delta: 5, reserved_delta: 0, reason: "SEED", order_id: null },
      { product_id: productId(2), on_hand_delta: 1, reserved_delta: 0, reason: "SEED", order_id: null },
    ]);
    expect(await pg.db.selectFrom("outbox").select("type").execute()).toEqual([
      { type: "InventoryRejected" },
    ]);
  });

  it("gives the last units to exactly one of two orders placed together", async () => {
    await insertInitialStock(pg.db, [{ productId: productId(1), onHand: 3 }]);
    const placed = await placeOrders(
      [{ productId: productId(1), quantity: 2 }],
      [{ productId: productId(1), quantity: 2 }],
    );

    const outcomes = await Promise.all(placed.map((event) => decisionFor(event.payload.orderId)));
    expect(outcomes.map((event) => event.type).sort()).toEqual(["InventoryRejected", "InventoryReserved"]);
    expect(outcomes.find((event) => event.type === "InventoryRejected")?.payload).toMatchObject({
      lines: [{ productId: productId(1), requested: 2, available: 1 }],
    });
    expect(await stockRows()).toEqual([{ product_id: productId(1), on_hand: 3, reserved: 2 }]);
    expect(await pg.db.selectFrom("reservations").select("quantity").execute()).toEqual([{ quantity: 2 }]);
  });

  it("reserves once when BullMQ delivers the same event again after a failed attempt", async () => {
    await insertInitialStock(pg.db, [{ productId: productId(1), onHand: 5 }]);
    failNextFlush = true;
    const [placed] = await placeOrders([{ productId: productId(1), quantity: 2 }]);
    const eventId = placed?.id ?? "";
    const orderId = placed?.payload.orderId ?? "";

    // First attempt: reserved and committed, then the flush fails and BullMQ schedules a retry.
    // Second attempt: the event id is already recorded, so nothing happens again.
    await until("the redelivery", () =>
      logs.find((log) => log.message === "event already processed" && log.fields.eventId === eventId),
    );
    expect(logs.filter((log) => log.level === "warn" && log.fields.eventId === eventId)).toHaveLength(1);
    // The relay's poll publishes the decision the failed flush did not.
    await decisionFor(orderId);

    expect(await stockRows()).toEqual([{ product_id: productId(1), on_hand: 5, reserved: 2 }]);
    expect(await pg.db.selectFrom("reservations").select(["order_id", "quantity"]).execute()).toEqual([
      { order_id: orderId, quantity: 2 },
    ]);
    expect((await ledger()).filter((row) => row.reason === "RESERVATION")).toHaveLength(1);
    // Reserving 2 of 5 also left product 1 low (3 <= 5): that alert was written once as well.
    expect(await pg.db.selectFrom("outbox").select("type").orderBy("type").execute()).toEqual([
      { type: "InventoryReserved" },
      { type: "StockLow" },
    ]);
    expect(decisions.filter((event) => event.aggregateId === orderId)).toHaveLength(1);
  });
});

describe("orders inventory holds no reservation for", () => {
  /** Publishes events the way orders does and waits until the consumer has committed each. */
  async function publishAndProcess(
    ...events: (
      | { type: "OrderPlaced"; payload: EventEnvelope<"OrderPlaced">["payload"] }
      | { type: "OrderConfirmed" | "OrderShipped"; payload: { orderId: string } }
      | { type: "OrderCancelled"; payload: { orderId: string; reason: string } }
    )[]
  ) {
    const written = await peer.db.transaction().execute(async (trx) => {
      const envelopes: EventEnvelope[] = [];
      for (const event of events) {
        envelopes.push(await appendToOutbox(trx, event.type, event.payload.orderId, event.payload));
      }
      return envelopes;
    });
    await peerRelay.flush();
    const ids = written.map((event) => event.id);
    await until("the consumer to process every event", async () => {
      const rows = await pg.db
        .selectFrom("processed_events")
        .select("event_id")
        .where("event_id", "in", ids)
        .execute();
      return rows.length === ids.length ? rows : undefined;
    });
  }

  it("reserves nothing for a historical OrderPlaced and ignores its OrderConfirmed, OrderShipped and OrderCancelled", async () => {
    await insertInitialStock(pg.db, [{ productId: productId(1), onHand: 5 }]);
    const imported: string = randomUUID();
    const never: string = randomUUID();
    await publishAndProcess(
      {
        type: "OrderPlaced",
        payload: {
          orderId: imported,
          customerId: null,
          currencyCode: "GBP",
          historical: true,
          lines: [{ productId: productId(1), quantity: 2, unitPrice: 255 }],
        },
      },
      { type: "OrderConfirmed", payload: { orderId: imported } },
      { type: "OrderShipped", payload: { orderId: imported } },
      { type: "OrderCancelled", payload: { orderId: imported, reason: "late" } },
      // An order inventory never heard of at all.
      { type: "OrderConfirmed", payload: { orderId: never } },
      { type: "OrderShipped", payload: { orderId: never } },
      { type: "OrderCancelled", payload: { orderId: never, reason: "late" } },
    );

    expect(await stockRows()).toEqual([{ product_id: productId(1), on_hand: 5, reserved: 0 }]);
    expect(await pg.db.selectFrom("order_reservations").selectAll().execute()).toEqual([]);
    expect(await ledger()).toEqual([
      { product_id: productId(1), on_hand_delta: 5, reserved_delta: 0, reason: "SEED", order_id: null },
    ]);
    // No InventoryReserved or InventoryRejected: the orders saga hears nothing about them.
    expect(await pg.db.selectFrom("outbox").select("type").execute()).toEqual([]);
    expect(decisions.filter((event) => [imported, never].includes(event.aggregateId))).toEqual([]);

    // The same order placed live would have been reserved.
    const [live] = await placeOrders([{ productId: productId(1), quantity: 2 }]);
    expect((await decisionFor(live?.payload.orderId ?? "")).type).toBe("InventoryReserved");
  });
});

describe("OrderRefunded", () => {
  /** Publishes a refund the way orders does and waits until the consumer has committed it. */
  async function refunded(changes: Partial<EventEnvelope<"OrderRefunded">["payload"]>) {
    const refundId = randomUUID();
    const event = await peer.db.transaction().execute((trx) =>
      appendToOutbox(trx, "OrderRefunded", refundId, {
        refundId,
        orderId: randomUUID(),
        customerId: randomUUID(),
        currencyCode: "USD",
        amount: 0,
        lines: [],
        reason: "returned",
        ...changes,
      }),
    );
    await peerRelay.flush();
    await until("the refund to be processed", () =>
      pg.db
        .selectFrom("processed_events")
        .select("event_id")
        .where("event_id", "=", event.id)
        .executeTakeFirst(),
    );
    return event;
  }

  it("puts restocked units back on hand once, with a RETURN movement, even when the event comes again", async () => {
    await insertInitialStock(pg.db, [
      { productId: productId(1), onHand: 5 },
      { productId: productId(2), onHand: 0 },
    ]);
    failNextFlush = true;
    const event = await refunded({
      amount: 3500,
      restock: true,
      lines: [
        { productId: productId(1), quantity: 2, unitPrice: 1000 },
        { productId: productId(2), quantity: 1, unitPrice: 1000 },
        // Inventory keeps no stock for this one: nothing is made up for it.
        { productId: productId(9), quantity: 1, unitPrice: 500 },
      ],
    });
    // The first attempt committed, its flush failed, and BullMQ delivered the event again.
    await until("the redelivery", () =>
      logs.find((log) => log.message === "event already processed" && log.fields.eventId === event.id),
    );

    expect(await stockRows()).toEqual([
      { product_id: productId(1), on_hand: 7, reserved: 0 },
      { product_id: productId(2), on_hand: 1, reserved: 0 },
    ]);
    expect((await ledger()).filter((row) => row.reason === "RETURN")).toEqual([
      {
        product_id: productId(1),
        on_hand_delta: 2,
        reserved_delta: 0,
        reason: "RETURN",
        order_id: event.payload.orderId,
      },
      {
        product_id: productId(2),
        on_hand_delta: 1,
        reserved_delta: 0,
        reason: "RETURN",
        order_id: event.payload.orderId,
      },
    ]);
    // Product 2 had none available: back in stock, announced once.
    expect(await pg.db.selectFrom("outbox").select(["type", "aggregate_id"]).execute()).toEqual([
      { type: "ProductBackInStock", aggregate_id: productId(2) },
    ]);
    expect(
      logs.find((log) => log.message === "returned units of products without stock were not restocked")
        ?.fields,
    ).toMatchObject({ refundId: event.payload.refundId, productIds: [productId(9)] });
  });

  it("leaves stock alone for a refund not restocked, an amount, or an imported return", async () => {
    await insertInitialStock(pg.db, [{ productId: productId(1), onHand: 5 }]);
    const lines = [{ productId: productId(1), quantity: 2, unitPrice: 1000 }];
    await refunded({ amount: 2000, lines });
    await refunded({ amount: 2000, lines, restock: false });
    await refunded({ amount: 2000, lines, restock: true, historical: true });
    await refunded({ amount: 700, lines: [], restock: true });
    expect(await stockRows()).toEqual([{ product_id: productId(1), on_hand: 5, reserved: 0 }]);
    expect((await ledger()).map((row) => row.reason)).toEqual(["SEED"]);
  });
});

describe("OrderShipped in parcels", () => {
  /** Publishes one event the way orders does and waits until the consumer has committed it. */
  async function publish<T extends "OrderConfirmed" | "OrderShipped" | "OrderCancelled">(
    type: T,
    payload: EventEnvelope<T>["payload"],
  ) {
    const event = await peer.db
      .transaction()
      .execute((trx) => appendToOutbox(trx, type, payload.orderId, payload as never));
    await peerRelay.flush();
    await until(`${type} to be processed`, () =>
      pg.db
        .selectFrom("processed_events")
        .select("event_id")
        .where("event_id", "=", event.id)
        .executeTakeFirst(),
    );
  }

  it("commits each parcel's units only, and a cancel then releases what is left", async () => {
    await insertInitialStock(pg.db, [
      { productId: productId(1), onHand: 10 },
      { productId: productId(2), onHand: 10 },
    ]);
    const [placed] = await placeOrders([
      { productId: productId(1), quantity: 4 },
      { productId: productId(2), quantity: 2 },
    ]);
    const orderId = placed?.payload.orderId ?? "";
    await decisionFor(orderId);
    await publish("OrderConfirmed", { orderId });

    await publish("OrderShipped", { orderId, lines: [{ productId: productId(1), quantity: 3 }] });
    expect(await stockRows()).toEqual([
      { product_id: productId(1), on_hand: 7, reserved: 1 },
      { product_id: productId(2), on_hand: 10, reserved: 2 },
    ]);
    await publish("OrderShipped", { orderId, lines: [{ productId: productId(2), quantity: 1 }] });
    await publish("OrderCancelled", { orderId, reason: "the rest is lost" });
    expect(await stockRows()).toEqual([
      { product_id: productId(1), on_hand: 7, reserved: 0 },
      { product_id: productId(2), on_hand: 9, reserved: 0 },
    ]);
    expect(
      (await ledger())
        .filter((row) => row.order_id === orderId)
        .map((row) => [row.reason, row.product_id, row.on_hand_delta, row.reserved_delta]),
    ).toEqual([
      ["RESERVATION", productId(1), 0, 4],
      ["RESERVATION", productId(2), 0, 2],
      ["SHIPMENT", productId(1), -3, -3],
      ["SHIPMENT", productId(2), -1, -1],
      ["RELEASE", productId(1), 0, -1],
      ["RELEASE", productId(2), 0, -1],
    ]);
  });
});
