import { randomUUID } from "node:crypto";
import {
  appendToOutbox,
  createOutboxMigration,
  createProcessedEventsMigration,
  type EventConsumer,
  type EventEnvelope,
  type EventPayloads,
  type EventType,
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
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { startReservationSweeper } from "../reservation/reservation.sweeper.ts";
import { findLedgerMismatches, insertInitialStock } from "../stock/stock.repository.ts";
import { startInventoryConsumer } from "./inventory.consumer.ts";

/**
 * The stock side of the saga under contention, through real BullMQ queues: three inventory
 * consumer replicas with 8 concurrent jobs each against one product, and a stand-in for orders
 * (its own outbox, relay and `orders` consumer) that places, confirms, cancels and ships.
 */

type PeerDatabase = OutboxDatabase & ProcessedEventsDatabase;
const PRODUCT = "0000000000000000000000aa";
const prefix = testRedisPrefix("inventory-saga");
const { logger } = createRecordingLogger();
let pg: TestPostgres<Database>;
let peer: TestPostgres<PeerDatabase>;
let redis: Awaited<ReturnType<typeof connectRedis>>;
let relay: OutboxRelay;
let peerRelay: OutboxRelay;
const consumers: EventConsumer[] = [];
const received: EventEnvelope[] = [];

beforeAll(async () => {
  pg = await createTestPostgres<Database>("inventory_saga", migrations);
  peer = await createTestPostgres<PeerDatabase>("inventory_saga_orders", {
    "0001_outbox": createOutboxMigration,
    "0002_processed_events": createProcessedEventsMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
  relay = startOutboxRelay({ db: pg.db, redis, prefix, logger, pollIntervalMs: 100 });
  for (let replica = 0; replica < 3; replica++) {
    consumers.push(
      startInventoryConsumer({
        db: pg.db,
        redis,
        prefix,
        logger,
        relay,
        reservationTtlSeconds: 900,
        alerts: { lowStockThreshold: 5 },
        concurrency: 8,
      }),
    );
  }
  peerRelay = startOutboxRelay({ db: peer.db, redis, prefix, logger, pollIntervalMs: 60_000 });
  const record = async (_trx: unknown, event: EventEnvelope) => {
    received.push(event);
  };
  consumers.push(
    startEventConsumer({
      consumer: "orders",
      db: peer.db,
      redis,
      prefix,
      logger,
      concurrency: 8,
      handlers: { InventoryReserved: record, InventoryRejected: record, ReservationExpired: record },
    }),
  );
});

afterAll(async () => {
  await Promise.all(consumers.map((consumer) => consumer.stop()));
  await relay?.stop();
  await peerRelay?.stop();
  if (redis) {
    await deleteRedisKeys(redis, [prefix]);
    await redis.quit();
  }
  await pg?.drop();
  await peer?.drop();
});

async function publish<T extends EventType>(
  type: T,
  payloads: EventPayloads[T][],
  aggregate: (p: EventPayloads[T]) => string,
) {
  await peer.db.transaction().execute(async (trx) => {
    for (const payload of payloads) await appendToOutbox(trx, type, aggregate(payload), payload);
  });
  await peerRelay.flush();
}

/** The saga runs hundreds of events through three replicas: it may take longer than one check. */
const SETTLE = { timeoutMs: 30_000 };

const ofType = (type: EventType) => received.filter((event) => event.type === type);

async function level() {
  return pg.db
    .selectFrom("stock_levels")
    .select(["on_hand", "reserved"])
    .where("product_id", "=", PRODUCT)
    .executeTakeFirstOrThrow();
}

async function reservationsByStatus() {
  const rows = await pg.db
    .selectFrom("order_reservations")
    .select(["status", sql<number>`count(*)::int`.as("count")])
    .groupBy("status")
    .orderBy("status")
    .execute();
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

describe("the stock side of the saga", () => {
  const orderIds = Array.from({ length: 200 }, () => randomUUID());
  let reserved: string[] = [];

  it("reserves exactly 50 of 200 concurrent one-unit orders for 50 units, never below zero", async () => {
    await insertInitialStock(pg.db, [{ productId: PRODUCT, onHand: 50 }]);
    let lowest = 50;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const { on_hand, reserved } = await level();
        lowest = Math.min(lowest, on_hand - reserved);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    await publish(
      "OrderPlaced",
      orderIds.map((orderId) => ({
        orderId,
        customerId: randomUUID(),
        currencyCode: "USD",
        lines: [{ productId: PRODUCT, quantity: 1, unitPrice: 1999 }],
      })),
      (payload) => payload.orderId,
    );
    await until("200 decisions", () => received.length >= 200, SETTLE);
    watching = false;
    await watcher;

    expect(ofType("InventoryReserved")).toHaveLength(50);
    expect(ofType("InventoryRejected")).toHaveLength(150);
    expect(new Set(received.map((event) => event.aggregateId)).size).toBe(200);
    for (const event of ofType("InventoryRejected")) {
      expect(event.payload).toEqual({
        orderId: event.aggregateId,
        lines: [{ productId: PRODUCT, requested: 1, available: 0 }],
      });
    }
    expect(lowest).toBeGreaterThanOrEqual(0);
    expect(await level()).toEqual({ on_hand: 50, reserved: 50 });
    expect(await reservationsByStatus()).toEqual({ RESERVED: 50 });
    expect(await findLedgerMismatches(pg.db)).toEqual([]);
    reserved = ofType("InventoryReserved").map((event) => event.aggregateId);
  });

  it("confirms, releases cancelled orders, commits shipped ones and expires the unconfirmed, books balanced", async () => {
    expect(reserved).toHaveLength(50);
    const confirmed = reserved.slice(0, 20);
    const cancelled = confirmed.slice(0, 10);
    const shipped = confirmed.slice(10);
    const unconfirmed = reserved.slice(20);

    await publish(
      "OrderConfirmed",
      confirmed.map((orderId) => ({ orderId })),
      (p) => p.orderId,
    );
    await until("20 confirmations", async () => (await reservationsByStatus()).CONFIRMED === 20, SETTLE);
    await publish(
      "OrderCancelled",
      cancelled.map((orderId) => ({ orderId, reason: "changed my mind" })),
      (p) => p.orderId,
    );
    await publish(
      "OrderShipped",
      shipped.map((orderId) => ({ orderId })),
      (p) => p.orderId,
    );
    // A cancel repeated under a new event id, and one for an order inventory rejected: no-ops.
    await publish("OrderCancelled", [{ orderId: cancelled[0] ?? "", reason: "again" }], (p) => p.orderId);
    const rejected = ofType("InventoryRejected")[0]?.aggregateId ?? "";
    await publish("OrderRejected", [{ orderId: rejected, reason: "payment declined" }], (p) => p.orderId);
    await until(
      "cancellations and shipments",
      async () => {
        const byStatus = await reservationsByStatus();
        return byStatus.RELEASED === 10 && byStatus.COMMITTED === 10;
      },
      SETTLE,
    );
    expect(await level()).toEqual({ on_hand: 40, reserved: 30 });

    // The 30 unconfirmed reservations run out of time.
    await pg.db
      .updateTable("order_reservations")
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where("order_id", "in", unconfirmed)
      .execute();
    const sweeper = startReservationSweeper({
      db: pg.db,
      logger,
      relay,
      intervalMs: 60_000,
      alerts: { lowStockThreshold: 5 },
    });
    try {
      expect((await sweeper.sweep()).sort()).toEqual([...unconfirmed].sort());
    } finally {
      await sweeper.stop();
    }
    await until("30 expiry notices", () => ofType("ReservationExpired").length === 30, SETTLE);
    expect(
      ofType("ReservationExpired")
        .map((event) => event.aggregateId)
        .sort(),
    ).toEqual([...unconfirmed].sort());

    await until(
      "quiet queues",
      async () =>
        (await pg.db.selectFrom("processed_events").select("event_id").execute()).length ===
        200 + 20 + 10 + 10 + 2,
      SETTLE,
    );
    expect(await level()).toEqual({ on_hand: 40, reserved: 0 });
    expect(await reservationsByStatus()).toEqual({ COMMITTED: 10, EXPIRED: 30, RELEASED: 10 });
    expect(await findLedgerMismatches(pg.db)).toEqual([]);
    const byReason = await pg.db
      .selectFrom("stock_movements")
      .select([
        "reason",
        sql<number>`sum(on_hand_delta)::int`.as("on_hand"),
        sql<number>`sum(reserved_delta)::int`.as("reserved"),
      ])
      .groupBy("reason")
      .orderBy("reason")
      .execute();
    expect(byReason).toEqual([
      { reason: "EXPIRY", on_hand: 0, reserved: -30 },
      { reason: "RELEASE", on_hand: 0, reserved: -10 },
      { reason: "RESERVATION", on_hand: 0, reserved: 50 },
      { reason: "SEED", on_hand: 50, reserved: 0 },
      { reason: "SHIPMENT", on_hand: -10, reserved: -10 },
    ]);
  });
});
