import { createLogger } from "@nexus/core";
import { type TestPostgres, until } from "@nexus/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createContext } from "../context.ts";
import type { Database } from "../db/database.ts";
import { DEMO_STOCK } from "../db/demo.ts";
import { seedDemoStock } from "../db/seed.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { insertInitialStock } from "./stock.repository.ts";
import { type OrderToReserve, reserveOrder } from "./stock.service.ts";

let env: TestEnv;
let pg: TestPostgres<Database>;
const logger = createLogger("inventory-test", "silent");

beforeAll(async () => {
  env = await createTestEnv("inventory");
  pg = env.pg;
});

afterAll(async () => {
  await env?.close();
});

beforeEach(() => env.reset());

/** A catalog-style id: 24 hex characters. */
const productId = (n: number) => n.toString(16).padStart(24, "0");
const orderId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

async function stock(levels: Record<string, number>, reserved: Record<string, number> = {}) {
  await insertInitialStock(
    pg.db,
    Object.entries(levels).map(([id, onHand]) => ({ productId: id, onHand })),
  );
  for (const [id, units] of Object.entries(reserved)) {
    await pg.db.updateTable("stock_levels").set({ reserved: units }).where("product_id", "=", id).execute();
  }
  pg.queries.length = 0;
}

async function run(query: string, variables: Record<string, unknown> = {}, authorization?: string) {
  return env.run(query, variables, authorization);
}

const ENTITIES = `query ($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Product { id inventory { available inStock } } }
}`;

const reserve = (order: OrderToReserve) =>
  pg.db.transaction().execute((trx) => reserveOrder(trx, order, 900, { lowStockThreshold: 5 }));

async function stockRows() {
  return pg.db
    .selectFrom("stock_levels")
    .select(["product_id", "on_hand", "reserved"])
    .orderBy("product_id")
    .execute();
}

async function outboxEvents() {
  return pg.db
    .selectFrom("outbox")
    .select(["type", "aggregate_id", "payload"])
    .orderBy("occurred_at")
    .execute();
}

describe("Product.inventory", () => {
  it("resolves 20 product references with one SQL query and exact availability", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => productId(i + 1));
    // Products 1..18 are stocked with i units; 19 and 20 were never stocked.
    await stock(Object.fromEntries(ids.slice(0, 18).map((id, i) => [id, i])), {
      [productId(6)]: 2,
      [productId(9)]: 8,
    });

    const result = await run(ENTITIES, { reps: ids.map((id) => ({ __typename: "Product", id })) });

    expect(result.errors).toBeUndefined();
    const expected = ids.map((id, i) => {
      const onHand = i < 18 ? i : 0;
      const available = onHand - (i === 5 ? 2 : i === 8 ? 8 : 0);
      return { id, inventory: { available, inStock: available > 0 } };
    });
    expect(result.data).toEqual({ _entities: expected });
    expect((result.data as { _entities: unknown[] })._entities.slice(0, 10)).toEqual([
      { id: productId(1), inventory: { available: 0, inStock: false } },
      { id: productId(2), inventory: { available: 1, inStock: true } },
      { id: productId(3), inventory: { available: 2, inStock: true } },
      { id: productId(4), inventory: { available: 3, inStock: true } },
      { id: productId(5), inventory: { available: 4, inStock: true } },
      { id: productId(6), inventory: { available: 3, inStock: true } },
      { id: productId(7), inventory: { available: 6, inStock: true } },
      { id: productId(8), inventory: { available: 7, inStock: true } },
      { id: productId(9), inventory: { available: 0, inStock: false } },
      { id: productId(10), inventory: { available: 9, inStock: true } },
    ]);
    expect(pg.queries).toHaveLength(1);
    expect(pg.queries[0]).toContain('from "stock_levels"');
  });

  it("asks the database once per distinct product, and not at all without the inventory field", async () => {
    await stock({ [productId(1)]: 4 });
    const reps = [productId(1), productId(1), productId(2)].map((id) => ({ __typename: "Product", id }));
    const result = await run(ENTITIES, { reps });
    expect(result.data).toEqual({
      _entities: [
        { id: productId(1), inventory: { available: 4, inStock: true } },
        { id: productId(1), inventory: { available: 4, inStock: true } },
        { id: productId(2), inventory: { available: 0, inStock: false } },
      ],
    });
    expect(pg.queries).toHaveLength(1);

    pg.queries.length = 0;
    const idsOnly = await run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id } } }`,
      {
        reps,
      },
    );
    expect(idsOnly.data).toEqual({
      _entities: [{ id: productId(1) }, { id: productId(1) }, { id: productId(2) }],
    });
    expect(pg.queries).toHaveLength(0);
  });

  it("rejects a malformed token with UNAUTHENTICATED and serves anonymous requests", async () => {
    await expect(createContext(env.deps, { authorization: "Bearer not-a-jwt" })).rejects.toMatchObject({
      extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
    });
    const anonymous = await run(ENTITIES, { reps: [{ __typename: "Product", id: productId(3) }] });
    expect(anonymous.data).toEqual({
      _entities: [{ id: productId(3), inventory: { available: 0, inStock: false } }],
    });
  });

  it("cannot store more reserved than on hand", async () => {
    await stock({ [productId(1)]: 2 });
    await expect(
      pg.db.updateTable("stock_levels").set({ reserved: 3 }).where("product_id", "=", productId(1)).execute(),
    ).rejects.toThrow(/stock_levels_reserved_within_on_hand/);
  });
});

describe("reserveOrder", () => {
  it("merges repeated lines of a product into one reservation", async () => {
    await stock({ [productId(1)]: 5, [productId(2)]: 5 });
    const outcome = await reserve({
      orderId: orderId(1),
      lines: [
        { productId: productId(2), quantity: 1, unitPrice: 100 },
        { productId: productId(1), quantity: 2, unitPrice: 100 },
        { productId: productId(2), quantity: 3, unitPrice: 100 },
      ],
    });
    expect(outcome).toEqual({
      status: "RESERVED",
      lines: [
        { productId: productId(2), quantity: 4 },
        { productId: productId(1), quantity: 2 },
      ],
    });
    expect(await stockRows()).toEqual([
      { product_id: productId(1), on_hand: 5, reserved: 2 },
      { product_id: productId(2), on_hand: 5, reserved: 4 },
    ]);
    expect(
      await pg.db
        .selectFrom("reservations")
        .select(["product_id", "quantity", "status"])
        .orderBy("product_id")
        .execute(),
    ).toEqual([
      { product_id: productId(1), quantity: 2, status: "RESERVED" },
      { product_id: productId(2), quantity: 4, status: "RESERVED" },
    ]);
  });

  it("does not reserve an order twice when it is placed again under a new event", async () => {
    await stock({ [productId(1)]: 5 });
    const order = { orderId: orderId(2), lines: [{ productId: productId(1), quantity: 2, unitPrice: 100 }] };
    expect((await reserve(order)).status).toBe("RESERVED");
    expect(await reserve(order)).toEqual({ status: "ALREADY_RESERVED" });
    expect(await stockRows()).toEqual([{ product_id: productId(1), on_hand: 5, reserved: 2 }]);
    expect((await outboxEvents()).map((event) => event.type).sort()).toEqual([
      "InventoryReserved",
      "StockLow",
    ]);
  });

  it("refuses a malformed order and writes nothing", async () => {
    await stock({ [productId(1)]: 5 });
    await expect(
      reserve({
        orderId: "not-a-uuid",
        lines: [
          { productId: productId(1), quantity: 0, unitPrice: 100 },
          { productId: productId(1), quantity: 1.5, unitPrice: 100 },
        ],
      }),
    ).rejects.toThrow(
      `OrderPlaced for order not-a-uuid is malformed: orderId is not a UUID; quantity 0 of ${productId(1)} is not a positive integer; quantity 1.5 of ${productId(1)} is not a positive integer.`,
    );
    await expect(reserve({ orderId: orderId(3), lines: [] })).rejects.toThrow(/it has no lines/);
    expect(await outboxEvents()).toEqual([]);
    expect(await stockRows()).toEqual([{ product_id: productId(1), on_hand: 5, reserved: 0 }]);
  });

  it("decides concurrent orders for the last units one after the other: exactly one wins", async () => {
    await stock({ [productId(1)]: 10, [productId(2)]: 3 }, { [productId(2)]: 1 });
    const waitingOnLocks = async () => {
      const { count } = await sql<{ count: number }>`
        SELECT count(*)::int AS count FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`
        .execute(pg.db)
        .then((result) => result.rows[0] ?? { count: 0 });
      return count;
    };
    const lastTwo = (n: number) => ({
      orderId: orderId(n),
      lines: [
        { productId: productId(1), quantity: 1, unitPrice: 100 },
        { productId: productId(2), quantity: 2, unitPrice: 100 },
      ],
    });

    let locked: () => void = () => {};
    const firstHoldsLocks = new Promise<void>((resolve) => {
      locked = resolve;
    });
    // The first order keeps its row locks until the second is provably waiting on them.
    const first = pg.db.transaction().execute(async (trx) => {
      const outcome = await reserveOrder(trx, lastTwo(10), 900, { lowStockThreshold: 5 });
      locked();
      await until("the second order to wait for the first", async () => (await waitingOnLocks()) > 0, {
        timeoutMs: 2_000,
        intervalMs: 10,
      });
      return outcome;
    });
    await firstHoldsLocks;
    const second = reserve(lastTwo(11));

    expect((await first).status).toBe("RESERVED");
    expect(await second).toEqual({
      status: "REJECTED",
      lines: [{ productId: productId(2), requested: 2, available: 0 }],
    });
    expect(await stockRows()).toEqual([
      { product_id: productId(1), on_hand: 10, reserved: 1 },
      { product_id: productId(2), on_hand: 3, reserved: 3 },
    ]);
    expect(await pg.db.selectFrom("reservations").select("order_id").distinct().execute()).toEqual([
      { order_id: orderId(10) },
    ]);
  });

  it("lets orders that share products in opposite line order run side by side without deadlocks", async () => {
    await stock({ [productId(1)]: 100, [productId(2)]: 100 });
    const orders = Array.from({ length: 8 }, (_, n) => {
      const lines = [
        { productId: productId(1), quantity: 1, unitPrice: 100 },
        { productId: productId(2), quantity: 2, unitPrice: 100 },
      ];
      return { orderId: orderId(20 + n), lines: n % 2 === 0 ? lines : lines.reverse() };
    });
    const outcomes = await Promise.all(orders.map(reserve));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(8).fill("RESERVED"));
    expect(await stockRows()).toEqual([
      { product_id: productId(1), on_hand: 100, reserved: 8 },
      { product_id: productId(2), on_hand: 100, reserved: 16 },
    ]);
  });
});

describe("seedDemoStock", () => {
  it("stocks every demo product once, with ledger rows, and never reseeds", async () => {
    const products = DEMO_STOCK;
    await seedDemoStock(pg.db, logger);
    await seedDemoStock(pg.db, logger);

    const rows = await stockRows();
    expect(rows).toEqual(
      products
        .map((product) => ({ product_id: product.productId, on_hand: product.onHand, reserved: 0 }))
        .sort((a, b) => (a.product_id < b.product_id ? -1 : 1)),
    );
    const ledger = await pg.db
      .selectFrom("stock_movements")
      .select(["product_id", "on_hand_delta", "reserved_delta", "reason", "order_id"])
      .orderBy("id")
      .execute();
    expect(ledger).toEqual(
      products
        .filter((product) => product.onHand > 0)
        .map((product) => ({
          product_id: product.productId,
          on_hand_delta: product.onHand,
          reserved_delta: 0,
          reason: "SEED",
          order_id: null,
        })),
    );
    expect(ledger.length).toBeGreaterThan(200);
    expect(ledger.length).toBeLessThan(products.length);
  });

  it("leaves a stocked database alone, even when demo products are missing from it", async () => {
    await stock({ [productId(1)]: 7 });
    await seedDemoStock(pg.db, logger);
    expect(await stockRows()).toEqual([{ product_id: productId(1), on_hand: 7, reserved: 0 }]);
  });
});
