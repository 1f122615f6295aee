import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import {
  clearFacts,
  type FactOrder,
  insertOrders,
  insertRefunds,
  productId,
  seededRandom,
  uuid,
} from "../test-facts.ts";
import { evaluateForecast } from "./evaluation.service.ts";
import {
  forecastError,
  forecastSeries,
  MIN_SEASONAL_WEEKS,
  SEASON,
  seasonalIndices,
  seasonSlot,
  WEEK_MS,
  weekStart,
  weeksOfCover,
} from "./forecast.model.ts";

let env: TestEnv;
let staff: string;
let customer: string;

beforeAll(async () => {
  env = await createTestEnv("insights-forecast");
  staff = await env.auth.bearer(uuid(9999), "ADMIN");
  customer = await env.auth.bearer(uuid(1));
});

afterAll(async () => {
  await env?.close();
});

beforeEach(() => clearFacts(env.pg.db));

const p = productId;
/** A Wednesday: the newest sale of the synthetic histories, so its week (from Monday 1 June) is forecast. */
const NEWEST = new Date("2026-06-03T12:00:00Z");
const ORIGIN = new Date("2026-06-01T00:00:00Z");
const weekBefore = (weeks: number) => new Date(ORIGIN.getTime() - weeks * WEEK_MS + 2 * 86_400_000);

/** A normal draw from two uniforms (Box-Muller). */
const gaussian = (random: () => number) =>
  Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/**
 * `years` of weekly sales for `products` products in 3 categories: each category has its own
 * yearly cycle (a sine, peak in a different week), each product its own volume and a slow
 * trend, Poisson-like noise; one order per product and week holds that week's units.
 */
function seasonalHistory(products: number, years: number, seed: number): FactOrder[] {
  const random = seededRandom(seed);
  const history: FactOrder[] = [];
  const weeks = years * SEASON;
  for (let k = 0; k < products; k += 1) {
    const category = k % 3;
    const base = 8 + 30 * random();
    const growth = (random() - 0.5) * 0.004;
    for (let w = weeks; w >= 1; w -= 1) {
      const t = weeks - w;
      const season = 1 + 0.6 * Math.sin((2 * Math.PI * (t + category * 17)) / SEASON);
      const demand = base * season * (1 + growth * t);
      const units = Math.max(0, Math.round(demand + Math.sqrt(demand) * gaussian(random)));
      if (units === 0) continue;
      history.push({
        placedAt: weekBefore(w),
        lines: [{ productId: p(k + 1), quantity: units, categoryId: `category-${category}` }],
      });
    }
  }
  history.push({ placedAt: NEWEST, lines: [{ productId: p(999), quantity: 1 }] });
  return history;
}

describe("unit: weekly series", () => {
  it("starts weeks on Monday 00:00 UTC and slots them by week of the cycle", () => {
    expect(weekStart(new Date("2026-06-03T23:59:00Z")).toISOString()).toBe("2026-06-01T00:00:00.000Z");
    expect(weekStart(new Date("2026-06-01T00:00:00Z")).toISOString()).toBe("2026-06-01T00:00:00.000Z");
    expect(weekStart(new Date("2026-06-07T23:59:59Z")).toISOString()).toBe("2026-06-01T00:00:00.000Z");
    const slot = seasonSlot(ORIGIN);
    expect(seasonSlot(new Date(ORIGIN.getTime() + SEASON * WEEK_MS))).toBe(slot);
    expect(seasonSlot(new Date(ORIGIN.getTime() + WEEK_MS))).toBe((slot + 1) % SEASON);
  });

  it("finds a yearly shape from a cycle and a half, none from fewer weeks", () => {
    const first = new Date("2024-01-01T00:00:00Z");
    const sine = Array.from(
      { length: 3 * SEASON },
      (_, t) => 100 * (1 + 0.5 * Math.sin((2 * Math.PI * t) / SEASON)),
    );
    const shape = seasonalIndices(sine, first);
    expect(shape).not.toBeNull();
    const indices = shape as number[];
    expect(indices.reduce((a, b) => a + b, 0) / SEASON).toBeCloseTo(1, 6);
    // The peak is a quarter of the cycle after the first week.
    const peak = indices.indexOf(Math.max(...indices));
    expect(Math.abs(peak - ((seasonSlot(first) + SEASON / 4) % SEASON))).toBeLessThanOrEqual(1);
    expect(seasonalIndices(sine.slice(0, MIN_SEASONAL_WEEKS), first)).not.toBeNull();
    expect(seasonalIndices(sine.slice(0, MIN_SEASONAL_WEEKS - 1), first)).toBeNull();
  });

  it("forecasts a steady series at its level, inside its band", () => {
    const random = seededRandom(1);
    const series = Array.from({ length: 60 }, () => 20 + Math.round(4 * (random() - 0.5)));
    const forecast = forecastSeries(series, 4, null, 0);
    expect(forecast.method).toBe("HOLT");
    for (const point of forecast.points) {
      expect(point.units).toBeGreaterThan(18);
      expect(point.units).toBeLessThan(22);
      expect(point.low).toBeLessThanOrEqual(point.units);
      expect(point.high).toBeGreaterThanOrEqual(point.units);
    }
    // The band widens with the horizon.
    const [first, , , last] = forecast.points;
    expect((last?.high ?? 0) - (last?.low ?? 0)).toBeGreaterThanOrEqual(
      (first?.high ?? 0) - (first?.low ?? 0),
    );
  });

  it("uses Croston for intermittent demand and forecasts nothing without sales", () => {
    const series = Array.from({ length: 40 }, (_, t) => (t % 4 === 0 ? 4 : 0));
    const forecast = forecastSeries(series, 2, null, 0);
    expect(forecast.method).toBe("CROSTON");
    // About one unit a week: 4 units every 4 weeks, with the bias correction's 5% off.
    expect(forecast.points[0]?.units).toBeGreaterThan(0.8);
    expect(forecast.points[0]?.units).toBeLessThan(1.1);
    expect(forecastSeries([0, 0, 0], 2, null, 0)).toEqual({
      method: "NO_HISTORY",
      points: [
        { units: 0, low: 0, high: 0 },
        { units: 0, low: 0, high: 0 },
      ],
    });
  });

  it("computes weeks of cover week by week", () => {
    expect(weeksOfCover(15, [10, 10, 10])).toBe(1.5);
    expect(weeksOfCover(25, [10, 5, 20])).toBe(2.5);
    expect(weeksOfCover(0, [10])).toBe(0);
    expect(weeksOfCover(50, [10, 10])).toBe(5);
    expect(weeksOfCover(50, [0, 0])).toBeNull();
  });

  it("measures MAE and WAPE", () => {
    expect(
      forecastError([
        { forecast: 10, actual: 8 },
        { forecast: 5, actual: 10 },
      ]),
    ).toEqual({ mae: 3.5, wape: 7 / 18 });
  });
});

describe("evaluateForecast", () => {
  it("beats the naive last-four-weeks mean on a seasonal history", async () => {
    await insertOrders(env.pg.db, seasonalHistory(12, 3, 7));
    const evaluation = await evaluateForecast(env.pg.db, { holdoutWeeks: 13 });
    expect(evaluation.products).toBe(12);
    expect(evaluation.holdoutFrom?.toISOString()).toBe(
      new Date(ORIGIN.getTime() - 13 * WEEK_MS).toISOString(),
    );
    expect(evaluation.model.wape).toBeLessThan(evaluation.naive.wape);
    expect(evaluation.model.mae).toBeLessThan(evaluation.naive.mae);
    console.info("forecast 13-week holdout", JSON.stringify(evaluation));
  });

  it("is empty without sales", async () => {
    expect(await evaluateForecast(env.pg.db, { holdoutWeeks: 4 })).toMatchObject({
      products: 0,
      holdoutFrom: null,
    });
  });
});

const DEMAND = `query ($reps: [_Any!]!, $weeks: Int) {
  _entities(representations: $reps) {
    ... on Product { id demandForecast(weeks: $weeks) { method historyWeeks categorySeasonality weeks { weekStart units low high } } }
  }
}`;
const product = (n: number) => ({ __typename: "Product", id: p(n) });

describe("Product.demandForecast", () => {
  it("forecasts from the category's shape, for several products with one set of queries", async () => {
    await insertOrders(env.pg.db, seasonalHistory(3, 3, 11));
    env.pg.queries.length = 0;
    const result = await env.run(DEMAND, { reps: [product(1), product(2), product(500)], weeks: 3 }, staff);
    expect(result.errors).toBeUndefined();
    const [one, , unknown] = (result.data?._entities ?? []) as {
      demandForecast: {
        method: string;
        historyWeeks: number;
        categorySeasonality: boolean;
        weeks: { weekStart: string; units: number; low: number; high: number }[];
      };
    }[];
    expect(one?.demandForecast).toMatchObject({
      method: "HOLT",
      historyWeeks: 3 * SEASON,
      categorySeasonality: true,
    });
    expect(one?.demandForecast.weeks.map((week) => week.weekStart)).toEqual(
      [0, 1, 2].map((w) => new Date(ORIGIN.getTime() + w * WEEK_MS).toISOString()),
    );
    for (const week of one?.demandForecast.weeks ?? []) {
      expect(week.low).toBeLessThanOrEqual(week.units);
      expect(week.high).toBeGreaterThanOrEqual(week.units);
    }
    expect(unknown?.demandForecast).toMatchObject({ method: "NO_HISTORY", historyWeeks: 0 });
    expect(unknown?.demandForecast.weeks[0]).toEqual({
      weekStart: ORIGIN.toISOString(),
      units: 0,
      low: 0,
      high: 0,
    });
    expect(env.pg.queries.filter((query) => query.includes("FROM daily_product_sales"))).toHaveLength(1);
  });

  it("counts sales net of returns", async () => {
    const orders: FactOrder[] = Array.from({ length: 30 }, (_, w) => ({
      placedAt: weekBefore(30 - w),
      lines: [{ productId: p(1), quantity: 5 }],
    }));
    await insertOrders(env.pg.db, [
      ...orders,
      { placedAt: NEWEST, lines: [{ productId: p(2), quantity: 1 }] },
    ]);
    await insertRefunds(
      env.pg.db,
      Array.from({ length: 30 }, (_, w) => ({
        refundedAt: weekBefore(30 - w),
        lines: [{ productId: p(1), quantity: 2, unitPrice: 1000 }],
      })),
    );
    const result = await env.run(DEMAND, { reps: [product(1)], weeks: 1 }, staff);
    const [forecast] = (result.data?._entities ?? []) as { demandForecast: { weeks: { units: number }[] } }[];
    expect(forecast?.demandForecast.weeks[0]?.units).toBeCloseTo(3, 6);
  });

  it("needs insights:read", async () => {
    const result = await env.run(DEMAND, { reps: [product(1)] }, customer);
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const anonymous = await env.run(DEMAND, { reps: [product(1)] });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it.each([0, 27])("refuses weeks: %i", async (weeks) => {
    const result = await env.run(DEMAND, { reps: [product(1)], weeks }, staff);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "weeks" });
  });
});

describe("Product.weeksOfCover", () => {
  const COVER = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id weeksOfCover } } }`;

  it("divides the available units, which the gateway sends with the reference, by the forecast", async () => {
    const orders: FactOrder[] = Array.from({ length: 30 }, (_, w) => ({
      placedAt: weekBefore(30 - w),
      lines: [{ productId: p(1), quantity: 10 }],
    }));
    await insertOrders(env.pg.db, [
      ...orders,
      { placedAt: NEWEST, lines: [{ productId: p(2), quantity: 1 }] },
    ]);
    const result = await env.run(
      COVER,
      {
        reps: [
          { ...product(1), inventory: { available: 25 } },
          { ...product(1), inventory: { available: 0 } },
          { ...product(3), inventory: { available: 25 } },
        ],
      },
      staff,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: p(1), weeksOfCover: 2.5 },
      { id: p(1), weeksOfCover: 0 },
      // Never sold: no demand, no cover to compute.
      { id: p(3), weeksOfCover: null },
    ]);
  });

  it("needs insights:read", async () => {
    const result = await env.run(COVER, { reps: [{ ...product(1), inventory: { available: 3 } }] }, customer);
    expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("salesForecast", () => {
  const SALES = `query ($weeks: Int) {
    salesForecast(weeks: $weeks) {
      units { weekStart units low high }
      revenue { currencyCode weeks { weekStart amount { amount currencyCode } low { amount } high { amount } } }
    }
  }`;

  it("forecasts the store's units and its revenue per currency, net of refunds", async () => {
    const weeks = 20;
    const orders: FactOrder[] = Array.from({ length: weeks }, (_, w) => [
      { placedAt: weekBefore(weeks - w), lines: [{ productId: p(1), quantity: 4, unitPrice: 2500 }] },
      {
        placedAt: weekBefore(weeks - w),
        currencyCode: "EUR",
        lines: [{ productId: p(2), quantity: 1, unitPrice: 1000 }],
      },
    ]).flat();
    await insertOrders(env.pg.db, [
      ...orders,
      { placedAt: NEWEST, lines: [{ productId: p(2), quantity: 1 }] },
    ]);
    await insertRefunds(
      env.pg.db,
      Array.from({ length: weeks }, (_, w) => ({
        refundedAt: weekBefore(weeks - w),
        lines: [{ productId: p(1), quantity: 1, unitPrice: 2500 }],
      })),
    );
    const result = await env.run(SALES, { weeks: 2 }, staff);
    expect(result.errors).toBeUndefined();
    const forecast = result.data?.salesForecast as {
      units: { weekStart: string; units: number }[];
      revenue: { currencyCode: string; weeks: { amount: { amount: number; currencyCode: string } }[] }[];
    };
    expect(forecast.units).toHaveLength(2);
    expect(forecast.units[0]?.weekStart).toBe(ORIGIN.toISOString());
    // 4 + 1 sold, 1 returned a week.
    expect(forecast.units[0]?.units).toBeCloseTo(4, 6);
    expect(forecast.revenue.map((revenue) => revenue.currencyCode)).toEqual(["EUR", "USD"]);
    expect(forecast.revenue[0]?.weeks[0]?.amount).toEqual({ amount: 1000, currencyCode: "EUR" });
    expect(forecast.revenue[1]?.weeks[0]?.amount).toEqual({ amount: 7500, currencyCode: "USD" });
  });

  it("is flat zero without sales, refuses customers and bad weeks", async () => {
    const empty = await env.run(SALES, { weeks: 1 }, staff);
    expect(empty.data?.salesForecast).toMatchObject({ units: [{ units: 0 }], revenue: [] });
    const refused = await env.run(SALES, {}, customer);
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const bad = await env.run(SALES, { weeks: 27 }, staff);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "weeks" });
  });
});
