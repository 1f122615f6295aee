import { badUserInput } from "@nexus/core";
import type { CoPurchaseSettings } from "./recommendations.repository.ts";

/**
 * How the co-purchase neighbours are built. Not tuned to any store: 20 products per order keeps
 * the pair count of one order at 380 at most; two shared orders is the least that is not a
 * single coincidence; 50 neighbours is more than any list asks for; a quarter of sales is the
 * popularity window, long enough to hold most of a catalogue's sellers, short enough to follow
 * what sells now.
 */
export const RECOMMENDATION_SETTINGS: Omit<CoPurchaseSettings, "before"> = {
  productsPerOrder: 20,
  minCoOrders: 2,
  neighboursPerProduct: 50,
  popularityDays: 90,
};

/** A product's neighbour and how strongly they go together. */
export interface Neighbour {
  productId: string;
  score: number;
}

/**
 * Products ranked by the summed scores of their links to `sources` (each source's weight times
 * its link's score), strongest first, ties by product id; `exclude` never appears.
 */
export function rankNeighbours(
  neighboursOf: (productId: string) => readonly Neighbour[],
  sources: ReadonlyMap<string, number>,
  exclude: ReadonlySet<string>,
): string[] {
  const scores = new Map<string, number>();
  for (const [source, weight] of sources) {
    for (const neighbour of neighboursOf(source)) {
      if (exclude.has(neighbour.productId)) continue;
      scores.set(neighbour.productId, (scores.get(neighbour.productId) ?? 0) + weight * neighbour.score);
    }
  }
  return [...scores.entries()]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId]) => productId);
}

/** `primary` then `fallback`, without repeats or excluded ids, cut to `limit`. */
export function fillList(
  primary: readonly string[],
  fallback: readonly string[],
  exclude: ReadonlySet<string>,
  limit: number,
): string[] {
  const seen = new Set<string>();
  const list: string[] = [];
  for (const id of [...primary, ...fallback]) {
    if (list.length === limit) break;
    if (exclude.has(id) || seen.has(id)) continue;
    seen.add(id);
    list.push(id);
  }
  return list;
}

/** A list size between 1 and `max`, `fallback` when omitted; else BAD_USER_INPUT on `field`. */
export function listSize(
  value: number | null | undefined,
  fallback: number,
  max: number,
  field = "first",
): number {
  if (value === null || value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw badUserInput(`${field} must be between 1 and ${max}.`, field);
  }
  return value;
}

/** The number of days each `trendingProducts` window spans. */
export const TREND_WINDOW_DAYS = { DAY: 1, WEEK: 7, MONTH: 30 } as const;

/**
 * A product trends only with at least this many units in the latest window, so one extra sale
 * of a product that sold one is not "100% growth".
 */
export const MIN_TRENDING_UNITS = 5;

/** The share of cases where the hidden product was among the recommendations. */
export interface HitRate {
  hits: number;
  cases: number;
  rate: number;
}

export const hitRate = (hits: number, cases: number): HitRate => ({
  hits,
  cases,
  rate: cases === 0 ? 0 : hits / cases,
});
