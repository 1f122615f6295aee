import { badUserInput } from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { ForecastLoaders } from "./forecast.loaders.ts";
import {
  type DemandForecastModel,
  denseSeries,
  type ForecastError,
  forecastError,
  forecastSeries,
  naiveForecast,
  type SalesForecastModel,
  seasonalIndices,
  seasonSlot,
  WEEK_MS,
  weekStart,
  weeksBetween,
  weeksOfCover,
} from "./forecast.model.ts";
import {
  findForecastRows,
  findProductWeeks,
  findStoreWeeks,
  findWeekAfterHistory,
} from "./forecast.repository.ts";
import { buildHistories, type ProductHistory, sparse } from "./history.model.ts";

const MAX_WEEKS = 26;

function forecastWeeks(weeks: number | null | undefined): number {
  const value = weeks ?? 4;
  if (!Number.isInteger(value) || value < 1 || value > MAX_WEEKS) {
    throw badUserInput(`weeks must be between 1 and ${MAX_WEEKS}.`, "weeks");
  }
  return value;
}

function forecastFrom(
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
  const history = await deps.loaders.productHistory.load(productId);
  if (history === null) return null;
  const forecast = forecastFrom(history, MAX_WEEKS, null);
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
  const fit = (series: number[]) =>
    forecastSeries(
      series.map((value) => Math.max(value, 0)),
      horizon,
      seasonalIndices(series, first),
      seasonSlot(first),
    ).points;
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

export interface ForecastEvaluation {
  /** The first held-out week; null without sales. */
  holdoutFrom: Date | null;
  holdoutWeeks: number;
  /** Products evaluated: those with at least 26 weeks of history before the holdout. */
  products: number;
  model: ForecastError;
  /** The mean of each product's last four weeks before the holdout, flat. */
  naive: ForecastError;
}

/** Products need half a year of history to be evaluated: shorter ones are mostly launch noise. */
const MIN_EVALUATION_HISTORY = 26;

/**
 * Offline evaluation of the demand forecast: fitted on every week before the last
 * `holdoutWeeks` full weeks (the week of the newest sale is partial and left out), it forecasts
 * those weeks for every product with enough history; errors against the actual net units are
 * compared with the naive last-four-weeks mean's.
 */
export async function evaluateForecast(
  db: Kysely<Database>,
  { holdoutWeeks }: { holdoutWeeks: number },
): Promise<ForecastEvaluation> {
  const end = await findWeekAfterHistory(db);
  const empty = { mae: 0, wape: 0 };
  if (end === null) return { holdoutFrom: null, holdoutWeeks, products: 0, model: empty, naive: empty };
  const holdoutFrom = new Date(end.getTime() - holdoutWeeks * WEEK_MS);
  const [rows, actualRows] = await Promise.all([
    findForecastRows(db, null, holdoutFrom),
    findProductWeeks(db, null, end),
  ]);
  const histories = buildHistories(rows);
  const actuals = new Map<string, Map<number, number>>();
  for (const row of actualRows) {
    if (row.week.getTime() < holdoutFrom.getTime()) continue;
    const weeks = actuals.get(row.product_id) ?? new Map<number, number>();
    weeks.set(row.week.getTime(), Math.max(Number(row.units), 0));
    actuals.set(row.product_id, weeks);
  }
  const heldOut = weeksBetween(holdoutFrom, end);
  const model: { forecast: number; actual: number }[] = [];
  const naive: { forecast: number; actual: number }[] = [];
  let products = 0;
  for (const [productId, history] of histories) {
    if (history.series.length < MIN_EVALUATION_HISTORY) continue;
    products += 1;
    const forecast = forecastFrom(history, holdoutWeeks, null);
    const baseline = naiveForecast(history.series);
    const actual = denseSeries(heldOut, actuals.get(productId) ?? new Map());
    for (const [i, units] of actual.entries()) {
      model.push({ forecast: forecast.weeks[i]?.units ?? 0, actual: units });
      naive.push({ forecast: baseline, actual: units });
    }
  }
  return { holdoutFrom, holdoutWeeks, products, model: forecastError(model), naive: forecastError(naive) };
}
