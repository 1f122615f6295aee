import { randomUUID } from "node:crypto";
import type { TestPostgres } from "@nexus/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { findLedgerMismatches, insertInitialStock } from "./stock.repository.ts";
import { type OrderToReserve, type ReservationOutcome, reserveOrder } from "./stock.service.ts";

/**
 * reserveOrder from many concurrent transactions on the same hot products: orders naming the
 * products in either order, and transactions that apply several orders one after the other,
 * each in its own savepoint, as a batching consumer does. None may deadlock, none may oversell,
 * and the ledger must add up.
 */

let env: TestEnv;
let pg: TestPostgres<Database>;

beforeAll(async () => {
  env = await createTestEnv("inventory_reserve_concurrency");
  pg = env.pg;
});
afterAll(async () => {
  await env?.close();
});
beforeEach(async () => {
  await env.reset();
});

const SETTINGS = { lowStockThreshold: 5 };
const HOT = "0000000000000000000000a1";
const WARM = "0000000000000000000000a2";

/** Applies `orders` in one transaction, each in a savepoint; the outcomes in order. */
function reserveInOneTransaction(orders: OrderToReserve[]) {
  return pg.db.transaction().execute(async (trx) => {
    const outcomes: ReservationOutcome[] = [];
    for (const [i, order] of orders.entries()) {
      await sql`SAVEPOINT ${sql.raw(`event_${i}`)}`.execute(trx);
      outcomes.push(await reserveOrder(trx, order, 900, SETTINGS));
      await sql`RELEASE SAVEPOINT ${sql.raw(`event_${i}`)}`.execute(trx);
    }
    return outcomes;
  });
}

async function levels() {
  return pg.db
    .selectFrom("stock_levels")
    .select(["product_id", "on_hand", "reserved"])
    .orderBy("product_id")
    .execute();
}

describe("reserveOrder under contention", () => {
  it("reserves exactly what the stock covers for 120 two-line orders on two hot products from 40 transactions", async () => {
    await insertInitialStock(pg.db, [
      { productId: HOT, onHand: 30 },
      { productId: WARM, onHand: 1000 },
    ]);
    // Each order takes one HOT and one WARM unit, naming them in either order.
    const orders = Array.from({ length: 120 }, (_, n) => ({
      orderId: randomUUID(),
      lines:
        n % 2 === 0
          ? [
              { productId: HOT, quantity: 1, unitPrice: 900 },
              { productId: WARM, quantity: 1, unitPrice: 500 },
            ]
          : [
              { productId: WARM, quantity: 1, unitPrice: 500 },
              { productId: HOT, quantity: 1, unitPrice: 900 },
            ],
    }));
    const batches = Array.from({ length: 40 }, (_, b) => orders.slice(b * 3, b * 3 + 3));
    const outcomes = (await Promise.all(batches.map(reserveInOneTransaction))).flat();

    expect(outcomes.filter((outcome) => outcome.status === "RESERVED")).toHaveLength(30);
    const rejected = outcomes.filter((outcome) => outcome.status === "REJECTED");
    expect(rejected).toHaveLength(90);
    for (const outcome of rejected) {
      expect(outcome.lines).toEqual([{ productId: HOT, requested: 1, available: 0 }]);
    }
    expect(await levels()).toEqual([
      { product_id: HOT, on_hand: 30, reserved: 30 },
      { product_id: WARM, on_hand: 1000, reserved: 30 },
    ]);
    const movements = await pg.db
      .selectFrom("stock_movements")
      .select(["product_id", sql<number>`count(*)::int`.as("n")])
      .where("reason", "=", "RESERVATION")
      .groupBy("product_id")
      .orderBy("product_id")
      .execute();
    expect(movements).toEqual([
      { product_id: HOT, n: 30 },
      { product_id: WARM, n: 30 },
    ]);
    expect(await findLedgerMismatches(pg.db)).toEqual([]);
  });

  it("reserves an order once when the same OrderPlaced is applied by two transactions at once", async () => {
    await insertInitialStock(pg.db, [{ productId: HOT, onHand: 10 }]);
    const order = { orderId: randomUUID(), lines: [{ productId: HOT, quantity: 2, unitPrice: 900 }] };
    const outcomes = await Promise.all([
      reserveInOneTransaction([order]),
      reserveInOneTransaction([order]),
      reserveInOneTransaction([order]),
    ]);
    expect(
      outcomes
        .flat()
        .map((outcome) => outcome.status)
        .sort(),
    ).toEqual(["ALREADY_RESERVED", "ALREADY_RESERVED", "RESERVED"]);
    expect(await levels()).toEqual([{ product_id: HOT, on_hand: 10, reserved: 2 }]);
    expect(await findLedgerMismatches(pg.db)).toEqual([]);
  });
});
