import { badUserInput } from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { ForecastLoaders } from "./forecast.loaders.ts";
import {
  type DemandForecastModel,
  denseSeries,
  forecastSeries,
  type SalesForecastModel,
  seasonalIndices,
  seasonSlot,
  WEEK_MS,
  weekStart,
  weeksBetween,
  weeksOfCover,
} from "./forecast.model.ts";
import { findStoreWeeks, findWeekAfterHistory } from "./forecast.repository.ts";
import { type ProductHistory, sparse } from "./history.model.ts";

const MAX_WEEKS = 26;

function forecastWeeks(weeks: number | null | undefined): number {
  const value = weeks ?? 4;
  if (!Number.isInteger(value) || value < 1 || value > MAX_WEEKS) {
    throw badUserInput(`weeks must be between 1 and ${MAX_WEEKS}.`, "weeks");
  }
  return value;
}

export function forecastFrom(
  history: ProductHistory | null,
  weeks: number,
  origin: Date | null,
): DemandForecastModel {
  const start = history?.origin ?? origin ?? weekStart(new Date());
  const forecast = forecastSeries(
    history?.series ?? [],
    weeks,
    history?.seasonal ?? null,
    history ? seasonSlot(history.firstWeek) : 0,
  );
  return {
    method: forecast.method,
    historyWeeks: history?.series.length ?? 0,
    categorySeasonality: history?.categorySeasonality ?? false,
    weeks: forecast.points.map((point, i) => ({
      weekStart: new Date(start.getTime() + i * WEEK_MS),
      ...point,
    })),
  };
}

/** `Product.demandForecast(weeks)`. */
export async function demandForecast(
  deps: { loaders: ForecastLoaders },
  productId: string,
  weeks: number | null | undefined,
): Promise<DemandForecastModel> {
  const horizon = forecastWeeks(weeks);
  return forecastFrom(await deps.loaders.productHistory.load(productId), horizon, null);
}

/** `Product.weeksOfCover`: the available units against the next 26 weeks' forecast. */
export async function productWeeksOfCover(
  deps: { loaders: ForecastLoaders },
  productId: string,
  available: number,
): Promise<number | null> {
  const forecast = forecastFrom(await deps.loaders.productHistory.load(productId), MAX_WEEKS, null);
  const cover = weeksOfCover(
    available,
    forecast.weeks.map((week) => week.units),
  );
  return cover === null ? null : Math.round(cover * 10) / 10;
}

/** `salesForecast(weeks)`: the store's own weekly series, each forecast with its own shape. */
export async function salesForecast(
  db: Kysely<Database>,
  weeks: number | null | undefined,
): Promise<SalesForecastModel> {
  const horizon = forecastWeeks(weeks);
  const origin = await findWeekAfterHistory(db);
  if (origin === null) return { units: forecastFrom(null, horizon, null).weeks, revenue: [] };
  const rows = await findStoreWeeks(db, origin);
  if (rows.length === 0) return { units: forecastFrom(null, horizon, origin).weeks, revenue: [] };
  const first = new Date(Math.min(...rows.map((row) => row.week.getTime())));
  const span = weeksBetween(first, origin);
  const dated = (points: { units: number; low: number; high: number }[]) =>
    points.map((point, i) => ({ weekStart: new Date(origin.getTime() + i * WEEK_MS), ...point }));
  const fit = (net: number[]) => {
    // A week with more refunded than sold counts as nothing sold.
    const series = net.map((value) => Math.max(value, 0));
    return forecastSeries(series, horizon, seasonalIndices(series, first), seasonSlot(first)).points;
  };
  const units = fit(denseSeries(span, sparse(rows)));
  const currencies = [...new Set(rows.map((row) => row.currency_code))].sort();
  return {
    units: dated(units),
    revenue: currencies.map((currencyCode) => {
      const revenue = new Map<number, number>();
      for (const row of rows) {
        if (row.currency_code === currencyCode) revenue.set(row.week.getTime(), Number(row.revenue));
      }
      return {
        currencyCode,
        weeks: dated(fit(denseSeries(span, revenue))).map((week) => ({
          weekStart: week.weekStart,
          amount: { amount: Math.round(week.units), currencyCode },
          low: { amount: Math.round(week.low), currencyCode },
          high: { amount: Math.round(week.high), currencyCode },
        })),
      };
    }),
  };
}
