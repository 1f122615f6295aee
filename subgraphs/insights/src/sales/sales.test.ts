import type { EventPayloads } from "@nexus/events";
import { migrateToLatest } from "@nexus/stores";
import { createTestPostgres, type TestPostgres } from "@nexus/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createContext } from "../context.ts";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { createTestEnv, envelope, type TestEnv } from "../test-env.ts";
import { rebuildRollups } from "./facts.repository.ts";
import { findPerformance, findTopProducts } from "./sales.repository.ts";

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

/** Runs as a holder of `insights:read` unless told otherwise (`null`: anonymous). */
async function run(
  query: string,
  variables: Record<string, unknown> = {},
  authorization: string | null = analyst,
) {
  return env.run(query, variables, authorization ?? undefined);
}

type Line = [product: number, quantity: number, unitPrice: number, categoryId?: string];

/** OrderPlaced of order `n`; lines without a category play events queued before categories existed. */
const placed = (
  n: number,
  at: string,
  lines: Line[],
  customer: number | null,
  currencyCode = "USD",
): ReturnType<typeof envelope<"OrderPlaced">> =>
  envelope(
    "OrderPlaced",
    {
      orderId: uuid(n),
      customerId: customer === null ? null : uuid(customer),
      currencyCode,
      lines: lines.map(([product, quantity, unitPrice, categoryId]) =>
        categoryId === undefined
          ? { productId: productId(product), quantity, unitPrice }
          : { productId: productId(product), quantity, unitPrice, productName: `P${product}`, categoryId },
      ),
    },
    at,
  );
const confirmed = (n: number, at: string) => envelope("OrderConfirmed", { orderId: uuid(n) }, at);
const cancelled = (n: number, at: string) =>
  envelope("OrderCancelled", { orderId: uuid(n), reason: "changed mind" }, at);
const rejected = (n: number, at: string) =>
  envelope("OrderRejected", { orderId: uuid(n), reason: "card declined" }, at);
const refunded = (
  n: number,
  order: number | null,
  customer: number | null,
  at: string,
  lines: [product: number, quantity: number, unitPrice: number][],
  currencyCode = "USD",
) =>
  envelope(
    "OrderRefunded",
    {
      refundId: uuid(5000 + n),
      orderId: order === null ? null : uuid(order),
      customerId: customer === null ? null : uuid(customer),
      currencyCode,
      amount: lines.reduce((sum, [, quantity, unitPrice]) => sum + quantity * unitPrice, 0),
      lines: lines.map(([product, quantity, unitPrice]) => ({
        productId: productId(product),
        quantity,
        unitPrice,
      })),
      reason: "returned",
    } satisfies EventPayloads["OrderRefunded"],
    at,
  );

const A = 1;
const B = 2;
const C = 3;

/**
 * The store used by most tests. December 2025 is the period before January 2026.
 * - o1  A  Dec 10  p1 2 x 1000 (cat a)                   confirmed: a sale in December
 * - o2  B  Dec 20  p2 1 x 5000 (cat b)                   confirmed, cancelled Jan 3: no sale
 * - o3  A  Jan 5   p1 1 x 1000 (a), p2 2 x 5000 (b)      confirmed: 11000, 3 units
 * - o4  C  Jan 6 23:30  p3 4 x 250 (a)                   confirmed: 1000, 4 units
 * - o5  guest Jan 6  p1 3 x 1000 (an old event: no category)  confirmed: 3000, 3 units
 * - o6  B  Jan 7   p2 1 x 5000                            never confirmed: no sale
 * - o7  B  Jan 8   p1 1 x 1000                            confirmed, then rejected: no sale
 * - o8  C  Jan 9   p1 10 x 900 EUR                        confirmed: EUR only
 * - r1  A  Jan 10  refund of o1's p1 1 x 1000
 * - o9  A  Jan 31 23:59:59  p3 2 x 250 (a)               confirmation delivered before the order, both last
 * - o10 A  Feb 1   p3 2 x 250 (a)                         confirmed: February
 */
async function stock() {
  await env.deliver(
    placed(1, "2025-12-10T12:00:00Z", [[1, 2, 1000, "a"]], A),
    confirmed(1, "2025-12-10T12:01:00Z"),
    placed(2, "2025-12-20T12:00:00Z", [[2, 1, 5000, "b"]], B),
    confirmed(2, "2025-12-20T12:01:00Z"),
    placed(
      3,
      "2026-01-05T10:00:00Z",
      [
        [1, 1, 1000, "a"],
        [2, 2, 5000, "b"],
      ],
      A,
    ),
    cancelled(2, "2026-01-03T09:00:00Z"),
    confirmed(3, "2026-01-05T10:01:00Z"),
    placed(4, "2026-01-06T23:30:00Z", [[3, 4, 250, "a"]], C),
    confirmed(4, "2026-01-07T00:10:00Z"),
    placed(5, "2026-01-06T08:00:00Z", [[1, 3, 1000]], null),
    confirmed(5, "2026-01-06T08:01:00Z"),
    placed(6, "2026-01-07T08:00:00Z", [[2, 1, 5000, "b"]], B),
    placed(7, "2026-01-08T08:00:00Z", [[1, 1, 1000, "a"]], B),
    confirmed(7, "2026-01-08T08:01:00Z"),
    rejected(7, "2026-01-08T09:00:00Z"),
    placed(8, "2026-01-09T08:00:00Z", [[1, 10, 900, "a"]], C, "EUR"),
    confirmed(8, "2026-01-09T08:01:00Z"),
    refunded(1, 1, A, "2026-01-10T15:00:00Z", [[1, 1, 1000]]),
    placed(10, "2026-02-01T00:00:00Z", [[3, 2, 250, "a"]], A),
    confirmed(10, "2026-02-01T00:01:00Z"),
    confirmed(9, "2026-02-01T00:05:00Z"),
    placed(9, "2026-01-31T23:59:59Z", [[3, 2, 250, "a"]], A),
  );
}

const usd = (amount: number) => ({ amount, currencyCode: "USD" });

const OVERVIEW = `query ($from: DateTime!, $to: DateTime!, $currencyCode: String) {
  salesOverview(from: $from, to: $to, currencyCode: $currencyCode) {
    from to previousFrom
    revenue { current { amount currencyCode } previous { amount currencyCode } changeRatio }
    refunded { current { amount currencyCode } previous { amount currencyCode } changeRatio }
    orders { current previous changeRatio }
    units { current previous changeRatio }
    customers { current previous changeRatio }
    averageOrderValue { current { amount currencyCode } previous { amount currencyCode } changeRatio }
    returningCustomerShare { current previous change }
  } }`;
const JANUARY = { from: "2026-01-01T00:00:00.000Z", to: "2026-02-01T00:00:00.000Z" };

describe("salesOverview", () => {
  it("sums January's sales net of its refunds beside December's, in two queries", async () => {
    await stock();
    const result = await run(OVERVIEW, JANUARY);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      salesOverview: {
        ...JANUARY,
        previousFrom: "2025-12-01T00:00:00.000Z",
        // o3 11000 + o4 1000 + o5 3000 + o9 500, less r1's 1000; December: o1 only (o2 was cancelled).
        revenue: { current: usd(14500), previous: usd(2000), changeRatio: 6.25 },
        refunded: { current: usd(1000), previous: usd(0), changeRatio: null },
        orders: { current: 4, previous: 1, changeRatio: 3 },
        units: { current: 12, previous: 2, changeRatio: 5 },
        // A and C (the guest is nobody); in December A.
        customers: { current: 2, previous: 1, changeRatio: 1 },
        // Before refunds: 15500 / 4.
        averageOrderValue: { current: usd(3875), previous: usd(2000), changeRatio: 0.9375 },
        // A had ordered in December, C had not; in December A had not ordered before.
        returningCustomerShare: { current: 0.5, previous: 0, change: 0.5 },
      },
    });
    expect(pg.queries).toHaveLength(2);
  });

  it("keeps currencies apart", async () => {
    await stock();
    const result = await run(OVERVIEW, { ...JANUARY, currencyCode: "EUR" });
    expect(result.data).toMatchObject({
      salesOverview: {
        revenue: {
          current: { amount: 9000, currencyCode: "EUR" },
          previous: { amount: 0, currencyCode: "EUR" },
        },
        orders: { current: 1, previous: 0, changeRatio: null },
        units: { current: 10, previous: 0 },
        customers: { current: 1, previous: 0 },
        averageOrderValue: { current: { amount: 9000, currencyCode: "EUR" } },
        returningCustomerShare: { current: 0, previous: null, change: null },
      },
    });
  });

  it("answers zeros for a period without sales", async () => {
    const result = await run(OVERVIEW, JANUARY);
    expect(result.data).toMatchObject({
      salesOverview: {
        revenue: { current: usd(0), previous: usd(0), changeRatio: null },
        orders: { current: 0, previous: 0, changeRatio: null },
        averageOrderValue: { current: usd(0) },
        returningCustomerShare: { current: null, previous: null, change: null },
      },
    });
  });

  it("is the same after the roll-ups are rebuilt from the facts", async () => {
    await stock();
    const before = await run(OVERVIEW, JANUARY);
    await rebuildRollups(pg.db);
    expect(await run(OVERVIEW, JANUARY)).toEqual(before);
  });

  it.each([
    [
      { from: "2026-01-01T00:00:01Z", to: JANUARY.to },
      "from must be a UTC midnight, e.g. 2026-01-01T00:00:00Z.",
      "from",
    ],
    [
      { from: JANUARY.from, to: "2026-01-31T12:00:00Z" },
      "to must be a UTC midnight, e.g. 2026-01-01T00:00:00Z.",
      "to",
    ],
    [{ from: JANUARY.to, to: JANUARY.from }, "from must be before to.", "to"],
    [{ from: JANUARY.from, to: JANUARY.from }, "from must be before to.", "to"],
    [{ from: "2023-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" }, "A period spans at most 3 years.", "to"],
    [
      { ...JANUARY, currencyCode: "usd" },
      "currencyCode must be an ISO 4217 code of three capital letters, e.g. USD.",
      "currencyCode",
    ],
  ])("refuses %j with BAD_USER_INPUT and no query", async (variables, message, field) => {
    const result = await run(OVERVIEW, variables);
    expect(result.data).toEqual({ salesOverview: null });
    expect(result.errors).toEqual([
      expect.objectContaining({ message, extensions: { code: "BAD_USER_INPUT", field } }),
    ]);
    expect(pg.queries).toHaveLength(0);
  });

  it("takes exactly 3 years", async () => {
    const result = await run(OVERVIEW, { from: "2023-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z" });
    expect(result.errors).toBeUndefined();
  });
});

const TREND = `query ($from: DateTime!, $to: DateTime!, $interval: TrendInterval!, $currencyCode: String) {
  salesTrend(from: $from, to: $to, interval: $interval, currencyCode: $currencyCode) {
    from to revenue { amount currencyCode } orders units } }`;
const point = (from: string, to: string, revenue: number, orders: number, units: number) => ({
  from: `${from}T00:00:00.000Z`,
  to: `${to}T00:00:00.000Z`,
  revenue: usd(revenue),
  orders,
  units,
});

describe("salesTrend", () => {
  it("gives every day, zeros included, each sale on its UTC placing day, in one query", async () => {
    await stock();
    const result = await run(TREND, {
      from: "2026-01-05T00:00:00Z",
      to: "2026-01-11T00:00:00Z",
      interval: "DAY",
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      salesTrend: [
        point("2026-01-05", "2026-01-06", 11000, 1, 3),
        // o4 at 23:30 UTC and the guest's o5.
        point("2026-01-06", "2026-01-07", 4000, 2, 7),
        point("2026-01-07", "2026-01-08", 0, 0, 0),
        // o7 was rejected after its confirmation; o8 is in euros.
        point("2026-01-08", "2026-01-09", 0, 0, 0),
        point("2026-01-09", "2026-01-10", 0, 0, 0),
        // The refund of a December order counts on its own day.
        point("2026-01-10", "2026-01-11", -1000, 0, 0),
      ],
    });
    expect(pg.queries).toHaveLength(1);
  });

  it("cuts ISO weeks (Monday to Sunday) to the period", async () => {
    await stock();
    const result = await run(TREND, {
      from: "2025-12-03T00:00:00Z",
      to: "2026-01-14T00:00:00Z",
      interval: "WEEK",
    });
    expect(result.data).toEqual({
      salesTrend: [
        point("2025-12-03", "2025-12-08", 0, 0, 0),
        point("2025-12-08", "2025-12-15", 2000, 1, 2),
        point("2025-12-15", "2025-12-22", 0, 0, 0),
        point("2025-12-22", "2025-12-29", 0, 0, 0),
        point("2025-12-29", "2026-01-05", 0, 0, 0),
        point("2026-01-05", "2026-01-12", 14000, 3, 10),
        point("2026-01-12", "2026-01-14", 0, 0, 0),
      ],
    });
  });

  it("gives calendar months, the last second of January in January", async () => {
    await stock();
    const result = await run(TREND, {
      from: "2025-12-01T00:00:00Z",
      to: "2026-03-01T00:00:00Z",
      interval: "MONTH",
    });
    expect(result.data).toEqual({
      salesTrend: [
        point("2025-12-01", "2026-01-01", 2000, 1, 2),
        point("2026-01-01", "2026-02-01", 14500, 4, 12),
        point("2026-02-01", "2026-03-01", 500, 1, 2),
      ],
    });
  });

  it("refuses more than 1000 points before any query", async () => {
    const result = await run(TREND, {
      from: "2023-06-01T00:00:00Z",
      to: "2026-03-01T00:00:00Z",
      interval: "DAY",
    });
    expect(result.errors).toEqual([
      expect.objectContaining({
        message: "A trend has at most 1000 points; choose a longer interval or a shorter period.",
        extensions: { code: "BAD_USER_INPUT", field: "interval" },
      }),
    ]);
    expect(pg.queries).toHaveLength(0);
    const weekly = await run(TREND, {
      from: "2023-06-01T00:00:00Z",
      to: "2026-03-01T00:00:00Z",
      interval: "WEEK",
    });
    expect((weekly.data as { salesTrend: unknown[] }).salesTrend).toHaveLength(144);
  });
});

const PRODUCTS = `query ($from: DateTime!, $to: DateTime!, $first: Int, $after: String, $sortBy: PerformanceSort, $categoryId: ID, $currencyCode: String) {
  productPerformance(from: $from, to: $to, first: $first, after: $after, sortBy: $sortBy, categoryId: $categoryId, currencyCode: $currencyCode) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { node { product { id } revenue { amount currencyCode } units orders returnedUnits returnRate } } } }`;
const CATEGORIES = `query ($from: DateTime!, $to: DateTime!, $first: Int, $after: String, $sortBy: PerformanceSort) {
  categoryPerformance(from: $from, to: $to, first: $first, after: $after, sortBy: $sortBy) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { categoryId revenue { amount currencyCode } units orders returnedUnits returnRate } } } }`;

type Page<T> = {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: T }[];
};
const productIds = (data: unknown) =>
  (data as { productPerformance: Page<{ product: { id: string } }> }).productPerformance.edges.map(
    (edge) => edge.node.product.id,
  );

describe("productPerformance", () => {
  // January: p1 o3 1 + o5 3 units (4000), 1 refunded (1000); p2 o3 2 units; p3 o4 4 + o9 2 units.
  const p1 = {
    product: { id: productId(1) },
    revenue: usd(3000),
    units: 4,
    orders: 2,
    returnedUnits: 1,
    returnRate: 0.25,
  };
  const p2 = {
    product: { id: productId(2) },
    revenue: usd(10000),
    units: 2,
    orders: 1,
    returnedUnits: 0,
    returnRate: 0,
  };
  const p3 = {
    product: { id: productId(3) },
    revenue: usd(1500),
    units: 6,
    orders: 2,
    returnedUnits: 0,
    returnRate: 0,
  };

  it("ranks by net revenue by default, in one query", async () => {
    await stock();
    const result = await run(PRODUCTS, JANUARY);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      productPerformance: {
        totalCount: 3,
        pageInfo: { hasNextPage: false, hasPreviousPage: false, endCursor: expect.any(String) },
        edges: [{ node: p2 }, { node: p1 }, { node: p3 }],
      },
    });
    expect(pg.queries).toHaveLength(1);
  });

  it.each([
    ["UNITS", [3, 1, 2]],
    // p1 and p3 tie on orders: the lower id first.
    ["ORDERS", [1, 3, 2]],
    ["RETURN_RATE", [1, 2, 3]],
    ["REVENUE", [2, 1, 3]],
  ])("ranks by %s with ties broken by id", async (sortBy, order) => {
    await stock();
    expect(productIds((await run(PRODUCTS, { ...JANUARY, sortBy })).data)).toEqual(order.map(productId));
  });

  it("pages with cursors of its own sort", async () => {
    await stock();
    const first = (await run(PRODUCTS, { ...JANUARY, first: 2 })).data as {
      productPerformance: Page<unknown>;
    };
    expect(productIds(first)).toEqual([productId(2), productId(1)]);
    expect(first.productPerformance.pageInfo.hasNextPage).toBe(true);
    const after = first.productPerformance.pageInfo.endCursor;
    const second = await run(PRODUCTS, { ...JANUARY, first: 2, after });
    expect(second.data).toMatchObject({
      productPerformance: {
        totalCount: 3,
        pageInfo: { hasNextPage: false, hasPreviousPage: true },
        edges: [{ node: p3 }],
      },
    });
    const otherSort = await run(PRODUCTS, { ...JANUARY, after, sortBy: "UNITS" });
    expect(otherSort.errors).toEqual([
      expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "after" } }),
    ]);
    const forged = await run(PRODUCTS, { ...JANUARY, after: "bm90IGEgY3Vyc29y" });
    expect(forged.errors).toEqual([
      expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "after" } }),
    ]);
  });

  it("narrows to the products sold in a category", async () => {
    await stock();
    expect(productIds((await run(PRODUCTS, { ...JANUARY, categoryId: "b" })).data)).toEqual([productId(2)]);
    expect(productIds((await run(PRODUCTS, { ...JANUARY, categoryId: "a" })).data)).toEqual([
      productId(1),
      productId(3),
    ]);
  });

  it("keeps currencies apart", async () => {
    await stock();
    const result = await run(PRODUCTS, { ...JANUARY, currencyCode: "EUR" });
    expect(result.data).toMatchObject({
      productPerformance: {
        totalCount: 1,
        edges: [
          {
            node: {
              product: { id: productId(1) },
              revenue: { amount: 9000, currencyCode: "EUR" },
              units: 10,
            },
          },
        ],
      },
    });
  });

  it("lists a product only refunded in the period, with no return rate", async () => {
    await stock();
    const result = await run(PRODUCTS, { from: "2026-01-10T00:00:00Z", to: "2026-01-11T00:00:00Z" });
    expect(result.data).toEqual({
      productPerformance: {
        totalCount: 1,
        pageInfo: expect.anything(),
        edges: [
          {
            node: {
              product: { id: productId(1) },
              revenue: usd(-1000),
              units: 0,
              orders: 0,
              returnedUnits: 1,
              returnRate: null,
            },
          },
        ],
      },
    });
  });

  it.each([0, 101])("refuses first: %i", async (first) => {
    const result = await run(PRODUCTS, { ...JANUARY, first });
    expect(result.errors).toEqual([
      expect.objectContaining({
        message: "first must be between 1 and 100.",
        extensions: { code: "BAD_USER_INPUT", field: "first" },
      }),
    ]);
  });
});

describe("categoryPerformance", () => {
  it("sums lines by the category they were sold in; lines without one are left out", async () => {
    await stock();
    const result = await run(CATEGORIES, JANUARY);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      categoryPerformance: {
        totalCount: 2,
        pageInfo: { hasNextPage: false, endCursor: expect.any(String) },
        edges: [
          {
            node: {
              categoryId: "b",
              revenue: usd(10000),
              units: 2,
              orders: 1,
              returnedUnits: 0,
              returnRate: 0,
            },
          },
          // o3's p1 (1000), o4 and o9's p3 (1500); o5 had no category; r1 refunds o1's p1, in a.
          {
            node: {
              categoryId: "a",
              revenue: usd(1500),
              units: 7,
              orders: 3,
              returnedUnits: 1,
              returnRate: 1 / 7,
            },
          },
        ],
      },
    });
    expect(pg.queries).toHaveLength(1);
    const byRate = (await run(CATEGORIES, { ...JANUARY, sortBy: "RETURN_RATE", first: 1 })).data as {
      categoryPerformance: Page<{ categoryId: string }>;
    };
    expect(byRate.categoryPerformance.edges.map((edge) => edge.node.categoryId)).toEqual(["a"]);
    expect(byRate.categoryPerformance.pageInfo.hasNextPage).toBe(true);
  });

  it("gives a refund its category when the refund arrives before the order it refunds", async () => {
    await env.deliver(
      refunded(2, 20, A, "2026-01-20T10:00:00Z", [[1, 1, 700]]),
      placed(20, "2026-01-02T10:00:00Z", [[1, 3, 700, "a"]], A),
      confirmed(20, "2026-01-02T10:01:00Z"),
    );
    expect((await run(CATEGORIES, JANUARY)).data).toMatchObject({
      categoryPerformance: {
        edges: [{ node: { categoryId: "a", revenue: usd(1400), units: 3, orders: 1, returnedUnits: 1 } }],
      },
    });
  });
});

const TOP = `query ($first: Int) { topProducts(first: $first) { product { id } unitsSold orderCount } }`;
const top = (product: number, unitsSold: number, orderCount: number) => ({
  product: { id: productId(product) },
  unitsSold,
  orderCount,
});

describe("topProducts", () => {
  it("ranks by units sold in every currency and every day, then by product id, in one query", async () => {
    await stock();
    const result = await run(TOP);
    expect(result.errors).toBeUndefined();
    // p1: o1 2 + o3 1 + o5 3 + o8 10 (EUR); p3: o4 4 + o9 2 + o10 2; p2: o3 2 (o2 cancelled, o6 unconfirmed).
    expect(result.data).toEqual({ topProducts: [top(1, 16, 4), top(3, 8, 3), top(2, 2, 1)] });
    expect(pg.queries).toHaveLength(1);
    expect(pg.queries[0]).toMatch(/from "daily_product_sales"/);
  });

  it("breaks ties by product id and returns the first N, 10 by default", async () => {
    await env.deliver(
      placed(
        1,
        "2026-01-02T00:00:00Z",
        Array.from({ length: 12 }, (_, i): Line => [12 - i, 5, 100]),
        null,
      ),
      confirmed(1, "2026-01-02T00:00:00Z"),
    );
    const byDefault = (await run(TOP)).data as { topProducts: { product: { id: string } }[] };
    expect(byDefault.topProducts.map((sales) => sales.product.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => productId(i + 1)),
    );
    expect((await run(TOP, { first: 2 })).data).toEqual({ topProducts: [top(1, 5, 1), top(2, 5, 1)] });
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
});

describe("access", () => {
  const fields = [
    ["topProducts", TOP, {}],
    ["salesOverview", OVERVIEW, JANUARY],
    ["salesTrend", TREND, { ...JANUARY, interval: "DAY" }],
    ["productPerformance", PRODUCTS, JANUARY],
    ["categoryPerformance", CATEGORIES, JANUARY],
  ] as const;

  it.each(fields)("%s is for holders of insights:read only", async (field, query, variables) => {
    const anonymous = await run(query, variables, null);
    expect(anonymous).toMatchObject({
      data: { [field]: null },
      errors: [{ extensions: { code: "UNAUTHENTICATED" } }],
    });
    const customer = await run(query, variables, await env.auth.bearer(uuid(1), "CUSTOMER"));
    expect(customer).toMatchObject({
      data: { [field]: null },
      errors: [{ extensions: { code: "FORBIDDEN" } }],
    });
    expect(pg.queries).toHaveLength(0);
  });

  it("refuses a malformed token with UNAUTHENTICATED", async () => {
    await expect(createContext(env.deps, { authorization: "Token abc" })).rejects.toMatchObject({
      extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
    });
  });
});

describe("migration 0005", () => {
  it("rolls up the facts of the older tables, from sales_facts on", async () => {
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0003"));
    const legacy = await createTestPostgres<Database>("insights_legacy", before);
    try {
      await sql`INSERT INTO sales_facts (event_id, order_id, product_id, quantity, unit_price, currency_code, occurred_at) VALUES
        (${uuid(1)}, ${uuid(11)}, ${productId(1)}, 2, 100, 'USD', '2025-12-01T10:00:00Z'),
        (${uuid(1)}, ${uuid(11)}, ${productId(2)}, 1, 300, 'USD', '2025-12-01T10:00:00Z'),
        (${uuid(2)}, ${uuid(12)}, ${productId(1)}, 3, 100, 'USD', '2025-12-02T10:00:00Z')`.execute(legacy.db);
      await migrateToLatest(legacy.db, migrations);
      const ranking = async () =>
        (await findTopProducts(legacy.db, 10)).map((row) => [
          row.product_id,
          row.units_sold,
          row.order_count,
        ]);
      expect(await ranking()).toEqual([
        [productId(1), 5, 2],
        [productId(2), 1, 1],
      ]);
      const december = { fromDay: "2025-12-01", toDay: "2026-01-01" };
      const performance = await findPerformance(legacy.db, {
        by: "product",
        currencyCode: "USD",
        range: december,
        sortBy: "REVENUE",
        offset: 0,
        limit: 10,
      });
      expect(performance.map((row) => [row.key, row.revenue, row.units, row.orders])).toEqual([
        [productId(1), 500, 5, 2],
        [productId(2), 300, 1, 1],
      ]);
      const days = await sql<{ day: string; revenue: number; orders: number }>`
        SELECT day::text AS day, revenue::int AS revenue, orders FROM daily_sales ORDER BY day`.execute(
        legacy.db,
      );
      expect(days.rows).toEqual([
        { day: "2025-12-01", revenue: 500, orders: 1 },
        { day: "2025-12-02", revenue: 300, orders: 1 },
      ]);
      expect(
        (
          await legacy.db
            .selectFrom("order_line_facts")
            .select(["product_id", "amount"])
            .orderBy("order_id")
            .orderBy("product_id")
            .execute()
        ).map((row) => [row.product_id, Number(row.amount)]),
      ).toEqual([
        [productId(1), 200],
        [productId(2), 300],
        [productId(1), 300],
      ]);
    } finally {
      await legacy.drop();
    }
  });
});

describe("_entities", () => {
  it("echoes Product and User references without touching the database", async () => {
    const result = await run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id } ... on User { id } } }`,
      {
        reps: [
          { __typename: "Product", id: productId(7) },
          { __typename: "User", id: uuid(8) },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ _entities: [{ id: productId(7) }, { id: uuid(8) }] });
    expect(pg.queries).toHaveLength(0);
  });
});
