import { createTestPostgres, type TestPostgres } from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import {
  featureVector,
  MODEL_FEATURES,
  meanGapDays,
  monetary,
  returnShare,
} from "./customer-features.model.ts";
import {
  countChurnLabels,
  findCustomerFeatures,
  findNewestSaleTime,
} from "./customer-features.repository.ts";
import { insertRefunds, insertSales, productId, uuid } from "./sales-history.fixture.ts";

let pg: TestPostgres<Database>;
const T = new Date("2026-06-30T00:00:00Z");
const day = (offset: number) => new Date(T.getTime() + offset * 86_400_000);
const line = (product: number, quantity: number, unitPrice: number) => ({
  productId: productId(product),
  quantity,
  unitPrice,
});
const [A, B, C, D] = [uuid(1), uuid(2), uuid(3), uuid(4)];

beforeAll(async () => {
  pg = await createTestPostgres<Database>("insights_features", migrations);
  await insertSales(pg.db, [
    { orderId: uuid(101), customerId: A, placedAt: day(-10), lines: [line(1, 2, 1000), line(2, 1, 500)] },
    { orderId: uuid(102), customerId: A, placedAt: day(-45), lines: [line(1, 1, 1000)] },
    { orderId: uuid(103), customerId: A, placedAt: day(-100), lines: [line(3, 3, 200)] },
    { orderId: uuid(104), customerId: A, placedAt: day(-200), lines: [line(2, 1, 500)] },
    // After T: not a feature, but the label's "bought again".
    { orderId: uuid(105), customerId: A, placedAt: day(5), lines: [line(1, 1, 1000)] },
    // Not sales, or not in the store currency: never counted.
    {
      orderId: uuid(106),
      customerId: A,
      placedAt: day(-20),
      outcome: "cancelled",
      lines: [line(9, 9, 9000)],
    },
    { orderId: uuid(107), customerId: A, placedAt: day(-5), outcome: "pending", lines: [line(9, 9, 9000)] },
    { orderId: uuid(108), customerId: A, placedAt: day(-15), currencyCode: "EUR", lines: [line(9, 1, 900)] },
    { orderId: uuid(201), customerId: B, placedAt: day(-1), lines: [line(4, 1, 300)] },
    { orderId: uuid(301), customerId: C, placedAt: day(30), lines: [line(4, 1, 300)] },
    { orderId: uuid(401), customerId: D, placedAt: day(-3), currencyCode: "EUR", lines: [line(4, 1, 300)] },
    { orderId: uuid(501), customerId: null, placedAt: day(-3), lines: [line(4, 1, 300)] },
  ]);
  await insertRefunds(pg.db, [
    {
      refundId: uuid(901),
      orderId: uuid(101),
      customerId: A,
      refundedAt: day(-8),
      lines: [line(1, 1, 1000)],
    },
    // After T, and in another currency: not counted.
    { refundId: uuid(902), orderId: uuid(102), customerId: A, refundedAt: day(2), lines: [line(1, 1, 1000)] },
    {
      refundId: uuid(903),
      orderId: null,
      customerId: A,
      refundedAt: day(-8),
      currencyCode: "EUR",
      lines: [line(9, 1, 900)],
    },
  ]);
});

afterAll(async () => {
  await pg?.drop();
});

describe("findCustomerFeatures", () => {
  it("computes each customer's features as of T from sales and refunds up to T", async () => {
    const rows = await findCustomerFeatures(pg.db, {
      asOf: T,
      currencyCode: "USD",
      labelEnd: day(90),
      limit: 10,
    });
    expect(rows.map((row) => row.customerId)).toEqual([A, B]);
    const [a, b] = rows;
    expect(a).toEqual({
      customerId: A,
      recencyDays: 10,
      tenureDays: 200,
      orders: 4,
      grossRevenue: 4600,
      refunded: 1000,
      units: 8,
      lines: 5,
      distinctProducts: 3,
      orders30: 1,
      ordersPrev30: 1,
      orders90: 2,
      ordersPrev90: 1,
      orders180: 3,
      ordersPrev180: 1,
      revenue90: 3500,
      revenuePrev90: 600,
      laterOrders: 1,
    });
    expect(b).toMatchObject({
      customerId: B,
      recencyDays: 1,
      tenureDays: 1,
      orders: 1,
      refunded: 0,
      laterOrders: 0,
    });
    if (!a) throw new Error("no row");
    expect(monetary(a)).toBe(3600);
    expect(meanGapDays(a)).toBeCloseTo(190 / 3, 10);
    expect(returnShare(a)).toBeCloseTo(1000 / 4600, 10);
    const vector = featureVector(a);
    expect(vector).toHaveLength(MODEL_FEATURES.length);
    expect(vector[0]).toBeCloseTo(Math.log1p(10), 10);
    expect(vector.every(Number.isFinite)).toBe(true);
  });

  it("leaves the label out without labelEnd, and pages by customer id", async () => {
    const first = await findCustomerFeatures(pg.db, { asOf: T, currencyCode: "USD", limit: 1 });
    expect(first.map((row) => [row.customerId, row.laterOrders])).toEqual([[A, null]]);
    const next = await findCustomerFeatures(pg.db, {
      asOf: T,
      currencyCode: "USD",
      afterCustomerId: A,
      limit: 1,
    });
    expect(next.map((row) => row.customerId)).toEqual([B]);
    const euro = await findCustomerFeatures(pg.db, { asOf: T, currencyCode: "EUR", limit: 10 });
    expect(euro.map((row) => row.customerId)).toEqual([A, D]);
  });

  it("counts churned and retained customers of a window, and finds the newest sale", async () => {
    expect(await countChurnLabels(pg.db, "USD", T, day(90))).toEqual({ churned: 1, retained: 1 });
    expect(await countChurnLabels(pg.db, "USD", T, day(3))).toEqual({ churned: 2, retained: 0 });
    expect(await findNewestSaleTime(pg.db, "USD")).toEqual(day(30));
    expect(await findNewestSaleTime(pg.db, "GBP")).toBeNull();
  });
});
