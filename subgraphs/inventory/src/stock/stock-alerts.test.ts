import type { Role } from "@nexus/core";
import type { TestPostgres } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import {
  commitReservation,
  confirmReservation,
  expireReservations,
  releaseReservation,
} from "../reservation/reservation.service.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { insertInitialStock } from "./stock.repository.ts";
import { adjustStock, reserveOrder, setStock } from "./stock.service.ts";

let env: TestEnv;
let pg: TestPostgres<Database>;

beforeAll(async () => {
  env = await createTestEnv("inventory_alerts");
  pg = env.pg;
});
afterAll(async () => {
  await env?.close();
});
beforeEach(async () => {
  await env.reset();
  seen.clear();
});

/** The test env's LOW_STOCK_THRESHOLD. */
const SETTINGS = { lowStockThreshold: 5 };
const ADMIN_ID = "00000000-0000-4000-8000-00000000a0a0";
const productId = (n: number) => n.toString(16).padStart(24, "0");
const orderId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const P1 = productId(1);
const P2 = productId(2);

const seen = new Set<string>();

/**
 * Stock alerts written to the outbox since the previous call, in product then type order (one
 * transaction's events share a timestamp, so the outbox gives no order among them).
 */
async function alerts() {
  const rows = await pg.db
    .selectFrom("outbox")
    .select(["id", "type", "aggregate_id", "payload"])
    .where("type", "in", ["ProductBackInStock", "StockLow"])
    .orderBy("aggregate_id")
    .orderBy("type")
    .execute();
  const fresh = rows.filter((row) => !seen.has(row.id));
  for (const row of fresh) seen.add(row.id);
  return fresh.map((row) => ({ type: row.type, aggregateId: row.aggregate_id, payload: row.payload }));
}

const backInStock = (id: string, available: number) => ({
  type: "ProductBackInStock",
  aggregateId: id,
  payload: { productId: id, available },
});
const stockLow = (id: string, available: number, threshold = 5) => ({
  type: "StockLow",
  aggregateId: id,
  payload: { productId: id, sku: null, available, threshold },
});

const adjust = (id: string, delta: number) =>
  adjustStock(pg.db, { productId: id, delta, reason: "test" }, ADMIN_ID, SETTINGS);
const set = (id: string, onHand: number, lowStockThreshold?: number) =>
  setStock(pg.db, { productId: id, onHand, reason: "count", lowStockThreshold }, ADMIN_ID, SETTINGS);
const reserve = (n: number, lines: Record<string, number>) =>
  pg.db.transaction().execute((trx) =>
    reserveOrder(
      trx,
      {
        orderId: orderId(n),
        lines: Object.entries(lines).map(([id, quantity]) => ({ productId: id, quantity, unitPrice: 100 })),
      },
      900,
      SETTINGS,
    ),
  );
const release = (n: number) =>
  pg.db.transaction().execute((trx) => releaseReservation(trx, orderId(n), "order cancelled", SETTINGS));

async function alerted(id: string) {
  const row = await pg.db
    .selectFrom("stock_levels")
    .select("low_stock_alerted")
    .where("product_id", "=", id)
    .executeTakeFirstOrThrow();
  return row.low_stock_alerted;
}

describe("ProductBackInStock", () => {
  it("is written once when a restock takes available stock from none to some", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 0 }]);
    expect(await adjust(P1, 10)).toEqual({ productId: P1, userErrors: [] });
    expect(await alerts()).toEqual([backInStock(P1, 10)]);
    // Already in stock: more units are no news.
    await adjust(P1, 5);
    await set(P1, 40);
    expect(await alerts()).toEqual([]);
  });

  it("is written for a product inventory never stocked, and not for a refused change", async () => {
    expect((await adjust(P2, -1)).userErrors).toMatchObject([{ code: "NEGATIVE_STOCK" }]);
    expect(await alerts()).toEqual([]);
    await set(P2, 7);
    expect(await alerts()).toEqual([backInStock(P2, 7)]);
  });

  it("is written when a released or expired reservation frees the last units, and not when shipping", async () => {
    await insertInitialStock(pg.db, [
      { productId: P1, onHand: 2 },
      { productId: P2, onHand: 50 },
    ]);
    await reserve(1, { [P1]: 2, [P2]: 1 });
    expect(await alerts()).toEqual([stockLow(P1, 0)]);

    await release(1);
    // P2 went 49 -> 50: nothing crossed.
    expect(await alerts()).toEqual([backInStock(P1, 2)]);
    await release(1);
    expect(await alerts()).toEqual([]);

    await reserve(2, { [P1]: 2 });
    await pg.db
      .updateTable("order_reservations")
      .set({ expires_at: new Date(0) })
      .where("order_id", "=", orderId(2))
      .execute();
    expect(await pg.db.transaction().execute((trx) => expireReservations(trx, 10, SETTINGS))).toEqual([
      orderId(2),
    ]);
    // P1 was announced low at the first reservation and has not been above 5 since: no second StockLow.
    expect(await alerts()).toEqual([backInStock(P1, 2)]);

    // Confirmed after expiry: held again, so P1 is out of stock; shipping then changes on hand
    // and reserved together, leaving availability where it was.
    expect(await pg.db.transaction().execute((trx) => confirmReservation(trx, orderId(2), SETTINGS))).toEqual(
      {
        status: "RERESERVED",
      },
    );
    await pg.db.transaction().execute((trx) => commitReservation(trx, orderId(2), SETTINGS));
    expect(await alerts()).toEqual([]);
    expect(await alerted(P1)).toBe(true);
  });

  it("comes with adjustStock through GraphQL", async () => {
    const authorization = await env.auth.bearer(ADMIN_ID, "ADMIN" satisfies Role);
    const result = await env.run(
      `mutation ($input: AdjustStockInput!) { adjustStock(input: $input) { product { id inventory { available } } userErrors { code } } }`,
      { input: { productId: P1, delta: 3, reason: "received" } },
      authorization,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      adjustStock: { product: { id: P1, inventory: { available: 3 } }, userErrors: [] },
    });
    expect(await alerts()).toEqual([backInStock(P1, 3)]);
  });
});

describe("StockLow", () => {
  it("is written once per fall to or below the threshold, again only after rising above it", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 10 }]);
    await adjust(P1, -4); // 6: above 5
    expect(await alerts()).toEqual([]);
    expect(await alerted(P1)).toBe(false);
    await adjust(P1, -1); // 5: at the threshold
    expect(await alerts()).toEqual([stockLow(P1, 5)]);
    expect(await alerted(P1)).toBe(true);
    await adjust(P1, -2); // 3
    await adjust(P1, 1); // 4: still low, rising
    await adjust(P1, -4); // 0
    expect(await alerts()).toEqual([]);
    await adjust(P1, 6); // 6: above again, and back in stock
    expect(await alerts()).toEqual([backInStock(P1, 6)]);
    expect(await alerted(P1)).toBe(false);
    await adjust(P1, -3); // 3: a new fall
    expect(await alerts()).toEqual([stockLow(P1, 3)]);
  });

  it("uses the product's own threshold, the new one when a count sets both", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 100 }]);
    await set(P1, 15, 20);
    expect(await alerts()).toEqual([stockLow(P1, 15, 20)]);
    await set(P1, 30);
    expect(await alerted(P1)).toBe(false);
    await set(P1, 0);
    expect(await alerts()).toEqual([stockLow(P1, 0, 20)]);
    // A restock that leaves a product low is not a fall.
    await set(P1, 10);
    expect(await alerts()).toEqual([backInStock(P1, 10)]);
  });

  it("is not written when nothing crosses, nor for other products of the same order", async () => {
    await insertInitialStock(pg.db, [
      { productId: P1, onHand: 100 },
      { productId: P2, onHand: 7 },
    ]);
    await reserve(1, { [P1]: 10 });
    await adjust(P1, -20);
    await set(P1, 90);
    expect(await alerts()).toEqual([]);
    await reserve(2, { [P1]: 5, [P2]: 3 });
    expect(await alerts()).toEqual([stockLow(P2, 4)]);
  });

  it("announces each product of one transaction once", async () => {
    await insertInitialStock(pg.db, [
      { productId: P2, onHand: 6 },
      { productId: P1, onHand: 6 },
    ]);
    await reserve(1, { [P2]: 6, [P1]: 1 });
    expect(await alerts()).toEqual([stockLow(P1, 5), stockLow(P2, 0)]);
    await release(1);
    // P2 is back and above 5 again; P1 rose to 6, above its threshold, so both may fall again.
    expect(await alerts()).toEqual([backInStock(P2, 6)]);
    expect([await alerted(P1), await alerted(P2)]).toEqual([false, false]);
  });
});

/** ProductOutOfStock rows written since the previous call (of this or `alerts`), by product. */
async function outOfStock() {
  const rows = await pg.db
    .selectFrom("outbox")
    .select(["id", "aggregate_id", "payload"])
    .where("type", "=", "ProductOutOfStock")
    .orderBy("aggregate_id")
    .execute();
  const fresh = rows.filter((row) => !seen.has(row.id));
  for (const row of fresh) seen.add(row.id);
  return fresh.map((row) => ({ aggregateId: row.aggregate_id, payload: row.payload }));
}

const soldOut = (id: string) => ({ aggregateId: id, payload: { productId: id } });

describe("ProductOutOfStock", () => {
  it("is written once when available stock falls from some to none, again only after a restock", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 3 }]);
    await adjust(P1, -1);
    expect(await outOfStock()).toEqual([]);
    await adjust(P1, -2);
    expect(await outOfStock()).toEqual([soldOut(P1)]);
    // Still none: no news.
    await set(P1, 0);
    expect(await outOfStock()).toEqual([]);
    await adjust(P1, 2);
    expect(await outOfStock()).toEqual([]);
    // A reservation taking the last units is a crossing too; releasing it is not.
    await reserve(1, { [P1]: 2 });
    expect(await outOfStock()).toEqual([soldOut(P1)]);
    await release(1);
    expect(await outOfStock()).toEqual([]);
  });

  it("is written once when 30 concurrent reservations take the last of 30 units", async () => {
    await insertInitialStock(pg.db, [{ productId: P2, onHand: 30 }]);
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => reserve(i + 1, { [P2]: 1 })));
    expect(outcomes.every((outcome) => outcome.status === "RESERVED")).toBe(true);
    expect(await outOfStock()).toEqual([soldOut(P2)]);
  });
});

describe("under concurrency", () => {
  it("30 concurrent reservations and then their releases emit each crossing exactly once", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 30 }]);
    const orders = Array.from({ length: 30 }, (_, i) => i + 1);
    const outcomes = await Promise.all(orders.map((n) => reserve(n, { [P1]: 1 })));
    expect(outcomes.every((outcome) => outcome.status === "RESERVED")).toBe(true);
    expect(await alerts()).toEqual([stockLow(P1, 5)]);
    await Promise.all(orders.map((n) => release(n)));
    expect(await alerts()).toEqual([backInStock(P1, 1)]);
    expect(await alerted(P1)).toBe(false);
  });

  it("concurrent write-offs and restocks never double-announce", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 20 }]);
    const results = await Promise.all(Array.from({ length: 20 }, () => adjust(P1, -1)));
    expect(results.every((result) => result.userErrors.length === 0)).toBe(true);
    expect(await alerts()).toEqual([stockLow(P1, 5)]);
    await Promise.all(Array.from({ length: 10 }, () => adjust(P1, 1)));
    expect(await alerts()).toEqual([backInStock(P1, 1)]);
    expect(await alerted(P1)).toBe(false);
  });
});
