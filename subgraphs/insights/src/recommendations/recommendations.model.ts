import { badUserInput } from "@nexus/core";
import type { CoPurchaseSettings } from "./recommendations.repository.ts";

/**
 * How the co-purchase neighbours are built. Not tuned to any store: 20 products per order keeps
 * the pair count of one order at 380 at most; two shared orders is the least that is not a
 * single coincidence; 50 neighbours is more than any list asks for; a quarter of sales is the
 * popularity window, long enough to hold most of a catalogue's sellers, short enough to follow
 * what sells now. The prior's weight is explained at `rankRecommendations`.
 */
export const RECOMMENDATION_SETTINGS: Omit<CoPurchaseSettings, "before"> = {
  productsPerOrder: 20,
  minCoOrders: 2,
  priorOrders: 20,
  neighboursPerProduct: 50,
  popularityDays: 90,
};

/** A product's neighbour and its evidence score: orders holding both / (orders of the product + prior). */
export interface Neighbour {
  productId: string;
  score: number;
}

/** What the ranking needs to know of a product: the orders holding it, its share of recent orders. */
export interface ProductStats {
  orders: number;
  share: number;
}

/**
 * Ranks candidates for a set of source products (a basket, or a customer's purchases) by the
 * chance of being bought with them, estimated per source and added up:
 *
 *   score(b) = sum over sources a of (both(a, b) + prior * share(b)) / (orders(a) + prior)
 *            = sum of the stored neighbour scores + share(b) * sum of prior / (orders(a) + prior)
 *
 * `share(b)` (the share of recent orders holding b) is the popularity prior, weighing as much as
 * `priorOrders` orders of the source: a source bought in a handful of orders says little, and
 * its few chance companions do not outrank products most customers buy; a source bought in
 * hundreds of orders speaks for itself. So the list falls back to popularity smoothly where
 * co-purchase knows nothing, instead of a cut-off. Candidates are the sources' neighbours and
 * the `popular` list; `exclude` never appears; ties go to the more popular, then the smaller id.
 */
export function rankRecommendations(input: {
  sources: readonly string[];
  neighboursOf: (productId: string) => readonly Neighbour[];
  statsOf: (productId: string) => ProductStats | undefined;
  popular: readonly string[];
  exclude: ReadonlySet<string>;
  priorOrders: number;
}): string[] {
  const { priorOrders } = input;
  const evidence = new Map<string, number>();
  let priorWeight = 0;
  for (const source of new Set(input.sources)) {
    priorWeight += priorOrders / ((input.statsOf(source)?.orders ?? 0) + priorOrders);
    for (const neighbour of input.neighboursOf(source)) {
      evidence.set(neighbour.productId, (evidence.get(neighbour.productId) ?? 0) + neighbour.score);
    }
  }
  const popularity = new Map(input.popular.map((id, rank) => [id, rank]));
  const candidates = new Set([...evidence.keys(), ...input.popular]);
  const scored = [...candidates]
    .filter((id) => !input.exclude.has(id))
    .map((id) => ({
      id,
      score: (evidence.get(id) ?? 0) + (input.statsOf(id)?.share ?? 0) * priorWeight,
      rank: popularity.get(id) ?? Number.POSITIVE_INFINITY,
    }));
  scored.sort((a, b) => b.score - a.score || a.rank - b.rank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return scored.map((candidate) => candidate.id);
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
