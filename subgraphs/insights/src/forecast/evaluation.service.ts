import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import {
  denseSeries,
  type ForecastError,
  forecastError,
  naiveForecast,
  WEEK_MS,
  weeksBetween,
} from "./forecast.model.ts";
import { findForecastRows, findProductWeeks, findWeekAfterHistory } from "./forecast.repository.ts";
import { forecastFrom } from "./forecast.service.ts";
import { buildHistories } from "./history.model.ts";

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
