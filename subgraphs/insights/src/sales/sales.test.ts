import { migrateToLatest } from "@nexus/stores";
import { createTestPostgres, type TestPostgres } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createContext } from "../context.ts";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { findTopProducts, insertSalesFacts, recordOrderOutcome } from "./sales.repository.ts";

let env: TestEnv;
let pg: TestPostgres<Database>;
let analyst: string;

beforeAll(async () => {
  env = await createTestEnv("insights");
  pg = env.pg;
  analyst = await env.auth.bearer(uuid(9999), "ADMIN");
});

afterAll(async () => {
  await env?.close();
});

beforeEach(() => env.reset());

const productId = (n: number) => n.toString(16).padStart(24, "0");
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

/**
 * Records orders as facts: `orders[i]` is one order's { product number: quantity }. They are
 * confirmed unless `outcome` says otherwise (null: placed, never confirmed).
 */
async function sell(
  orders: Record<number, number>[],
  outcome: "confirmed" | "reversed" | null = "confirmed",
  first = 0,
) {
  const at = new Date("2026-01-02T03:05:00Z");
  for (const i of orders.keys()) {
    if (outcome !== null) await recordOrderOutcome(pg.db, uuid(first + i), "confirmed_at", at);
    if (outcome === "reversed") await recordOrderOutcome(pg.db, uuid(first + i), "reversed_at", at);
  }
  await insertSalesFacts(
    pg.db,
    orders.flatMap((lines, i) =>
      Object.entries(lines).map(([product, quantity]) => ({
        event_id: uuid(1000 + first + i),
        order_id: uuid(first + i),
        product_id: productId(Number(product)),
        quantity,
        unit_price: 1500,
        currency_code: "USD",
        occurred_at: new Date("2026-01-02T03:04:05Z"),
      })),
    ),
  );
  pg.queries.length = 0;
}

/** Runs as a holder of `insights:read` unless told otherwise (`null`: anonymous). */
async function run(
  query: string,
  variables: Record<string, unknown> = {},
  authorization: string | null = analyst,
) {
  return env.run(query, variables, authorization ?? undefined);
}

const TOP = `query ($first: Int) { topProducts(first: $first) { product { id } unitsSold orderCount } }`;
const top = (product: number, unitsSold: number, orderCount: number) => ({
  product: { id: productId(product) },
  unitsSold,
  orderCount,
});

describe("topProducts", () => {
  it("ranks by units sold, then by product id, in one SQL query", async () => {
    await sell([
      { 5: 4, 2: 1 },
      { 5: 5, 3: 2, 4: 3 },
      { 3: 5, 1: 1, 5: 1 },
      { 4: 3, 1: 2 },
      { 2: 3 },
      { 4: 1 },
    ]);
    const result = await run(TOP);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      // 3 and 4 tie on units: the lower id comes first, whatever the order counts.
      topProducts: [top(5, 10, 3), top(3, 7, 2), top(4, 7, 3), top(2, 4, 2), top(1, 3, 2)],
    });
    expect(pg.queries).toHaveLength(1);
    expect(pg.queries[0]).toMatch(/group by "f"."product_id"/);
  });

  it("counts only orders that were confirmed and not cancelled or rejected since", async () => {
    await sell([{ 1: 1 }, { 2: 2, 1: 1 }]);
    await sell([{ 3: 50 }, { 1: 40 }], null, 10);
    await sell([{ 4: 60 }, { 2: 30 }], "reversed", 20);
    const result = await run(TOP);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ topProducts: [top(1, 2, 2), top(2, 2, 1)] });
    expect(pg.queries).toHaveLength(1);
  });

  it("keeps counting orders recorded before outcomes were, until one is cancelled", async () => {
    const { "0003_order_outcomes": _, ...before } = migrations;
    const legacy = await createTestPostgres<Database>("insights_legacy", before);
    try {
      const fact = { unit_price: 100, currency_code: "USD", occurred_at: new Date("2025-12-01T00:00:00Z") };
      await insertSalesFacts(legacy.db, [
        { ...fact, event_id: uuid(1), order_id: uuid(11), product_id: productId(1), quantity: 2 },
        { ...fact, event_id: uuid(1), order_id: uuid(11), product_id: productId(2), quantity: 1 },
        { ...fact, event_id: uuid(2), order_id: uuid(12), product_id: productId(1), quantity: 3 },
      ]);
      await migrateToLatest(legacy.db, migrations);
      const ranking = async () =>
        (await findTopProducts(legacy.db, 10)).map((row) => [row.product_id, row.units_sold]);
      expect(await ranking()).toEqual([
        [productId(1), 5],
        [productId(2), 1],
      ]);
      await recordOrderOutcome(legacy.db, uuid(12), "reversed_at", new Date());
      expect(await ranking()).toEqual([
        [productId(1), 2],
        [productId(2), 1],
      ]);
    } finally {
      await legacy.drop();
    }
  });

  it("returns the first N, 10 by default", async () => {
    await sell([Object.fromEntries(Array.from({ length: 12 }, (_, i) => [i + 1, 20 - i]))]);
    const byDefault = (await run(TOP)).data as { topProducts: { product: { id: string } }[] };
    expect(byDefault.topProducts.map((sales) => sales.product.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => productId(i + 1)),
    );
    expect((await run(TOP, { first: 2 })).data).toEqual({ topProducts: [top(1, 20, 1), top(2, 19, 1)] });
    expect((await run(TOP, { first: 100 })).data).toMatchObject({ topProducts: { length: 12 } });
  });

  it("is for holders of insights:read only", async () => {
    await sell([{ 1: 2 }]);
    const anonymous = await run(TOP, {}, null);
    expect(anonymous).toMatchObject({
      data: { topProducts: null },
      errors: [{ extensions: { code: "UNAUTHENTICATED" } }],
    });
    const customer = await run(TOP, {}, await env.auth.bearer(uuid(1), "CUSTOMER"));
    expect(customer).toMatchObject({
      data: { topProducts: null },
      errors: [{ extensions: { code: "FORBIDDEN" } }],
    });
  });

  it("is empty before any order", async () => {
    expect((await run(TOP)).data).toEqual({ topProducts: [] });
  });

  it.each([0, -1, 101])("refuses first: %i with BAD_USER_INPUT and no query", async (first) => {
    const result = await run(TOP, { first });
    expect(result.data).toEqual({ topProducts: null });
    expect(result.errors).toEqual([
      expect.objectContaining({
        message: "first must be between 1 and 100.",
        extensions: { code: "BAD_USER_INPUT", field: "first" },
      }),
    ]);
    expect(pg.queries).toHaveLength(0);
  });

  it("refuses a malformed token with UNAUTHENTICATED", async () => {
    await expect(createContext(env.deps, { authorization: "Token abc" })).rejects.toMatchObject({
      extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
    });
  });
});

describe("_entities", () => {
  it("echoes Product references without touching the database (catalog resolves them)", async () => {
    const result = await run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id } } }`,
      {
        reps: [
          { __typename: "Product", id: productId(7) },
          { __typename: "Product", id: productId(8) },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ _entities: [{ id: productId(7) }, { id: productId(8) }] });
    expect(pg.queries).toHaveLength(0);
  });
});
