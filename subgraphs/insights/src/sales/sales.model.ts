import { badUserInput, type Money } from "@nexus/core";
import type { PerformanceRow, ProductSalesRow } from "./sales.repository.ts";

/** What ProductSales resolvers receive; `product` becomes a stub the gateway completes from catalog. */
export interface ProductSalesModel {
  productId: string;
  unitsSold: number;
  orderCount: number;
}

export const toProductSalesModel = (row: ProductSalesRow): ProductSalesModel => ({
  productId: row.product_id,
  unitsSold: row.units_sold,
  orderCount: row.order_count,
});

interface PerformanceFigures {
  revenue: Money;
  units: number;
  orders: number;
  returnedUnits: number;
  returnRate: number | null;
}

/** What ProductPerformance resolvers receive. */
export interface ProductPerformanceModel extends PerformanceFigures {
  productId: string;
}

export interface CategoryPerformanceModel extends PerformanceFigures {
  categoryId: string;
}

const figures = (row: PerformanceRow, currencyCode: string): PerformanceFigures => ({
  revenue: { amount: row.revenue, currencyCode },
  units: row.units,
  orders: row.orders,
  returnedUnits: row.returned_units,
  returnRate: row.return_rate,
});

export const toProductPerformanceModel = (
  row: PerformanceRow,
  currencyCode: string,
): ProductPerformanceModel => ({
  productId: row.key,
  ...figures(row, currencyCode),
});

export const toCategoryPerformanceModel = (
  row: PerformanceRow,
  currencyCode: string,
): CategoryPerformanceModel => ({
  categoryId: row.key,
  ...figures(row, currencyCode),
});

const DAY_MS = 24 * 3600 * 1000;

/** A period of whole UTC days: `from` included, `to` excluded, and the same as dates for the roll-ups. */
export interface Period {
  from: Date;
  to: Date;
  /** `from` and `to` as `YYYY-MM-DD`, the roll-ups' day keys. */
  fromDay: string;
  toDay: string;
}

const dayOf = (date: Date) => date.toISOString().slice(0, 10);

const periodOf = (from: Date, to: Date): Period => ({ from, to, fromDay: dayOf(from), toDay: dayOf(to) });

/**
 * Checks a period argument pair: both UTC midnights (the roll-ups hold whole UTC days, and a
 * period cut inside a day would be answered wrongly rather than refused), `from` before `to`,
 * and at most 3 calendar years apart.
 */
export function checkPeriod(from: Date, to: Date): Period {
  for (const [field, value] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (value.getTime() % DAY_MS !== 0) {
      throw badUserInput(`${field} must be a UTC midnight, e.g. 2026-01-01T00:00:00Z.`, field);
    }
  }
  if (from.getTime() >= to.getTime()) throw badUserInput("from must be before to.", "to");
  const limit = new Date(from);
  limit.setUTCFullYear(limit.getUTCFullYear() + 3);
  if (to.getTime() > limit.getTime()) throw badUserInput("A period spans at most 3 years.", "to");
  return periodOf(from, to);
}

/** The period of the same length that ends where `period` begins. */
export const previousPeriod = (period: Period): Period =>
  periodOf(new Date(2 * period.from.getTime() - period.to.getTime()), period.from);

/** `currencyCode` as asked, or the store's; an argument that is no ISO 4217 code is BAD_USER_INPUT. */
export function checkCurrency(currencyCode: string | null | undefined, storeCurrency: string): string {
  if (currencyCode === null || currencyCode === undefined) return storeCurrency;
  if (!/^[A-Z]{3}$/.test(currencyCode)) {
    throw badUserInput(
      "currencyCode must be an ISO 4217 code of three capital letters, e.g. USD.",
      "currencyCode",
    );
  }
  return currencyCode;
}

/** (current - previous) / previous; null when there is nothing to compare with. */
export const changeRatio = (current: number, previous: number): number | null =>
  previous === 0 ? null : (current - previous) / previous;

export type TrendInterval = "DAY" | "WEEK" | "MONTH";

export const MAX_TREND_POINTS = 1000;

/** Start of the UTC day, ISO week (Monday) or calendar month that holds `time`. */
function intervalStart(time: number, interval: TrendInterval): number {
  const date = new Date(time);
  if (interval === "MONTH") return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  return interval === "WEEK" ? day - ((date.getUTCDay() + 6) % 7) * DAY_MS : day;
}

function nextStart(start: number, interval: TrendInterval): number {
  if (interval === "DAY") return start + DAY_MS;
  if (interval === "WEEK") return start + 7 * DAY_MS;
  const date = new Date(start);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/**
 * The trend's periods over `period`, cut to it at both ends; more than MAX_TREND_POINTS is
 * BAD_USER_INPUT, before any query.
 */
export function trendPeriods(period: Period, interval: TrendInterval): Period[] {
  const periods: Period[] = [];
  const end = period.to.getTime();
  for (
    let start = intervalStart(period.from.getTime(), interval);
    start < end;
    start = nextStart(start, interval)
  ) {
    if (periods.length === MAX_TREND_POINTS) {
      throw badUserInput(
        `A trend has at most ${MAX_TREND_POINTS} points; choose a longer interval or a shorter period.`,
        "interval",
      );
    }
    const from = new Date(Math.max(start, period.from.getTime()));
    const to = new Date(Math.min(nextStart(start, interval), end));
    periods.push(periodOf(from, to));
  }
  return periods;
}
