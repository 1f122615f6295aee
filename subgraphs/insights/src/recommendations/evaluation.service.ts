import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import {
  fillList,
  type HitRate,
  hitRate,
  type Neighbour,
  type ProductStats,
  RECOMMENDATION_SETTINGS,
  rankRecommendations,
} from "./recommendations.model.ts";
import {
  computeNeighbours,
  computePopularity,
  findBasketsSince,
  findNewestSale,
} from "./recommendations.repository.ts";

export interface RecommendationEvaluation {
  /** Sale orders placed from here on are held out; the models learn from those before. */
  holdoutFrom: Date | null;
  /** Held-out orders with at least two products. */
  baskets: number;
  /** Co-purchase neighbours, filled with popular products as served. */
  coPurchase: HitRate;
  /** The most popular products alone. */
  popularity: HitRate;
}

/** Recommendations per case, as a storefront shows them. */
const K = 10;
const DAY_MS = 86_400_000;

/**
 * Offline evaluation of the recommendations: the sale orders of the last `holdoutDays` (up to
 * the newest) are held out and the neighbours and popularity are learnt from the orders before
 * them, with the settings the refresh uses. Then each held-out basket of two products or more
 * is replayed once per product: that product is hidden, 10 products are recommended from the
 * others, and a hit is the hidden product among them. Catalog status is not applied: a product
 * sold in the holdout was for sale then.
 */
export async function evaluateRecommendations(
  db: Kysely<Database>,
  { holdoutDays }: { holdoutDays: number },
): Promise<RecommendationEvaluation> {
  const newest = await findNewestSale(db);
  if (newest === null) {
    return { holdoutFrom: null, baskets: 0, coPurchase: hitRate(0, 0), popularity: hitRate(0, 0) };
  }
  const holdoutFrom = new Date(newest.getTime() - holdoutDays * DAY_MS);
  const settings = { ...RECOMMENDATION_SETTINGS, before: holdoutFrom };
  const [neighbourRows, popularityRows, baskets] = await Promise.all([
    computeNeighbours(db, settings),
    computePopularity(db, settings),
    findBasketsSince(db, holdoutFrom),
  ]);
  const neighbours = new Map<string, Neighbour[]>();
  for (const row of neighbourRows) {
    const list = neighbours.get(row.product_id) ?? [];
    list.push({ productId: row.neighbour_id, score: row.score });
    neighbours.set(row.product_id, list);
  }
  const stats = new Map<string, ProductStats>(
    popularityRows.map((row) => [row.product_id, { orders: row.orders, share: row.share }]),
  );
  const popular = popularityRows
    .filter((row) => row.units > 0)
    .sort((a, b) => b.units - a.units || (a.product_id < b.product_id ? -1 : 1))
    .map((row) => row.product_id);

  let cases = 0;
  let coPurchaseHits = 0;
  let popularityHits = 0;
  for (const basket of baskets) {
    for (const hidden of basket) {
      const rest = new Set(basket.filter((id) => id !== hidden));
      const ranked = rankRecommendations({
        sources: [...rest],
        neighboursOf: (id) => neighbours.get(id) ?? [],
        statsOf: (id) => stats.get(id),
        // As served: the candidates are the neighbours and as many popular products as needed.
        popular: popular.slice(0, K + rest.size),
        exclude: rest,
        priorOrders: settings.priorOrders,
      });
      cases += 1;
      if (ranked.slice(0, K).includes(hidden)) coPurchaseHits += 1;
      if (fillList([], popular, rest, K).includes(hidden)) popularityHits += 1;
    }
  }
  return {
    holdoutFrom,
    baskets: baskets.length,
    coPurchase: hitRate(coPurchaseHits, cases),
    popularity: hitRate(popularityHits, cases),
  };
}
