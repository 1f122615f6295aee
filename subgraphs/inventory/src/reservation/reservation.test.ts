import { createLogger } from "@nexus/core";
import { type TestPostgres, until } from "@nexus/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database, ReservationStatus } from "../db/database.ts";
import { findLedgerMismatches, insertInitialStock } from "../stock/stock.repository.ts";
import { reserveOrder } from "../stock/stock.service.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import {
  commitReservation,
  confirmReservation,
  expireReservations,
  releaseReservation,
} from "./reservation.service.ts";
import { startReservationSweeper } from "./reservation.sweeper.ts";

/** The reservation lifecycle on a real database, with the books checked after every scenario. */

let env: TestEnv;
let pg: TestPostgres<Database>;
const logger = createLogger("reservation-test", "silent");
const TTL = 900;

beforeAll(async () => {
  env = await createTestEnv("inventory_reservations");
  pg = env.pg;
});

afterAll(async () => {
  await env?.close();
});

beforeEach(() => env.reset());

const productId = (n: number) => n.toString(16).padStart(24, "0");
const orderId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const ALERTS = { lowStockThreshold: 5 };
const P1 = productId(1);
const P2 = productId(2);

async function reserve(n: number, lines: Record<string, number>) {
  return pg.db.transaction().execute((trx) =>
    reserveOrder(
      trx,
      {
        orderId: orderId(n),
        lines: Object.entries(lines).map(([id, quantity]) => ({ productId: id, quantity, unitPrice: 100 })),
      },
      TTL,
      ALERTS,
    ),
  );
}

/** Moves an order's expiry into the past, as if its time to live had gone by. */
async function lapse(...ns: number[]) {
  await pg.db
    .updateTable("order_reservations")
    .set({ expires_at: sql<Date>`now() - interval '1 second'` })
    .where(
      "order_id",
      "in",
      ns.map((n) => orderId(n)),
    )
    .execute();
}

const confirm = (n: number) =>
  pg.db.transaction().execute((trx) => confirmReservation(trx, orderId(n), ALERTS));
const release = (n: number) =>
  pg.db.transaction().execute((trx) => releaseReservation(trx, orderId(n), "test", ALERTS));
const commit = (n: number) =>
  pg.db.transaction().execute((trx) => commitReservation(trx, orderId(n), ALERTS));
const expire = (limit = 100) => pg.db.transaction().execute((trx) => expireReservations(trx, limit, ALERTS));

async function levels() {
  return pg.db
    .selectFrom("stock_levels")
    .select(["product_id", "on_hand", "reserved"])
    .orderBy("product_id")
    .execute();
}

async function statusOf(n: number): Promise<{ status: ReservationStatus; expires: boolean } | undefined> {
  // One snapshot for both reads: a sweeper committing between them would look like a split order.
  const { row, lines } = await pg.db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (trx) => ({
      row: await trx
        .selectFrom("order_reservations")
        .select(["status", "expires_at"])
        .where("order_id", "=", orderId(n))
        .executeTakeFirst(),
      lines: await trx
        .selectFrom("reservations")
        .select("status")
        .where("order_id", "=", orderId(n))
        .execute(),
    }));
  // Lines always follow their order.
  expect(lines.every((line) => line.status === row?.status)).toBe(true);
  return row && { status: row.status, expires: row.expires_at !== null };
}

async function outbox() {
  return pg.db
    .selectFrom("outbox")
    .select(["type", "aggregate_id", "payload"])
    .orderBy("occurred_at")
    .execute();
}

async function movements(n: number) {
  return pg.db
    .selectFrom("stock_movements")
    .select(["product_id", "on_hand_delta", "reserved_delta", "reason"])
    .where("order_id", "=", orderId(n))
    .orderBy("id")
    .execute();
}

async function expectBalancedBooks() {
  expect(await findLedgerMismatches(pg.db)).toEqual([]);
}

describe("reservations", () => {
  it("expire after their time to live unless confirmed, with the database's clock", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 5 }]);
    await reserve(1, { [P1]: 2 });
    const { ttl } = await sql<{ ttl: number }>`
      SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM order_reservations`
      .execute(pg.db)
      .then((r) => r.rows[0] ?? { ttl: 0 });
    expect(ttl).toBe(TTL);
    expect(await statusOf(1)).toEqual({ status: "RESERVED", expires: true });
    // Not due yet: the sweep leaves it.
    expect(await expire()).toEqual([]);
    await expectBalancedBooks();
  });

  it("expiry releases the stock, records EXPIRY movements and publishes ReservationExpired, once", async () => {
    await insertInitialStock(pg.db, [
      { productId: P1, onHand: 5 },
      { productId: P2, onHand: 3 },
    ]);
    await reserve(1, { [P1]: 2, [P2]: 3 });
    await reserve(2, { [P1]: 1 });
    await lapse(1);

    expect(await expire()).toEqual([orderId(1)]);
    expect(await levels()).toEqual([
      { product_id: P1, on_hand: 5, reserved: 1 },
      { product_id: P2, on_hand: 3, reserved: 0 },
    ]);
    expect(await statusOf(1)).toEqual({ status: "EXPIRED", expires: false });
    expect(await statusOf(2)).toEqual({ status: "RESERVED", expires: true });
    expect(await movements(1)).toEqual([
      { product_id: P1, on_hand_delta: 0, reserved_delta: 2, reason: "RESERVATION" },
      { product_id: P2, on_hand_delta: 0, reserved_delta: 3, reason: "RESERVATION" },
      { product_id: P1, on_hand_delta: 0, reserved_delta: -2, reason: "EXPIRY" },
      { product_id: P2, on_hand_delta: 0, reserved_delta: -3, reason: "EXPIRY" },
    ]);
    expect((await outbox()).filter((event) => event.type === "ReservationExpired")).toEqual([
      { type: "ReservationExpired", aggregate_id: orderId(1), payload: { orderId: orderId(1) } },
    ]);
    expect(await expire()).toEqual([]);
    // A cancel after expiry has nothing left to release.
    expect(await release(1)).toEqual({ from: "EXPIRED", to: "EXPIRED" });
    expect(await levels()).toEqual([
      { product_id: P1, on_hand: 5, reserved: 1 },
      { product_id: P2, on_hand: 3, reserved: 0 },
    ]);
    await expectBalancedBooks();
  });

  it("stop expiring once confirmed, even when confirmed after the expiry time but before a sweep", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 5 }]);
    await reserve(1, { [P1]: 2 });
    await reserve(2, { [P1]: 1 });
    expect(await confirm(1)).toEqual({ status: "CONFIRMED" });
    await lapse(2);
    expect(await confirm(2)).toEqual({ status: "CONFIRMED" });
    expect(await confirm(2)).toEqual({ status: "UNCHANGED", reservation: "CONFIRMED" });
    expect(await expire()).toEqual([]);
    expect(await statusOf(1)).toEqual({ status: "CONFIRMED", expires: false });
    expect(await levels()).toEqual([{ product_id: P1, on_hand: 5, reserved: 3 }]);
    await expectBalancedBooks();
  });

  it("are held again when OrderConfirmed arrives after expiry and the stock is still there", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 5 }]);
    await reserve(1, { [P1]: 2 });
    await lapse(1);
    await expire();
    expect(await confirm(1)).toEqual({ status: "RERESERVED" });
    expect(await statusOf(1)).toEqual({ status: "CONFIRMED", expires: false });
    expect(await levels()).toEqual([{ product_id: P1, on_hand: 5, reserved: 2 }]);
    expect((await movements(1)).map((m) => [m.reason, m.reserved_delta])).toEqual([
      ["RESERVATION", 2],
      ["EXPIRY", -2],
      ["RESERVATION", 2],
    ]);
    await expectBalancedBooks();
  });

  it("report the short lines when OrderConfirmed arrives after expiry and the stock was sold meanwhile", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 3 }]);
    await reserve(1, { [P1]: 2 });
    await lapse(1);
    await expire();
    expect((await reserve(2, { [P1]: 2 })).status).toBe("RESERVED");

    expect(await confirm(1)).toEqual({
      status: "UNFULFILLABLE",
      lines: [{ productId: P1, requested: 2, available: 1 }],
    });
    expect(await statusOf(1)).toEqual({ status: "EXPIRED", expires: false });
    expect((await outbox()).at(-1)).toEqual({
      type: "InventoryRejected",
      aggregate_id: orderId(1),
      payload: { orderId: orderId(1), lines: [{ productId: P1, requested: 2, available: 1 }] },
    });
    expect(await levels()).toEqual([{ product_id: P1, on_hand: 3, reserved: 2 }]);
    await expectBalancedBooks();
  });

  it("are released by a cancel after confirmation, once, and by a rejection before it", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 5 }]);
    await reserve(1, { [P1]: 2 });
    await reserve(2, { [P1]: 1 });
    await confirm(1);

    expect(await release(1)).toEqual({ from: "CONFIRMED", to: "RELEASED" });
    expect(await release(1)).toEqual({ from: "RELEASED", to: "RELEASED" });
    expect(await release(2)).toEqual({ from: "RESERVED", to: "RELEASED" });
    expect(await release(3)).toEqual({ from: null, to: null });
    expect(await levels()).toEqual([{ product_id: P1, on_hand: 5, reserved: 0 }]);
    expect((await movements(1)).map((m) => [m.reason, m.on_hand_delta, m.reserved_delta])).toEqual([
      ["RESERVATION", 0, 2],
      ["RELEASE", 0, -2],
    ]);
    // A released order is not confirmed back to life.
    expect(await confirm(1)).toEqual({ status: "UNCHANGED", reservation: "RELEASED" });
    await expectBalancedBooks();
  });

  it("are committed by shipping: on hand and reserved both drop, once", async () => {
    await insertInitialStock(pg.db, [
      { productId: P1, onHand: 5 },
      { productId: P2, onHand: 2 },
    ]);
    await reserve(1, { [P1]: 2, [P2]: 1 });
    await confirm(1);

    expect(await commit(1)).toEqual({ from: "CONFIRMED", to: "COMMITTED" });
    expect(await commit(1)).toEqual({ from: "COMMITTED", to: "COMMITTED" });
    expect(await levels()).toEqual([
      { product_id: P1, on_hand: 3, reserved: 0 },
      { product_id: P2, on_hand: 1, reserved: 0 },
    ]);
    expect((await movements(1)).filter((m) => m.reason === "SHIPMENT")).toEqual([
      { product_id: P1, on_hand_delta: -2, reserved_delta: -2, reason: "SHIPMENT" },
      { product_id: P2, on_hand_delta: -1, reserved_delta: -1, reason: "SHIPMENT" },
    ]);
    // Cancelling a shipped order releases nothing.
    expect(await release(1)).toEqual({ from: "COMMITTED", to: "COMMITTED" });
    await expectBalancedBooks();
  });

  it("are committed a shipment at a time when an order ships in parts, and a cancel releases only what is left", async () => {
    await insertInitialStock(pg.db, [
      { productId: P1, onHand: 5 },
      { productId: P2, onHand: 2 },
    ]);
    await reserve(1, { [P1]: 3, [P2]: 2 });
    await confirm(1);
    const ship = (lines: Record<string, number>) =>
      pg.db.transaction().execute((trx) =>
        commitReservation(
          trx,
          orderId(1),
          ALERTS,
          Object.entries(lines).map(([productId, quantity]) => ({ productId, quantity })),
        ),
      );

    expect(await ship({ [P1]: 2 })).toEqual({ from: "CONFIRMED", to: "CONFIRMED" });
    expect(await levels()).toEqual([
      { product_id: P1, on_hand: 3, reserved: 1 },
      { product_id: P2, on_hand: 2, reserved: 2 },
    ]);
    await expectBalancedBooks();
    // More than the order still holds is for a person to sort out; nothing moves.
    await expect(ship({ [P1]: 2 })).rejects.toMatchObject({
      name: "UnrecoverableError",
      message: `OrderShipped for order ${orderId(1)} ships more than it holds: ${P1} 2 of 1.`,
    });
    expect(await ship({ [P2]: 1 })).toEqual({ from: "CONFIRMED", to: "CONFIRMED" });
    expect((await movements(1)).filter((m) => m.reason === "SHIPMENT")).toEqual([
      { product_id: P1, on_hand_delta: -2, reserved_delta: -2, reason: "SHIPMENT" },
      { product_id: P2, on_hand_delta: -1, reserved_delta: -1, reason: "SHIPMENT" },
    ]);
    // Cancelled now: the units not shipped (1 of P1, 1 of P2) go back, the shipped ones stay gone.
    expect(await release(1)).toEqual({ from: "CONFIRMED", to: "RELEASED" });
    expect(await levels()).toEqual([
      { product_id: P1, on_hand: 3, reserved: 0 },
      { product_id: P2, on_hand: 1, reserved: 0 },
    ]);
    await expectBalancedBooks();
  });

  it("commit the rest of an order shipped in parts when the last shipment names no lines", async () => {
    await insertInitialStock(pg.db, [
      { productId: P1, onHand: 5 },
      { productId: P2, onHand: 2 },
    ]);
    await reserve(1, { [P1]: 3, [P2]: 2 });
    await confirm(1);
    await pg.db
      .transaction()
      .execute((trx) => commitReservation(trx, orderId(1), ALERTS, [{ productId: P1, quantity: 3 }]));
    expect(await commit(1)).toEqual({ from: "CONFIRMED", to: "COMMITTED" });
    expect(await levels()).toEqual([
      { product_id: P1, on_hand: 2, reserved: 0 },
      { product_id: P2, on_hand: 0, reserved: 0 },
    ]);
    expect(await commit(1)).toEqual({ from: "COMMITTED", to: "COMMITTED" });
    await expectBalancedBooks();
  });

  it("commit a shipment whose reservation had been released only from unreserved stock", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 3 }]);
    await reserve(1, { [P1]: 2 });
    await release(1);
    expect(await commit(1)).toEqual({ from: "RELEASED", to: "COMMITTED" });
    expect(await levels()).toEqual([{ product_id: P1, on_hand: 1, reserved: 0 }]);

    await reserve(2, { [P1]: 1 });
    await lapse(2);
    await expire();
    await reserve(3, { [P1]: 1 });
    await expect(commit(2)).rejects.toMatchObject({
      name: "UnrecoverableError",
      message: `OrderShipped for order ${orderId(2)}, whose reservation is EXPIRED: ${P1} has 0 of 1 unreserved.`,
    });
    await expect(commit(9)).rejects.toThrow(
      `OrderShipped for order ${orderId(9)}, which inventory never reserved.`,
    );
    expect(await levels()).toEqual([{ product_id: P1, on_hand: 1, reserved: 1 }]);
    await expectBalancedBooks();
  });
});

describe("the expiry sweeper", () => {
  it("skips an order a consumer holds locked, and leaves it alone once that consumer confirmed it", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 5 }]);
    await reserve(1, { [P1]: 2 });
    await reserve(2, { [P1]: 1 });
    await lapse(1, 2);

    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const confirming = pg.db.transaction().execute(async (trx) => {
      const outcome = await confirmReservation(trx, orderId(1), ALERTS);
      locked();
      await held;
      return outcome;
    });
    await lockTaken;
    // Order 1 is locked by the confirming transaction: the sweep takes order 2 only, without waiting.
    expect(await expire()).toEqual([orderId(2)]);
    release();
    expect(await confirming).toEqual({ status: "CONFIRMED" });
    expect(await expire()).toEqual([]);
    expect(await statusOf(1)).toEqual({ status: "CONFIRMED", expires: false });
    expect(await levels()).toEqual([{ product_id: P1, on_hand: 5, reserved: 2 }]);
    await expectBalancedBooks();
  });

  it("splits the work between replicas: 60 expired orders, three sweepers, each order expired once", async () => {
    await insertInitialStock(pg.db, [
      { productId: P1, onHand: 100 },
      { productId: P2, onHand: 100 },
    ]);
    for (let n = 1; n <= 60; n++) await reserve(n, n % 2 === 0 ? { [P1]: 1, [P2]: 1 } : { [P2]: 1, [P1]: 1 });
    await lapse(...Array.from({ length: 60 }, (_, i) => i + 1));

    const flushes: number[] = [];
    const sweepers = Array.from({ length: 3 }, () =>
      startReservationSweeper({
        db: pg.db,
        logger,
        relay: { flush: async () => flushes.push(1) },
        intervalMs: 60_000,
        alerts: ALERTS,
        batchSize: 7,
      }),
    );
    try {
      const swept = await Promise.all(sweepers.map((sweeper) => sweeper.sweep()));
      expect(swept.flat().sort()).toEqual(Array.from({ length: 60 }, (_, i) => orderId(i + 1)).sort());
    } finally {
      await Promise.all(sweepers.map((sweeper) => sweeper.stop()));
    }
    expect(flushes.length).toBeGreaterThanOrEqual(1);
    expect(await levels()).toEqual([
      { product_id: P1, on_hand: 100, reserved: 0 },
      { product_id: P2, on_hand: 100, reserved: 0 },
    ]);
    expect((await outbox()).filter((event) => event.type === "ReservationExpired")).toHaveLength(60);
    await expectBalancedBooks();
  });

  it("runs on its own interval", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 5 }]);
    await reserve(1, { [P1]: 2 });
    await lapse(1);
    const sweeper = startReservationSweeper({
      db: pg.db,
      logger,
      relay: { flush: async () => 0 },
      intervalMs: 50,
      alerts: ALERTS,
    });
    try {
      await until(
        "the sweeper to expire the reservation",
        async () => (await statusOf(1))?.status === "EXPIRED",
        {
          timeoutMs: 10_000,
        },
      );
    } finally {
      await sweeper.stop();
    }
    expect(await levels()).toEqual([{ product_id: P1, on_hand: 5, reserved: 0 }]);
    await expectBalancedBooks();
  });
});

describe("findLedgerMismatches", () => {
  it("names a product whose levels were changed without a movement", async () => {
    await insertInitialStock(pg.db, [
      { productId: P1, onHand: 5 },
      { productId: P2, onHand: 5 },
    ]);
    await reserve(1, { [P1]: 2 });
    await pg.db.updateTable("stock_levels").set({ on_hand: 6 }).where("product_id", "=", P2).execute();
    expect(await findLedgerMismatches(pg.db)).toEqual([
      { product_id: P2, on_hand: 6, reserved: 0, ledger_on_hand: 5, ledger_reserved: 0, held: 0 },
    ]);
    await pg.db
      .updateTable("reservations")
      .set({ status: "RELEASED" })
      .where("order_id", "=", orderId(1))
      .execute();
    expect((await findLedgerMismatches(pg.db)).map((row) => [row.product_id, row.held])).toEqual([
      [P1, 0],
      [P2, 0],
    ]);
  });
});
