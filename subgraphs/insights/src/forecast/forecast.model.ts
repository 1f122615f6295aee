import type { Money } from "@nexus/core";

/**
 * Weekly demand forecasting, plain functions over numbers. Weeks start on Monday 00:00 UTC;
 * a series is one value per week, oldest first, with no gaps (a week without sales is 0).
 */

export const WEEK_MS = 7 * 86_400_000;
/** A seasonal cycle: the weeks of a year (a year is 52.18 weeks; the slot drifts by a day a year). */
export const SEASON = 52;
/**
 * Seasonal shapes are estimated from a cycle and a half at least: every week of the year seen,
 * half of them twice. A single cycle cannot tell a season from a trend or a one-off.
 */
export const MIN_SEASONAL_WEEKS = (3 * SEASON) / 2;
/** The trend's damping per week ahead: the usual value, so a trend flattens out instead of running away. */
const PHI = 0.9;
/** Smoothing weights tried for the level and the trend; the one with the least one-step error is kept. */
const ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8];
const BETAS = [0, 0.05, 0.1, 0.2];
/** Croston's usual smoothing weight. */
const CROSTON_ALPHA = 0.1;
/** Weeks used to start the level before errors are counted. */
const WARM_UP = 4;
/** The 10th and 90th percentiles of a standard normal: the 80% band when residuals are too few. */
const Z80 = 1.2816;
/** Residual quantiles are trusted from this many residuals on. */
const MIN_RESIDUALS = 8;

export type ForecastMethod = "HOLT" | "CROSTON" | "NO_HISTORY";

export interface ForecastPoint {
  units: number;
  low: number;
  high: number;
}

export interface Forecast {
  method: ForecastMethod;
  points: ForecastPoint[];
}

/** Monday 00:00 UTC of the week holding `date`. */
export function weekStart(date: Date): Date {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() - sinceMonday * 86_400_000);
}

/** Which of the 52 seasonal slots a week falls in (weeks since the epoch's first Monday, mod 52). */
export function seasonSlot(week: Date): number {
  const epochMonday = Date.UTC(1970, 0, 5);
  const weeks = Math.round((week.getTime() - epochMonday) / WEEK_MS);
  return ((weeks % SEASON) + SEASON) % SEASON;
}

/** The weeks from `from` (inclusive) to `to` (exclusive). */
export function weeksBetween(from: Date, to: Date): Date[] {
  const weeks: Date[] = [];
  for (let at = from.getTime(); at < to.getTime(); at += WEEK_MS) weeks.push(new Date(at));
  return weeks;
}

/** A dense series over `weeks` from sparse (week, value) entries; missing weeks are 0. */
export function denseSeries(weeks: readonly Date[], values: ReadonlyMap<number, number>): number[] {
  return weeks.map((week) => values.get(week.getTime()) ?? 0);
}

/**
 * Multiplicative seasonal indices by slot (mean 1), or null with less than a cycle and a half of
 * history or no sales: each week's value over the 52-week moving average around it (the first or
 * last 53 weeks near the ends), averaged per slot, then smoothed with the slots either side so
 * one odd week does not make a season.
 */
export function seasonalIndices(series: readonly number[], firstWeek: Date): number[] | null {
  if (series.length < MIN_SEASONAL_WEEKS) return null;
  const half = SEASON / 2;
  const sums = new Array<number>(SEASON).fill(0);
  const counts = new Array<number>(SEASON).fill(0);
  const firstSlot = seasonSlot(firstWeek);
  for (let t = 0; t < series.length; t += 1) {
    // A 2x52 moving average: 53 weeks, the two ends at half weight, centred on the week where
    // the series allows, else the first or last 53 weeks.
    const start = Math.min(Math.max(t - half, 0), series.length - SEASON - 1);
    let total = 0;
    for (let k = 0; k <= SEASON; k += 1) {
      const weight = k === 0 || k === SEASON ? 0.5 : 1;
      total += weight * (series[start + k] ?? 0);
    }
    const average = total / SEASON;
    if (average <= 0) continue;
    const slot = (firstSlot + t) % SEASON;
    sums[slot] = (sums[slot] ?? 0) + (series[t] ?? 0) / average;
    counts[slot] = (counts[slot] ?? 0) + 1;
  }
  if (counts.some((count) => count === 0)) return null;
  const raw = sums.map((sum, slot) => sum / (counts[slot] ?? 1));
  const smoothed = raw.map(
    (_, slot) =>
      ((raw[(slot + SEASON - 1) % SEASON] ?? 1) + (raw[slot] ?? 1) + (raw[(slot + 1) % SEASON] ?? 1)) / 3,
  );
  const mean = smoothed.reduce((a, b) => a + b, 0) / SEASON;
  if (mean <= 0) return null;
  // Floored above zero: a slot that never sold must not make a deseasonalised value infinite.
  return smoothed.map((index) => Math.max(index / mean, 0.05));
}

interface Fit {
  /** One-step forecasts' errors (actual minus forecast), after the warm-up. */
  residuals: number[];
  sse: number;
  forecast(h: number): number;
  /** How the spread of errors grows h weeks ahead, relative to one week ahead. */
  spread(h: number): number;
}

/** Damped-trend Holt on the deseasonalised series; errors measured in units. */
function holt(series: readonly number[], index: (t: number) => number, alpha: number, beta: number): Fit {
  const y = series.map((value, t) => value / index(t));
  const start = Math.min(WARM_UP, y.length);
  let level = y.slice(0, start).reduce((a, b) => a + b, 0) / Math.max(start, 1);
  let trend = 0;
  const residuals: number[] = [];
  let sse = 0;
  for (let t = 0; t < y.length; t += 1) {
    const predicted = Math.max(level + PHI * trend, 0) * index(t);
    if (t >= start) {
      const error = (series[t] ?? 0) - predicted;
      residuals.push(error);
      sse += error * error;
    }
    const previous = level;
    level = alpha * (y[t] ?? 0) + (1 - alpha) * (level + PHI * trend);
    trend = beta * (level - previous) + (1 - beta) * PHI * trend;
  }
  const n = series.length;
  return {
    residuals,
    sse,
    forecast(h) {
      let damped = 0;
      for (let i = 1; i <= h; i += 1) damped += PHI ** i;
      return Math.max(level + damped * trend, 0) * index(n - 1 + h);
    },
    spread: (h) => Math.sqrt(1 + (h - 1) * alpha * alpha * (1 + beta * h) ** 2),
  };
}

/**
 * Croston's method with the Syntetos-Boylan correction: sizes and intervals of non-zero weeks,
 * smoothed from their whole-series means (a first interval cannot be measured).
 */
function croston(series: readonly number[]): Fit {
  const alpha = CROSTON_ALPHA;
  const sales = series.filter((value) => value > 0);
  let size = sales.reduce((a, b) => a + b, 0) / Math.max(sales.length, 1);
  let interval = series.length / Math.max(sales.length, 1);
  let sinceLast = 1;
  let seen = false;
  const residuals: number[] = [];
  let sse = 0;
  const rate = () => (1 - alpha / 2) * (size / interval);
  for (const [t, value] of series.entries()) {
    if (t >= WARM_UP) {
      const error = value - rate();
      residuals.push(error);
      sse += error * error;
    }
    if (value > 0) {
      size = alpha * value + (1 - alpha) * size;
      // The weeks before the first sale are not an interval between sales.
      if (seen) interval = alpha * sinceLast + (1 - alpha) * interval;
      seen = true;
      sinceLast = 1;
    } else sinceLast += 1;
  }
  const flat = rate();
  return { residuals, sse, forecast: () => flat, spread: (h) => Math.sqrt(1 + (h - 1) * alpha * alpha) };
}

/** The q-quantile of `values` (linear between order statistics). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] ?? 0;
  const high = sorted[above] ?? 0;
  return low + (high - low) * (position - below);
}

/** Demand is intermittent when most weeks sell nothing: Croston fits it, smoothing does not. */
export const isIntermittent = (series: readonly number[]): boolean =>
  series.length > 0 && series.filter((value) => value > 0).length * 2 < series.length;

/**
 * Forecasts `weeks` weeks after a weekly series: Croston when demand is intermittent, else the
 * damped Holt (weights picked by the least one-step squared error) on the series divided by
 * `seasonal` (52 indices by slot, or null for none; `firstSlot` is the series' first week's slot).
 * The 80% band is the 10th and 90th percentiles of the one-step errors, widened with the horizon;
 * with fewer than 8 errors, a Poisson-like band around the forecast instead.
 */
export function forecastSeries(
  series: readonly number[],
  weeks: number,
  seasonal: readonly number[] | null,
  firstSlot: number,
): Forecast {
  if (series.length === 0 || series.every((value) => value <= 0)) {
    return {
      method: "NO_HISTORY",
      points: Array.from({ length: weeks }, () => ({ units: 0, low: 0, high: 0 })),
    };
  }
  const index = (t: number) => (seasonal ? (seasonal[(firstSlot + t) % SEASON] ?? 1) : 1);
  let method: ForecastMethod;
  let fit: Fit;
  if (isIntermittent(series)) {
    method = "CROSTON";
    fit = croston(series);
  } else {
    method = "HOLT";
    let best: Fit | null = null;
    for (const alpha of ALPHAS) {
      for (const beta of BETAS) {
        const candidate = holt(series, index, alpha, beta);
        if (best === null || candidate.sse < best.sse) best = candidate;
      }
    }
    fit = best as Fit;
  }
  const enough = fit.residuals.length >= MIN_RESIDUALS;
  const lowError = quantile(fit.residuals, 0.1);
  const highError = quantile(fit.residuals, 0.9);
  const points = Array.from({ length: weeks }, (_, i) => {
    const h = i + 1;
    const units = fit.forecast(h);
    const spread = fit.spread(h);
    const low = enough ? units + lowError * spread : units - Z80 * Math.sqrt(units) * spread;
    const high = enough ? units + highError * spread : units + Z80 * Math.sqrt(Math.max(units, 1)) * spread;
    return { units, low: Math.max(0, Math.min(low, units)), high: Math.max(high, units) };
  });
  return { method, points };
}

/** Mean absolute error and weighted absolute percentage error of forecasts against actuals. */
export interface ForecastError {
  mae: number;
  wape: number;
}

export function forecastError(pairs: readonly { forecast: number; actual: number }[]): ForecastError {
  let absolute = 0;
  let actual = 0;
  for (const pair of pairs) {
    absolute += Math.abs(pair.forecast - pair.actual);
    actual += Math.abs(pair.actual);
  }
  return {
    mae: pairs.length === 0 ? 0 : absolute / pairs.length,
    wape: actual === 0 ? 0 : absolute / actual,
  };
}

/** The baseline: the mean of the last four weeks, flat. */
export function naiveForecast(series: readonly number[]): number {
  const last = series.slice(-4);
  return last.length === 0 ? 0 : last.reduce((a, b) => a + b, 0) / last.length;
}

/**
 * Weeks the units available last at the forecast demand: weeks are used up one by one, the
 * last partly; past the forecast, at its mean rate. Null when no demand is forecast.
 */
export function weeksOfCover(available: number, demand: readonly number[]): number | null {
  const total = demand.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  if (available <= 0) return 0;
  let left = available;
  for (const [week, units] of demand.entries()) {
    if (units >= left) return week + left / units;
    left -= units;
  }
  return demand.length + left / (total / demand.length);
}

/** A Product as insights receives it: its key, and `inventory.available` when `weeksOfCover` is asked. */
export interface ProductRef {
  id: string;
  inventory?: { available?: number | null } | null;
}

export interface ForecastWeekModel {
  weekStart: Date;
  units: number;
  low: number;
  high: number;
}

export interface DemandForecastModel {
  method: ForecastMethod;
  historyWeeks: number;
  categorySeasonality: boolean;
  weeks: ForecastWeekModel[];
}

export interface SalesForecastModel {
  units: ForecastWeekModel[];
  revenue: {
    currencyCode: string;
    weeks: { weekStart: Date; amount: Money; low: Money; high: Money }[];
  }[];
}
