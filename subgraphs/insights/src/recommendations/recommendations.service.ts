import { badUserInput, forbidden, hasScope, isObjectIdHex, type Viewer } from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { RecommendationLoaders } from "./recommendations.loaders.ts";
import {
  listSize,
  MIN_TRENDING_UNITS,
  type ProductStats,
  RECOMMENDATION_SETTINGS,
  rankRecommendations,
  TREND_WINDOW_DAYS,
} from "./recommendations.model.ts";
import {
  findCustomerPurchases,
  findPopular,
  findTrending,
  rebuildRecommendations,
} from "./recommendations.repository.ts";

export interface RecommendationDeps {
  db: Kysely<Database>;
  loaders: RecommendationLoaders;
}

/** Lists hold at most 20 products; that many again twice over are asked of the catalog. */
const MAX_FIRST = 20;
const CANDIDATES_PER_RESULT = 3;
/** Products bought this recently are not suggested to the same customer again. */
const RECENTLY_BOUGHT_DAYS = 90;
/** The purchases a customer's recommendations start from, newest first. */
const HISTORY_PRODUCTS = 50;
const MAX_BASKET = 50;

const DAY_MS = 86_400_000;

/**
 * The candidates the catalog sells now, in order, cut to `limit`. The catalog is asked for all
 * of them in one request; more candidates than `limit` are passed so that a few products no
 * longer for sale do not shorten the list.
 */
async function keepActive(
  loaders: RecommendationLoaders,
  candidates: string[],
  limit: number,
): Promise<string[]> {
  const active = await loaders.activeProduct.loadMany(candidates);
  return candidates.filter((_, index) => active[index] === true).slice(0, limit);
}

const popularIds = async (db: Kysely<Database>, limit: number) =>
  (await findPopular(db, limit)).map((row) => row.product_id);

/**
 * The `wanted` best candidates for `sources` (`rankRecommendations`): their neighbours and the
 * most popular products, with what is known of each. Three queries whatever the number of
 * sources: neighbours, popular products, and the candidates' figures.
 */
async function recommendFor(
  deps: RecommendationDeps,
  sources: readonly string[],
  exclude: ReadonlySet<string>,
  wanted: number,
): Promise<string[]> {
  const [neighbourLists, popular] = await Promise.all([
    deps.loaders.neighbours.loadMany(sources),
    popularIds(deps.db, wanted + exclude.size),
  ]);
  const neighbours = new Map(
    sources.map((id, index) => {
      const list = neighbourLists[index];
      return [id, Array.isArray(list) ? list : []];
    }),
  );
  const known = new Set([...sources, ...popular, ...[...neighbours.values()].flat().map((n) => n.productId)]);
  const statsList = await deps.loaders.productStats.loadMany([...known]);
  const stats = new Map<string, ProductStats>();
  [...known].forEach((id, index) => {
    const row = statsList[index];
    if (row && !(row instanceof Error)) stats.set(id, row);
  });
  return rankRecommendations({
    sources,
    neighboursOf: (id) => neighbours.get(id) ?? [],
    statsOf: (id) => stats.get(id),
    popular,
    exclude,
    priorOrders: RECOMMENDATION_SETTINGS.priorOrders,
  }).slice(0, wanted);
}

/** `basketRecommendations`: what goes with the basket, never a basket product. */
export async function basketRecommendations(
  deps: RecommendationDeps,
  productIds: readonly string[],
  first: number | null | undefined,
): Promise<string[]> {
  if (productIds.length < 1 || productIds.length > MAX_BASKET) {
    throw badUserInput(`productIds must hold 1 to ${MAX_BASKET} product ids.`, "productIds");
  }
  const invalid = productIds.find((id) => !isObjectIdHex(id));
  if (invalid !== undefined) throw badUserInput(`${invalid} is not a product id.`, "productIds");
  const limit = listSize(first, 10, MAX_FIRST);
  const basket = new Set(productIds);
  const candidates = await recommendFor(deps, [...basket], basket, limit * CANDIDATES_PER_RESULT);
  return keepActive(deps.loaders, candidates, limit);
}

/** `Product.frequentlyBoughtTogether`: the product's own neighbours, strongest first; no filler. */
export async function frequentlyBoughtTogether(
  deps: Pick<RecommendationDeps, "loaders">,
  productId: string,
  first: number | null | undefined,
): Promise<string[]> {
  const limit = listSize(first, 5, MAX_FIRST);
  const neighbours = await deps.loaders.neighbours.load(productId);
  const candidates = neighbours
    .slice(0, limit * CANDIDATES_PER_RESULT)
    .map((neighbour) => neighbour.productId);
  return keepActive(deps.loaders, candidates, limit);
}

/**
 * `User.recommendedProducts`: for the customer themselves or staff with `insights:read`. What
 * goes with what they bought, never what they bought in the last 90 days.
 */
export async function recommendedProducts(
  deps: RecommendationDeps,
  viewer: Viewer | null,
  userId: string,
  first: number | null | undefined,
  now: Date = new Date(),
): Promise<string[]> {
  if (viewer?.userId !== userId && !hasScope(viewer, "insights:read")) {
    throw forbidden(
      "Only the customer themselves or staff with insights:read may see these recommendations.",
    );
  }
  const limit = listSize(first, 10, MAX_FIRST);
  const purchases = await findCustomerPurchases(deps.db, userId, HISTORY_PRODUCTS);
  const recent = new Set(
    purchases
      .filter((purchase) => now.getTime() - purchase.last_bought_at.getTime() < RECENTLY_BOUGHT_DAYS * DAY_MS)
      .map((purchase) => purchase.product_id),
  );
  const sources = purchases.map((purchase) => purchase.product_id);
  const candidates = await recommendFor(deps, sources, recent, limit * CANDIDATES_PER_RESULT);
  return keepActive(deps.loaders, candidates, limit);
}

/** `trendingProducts`: most growth of units between the two windows, for sale now. */
export async function trendingProducts(
  deps: RecommendationDeps,
  first: number | null | undefined,
  window: keyof typeof TREND_WINDOW_DAYS | null | undefined,
): Promise<string[]> {
  const limit = listSize(first, 10, MAX_FIRST);
  const rows = await findTrending(deps.db, {
    days: TREND_WINDOW_DAYS[window ?? "WEEK"],
    minUnits: MIN_TRENDING_UNITS,
    limit: limit * CANDIDATES_PER_RESULT,
  });
  return keepActive(
    deps.loaders,
    rows.map((row) => row.product_id),
    limit,
  );
}

/** Rebuilds the neighbours and popularity from every sale order (the background refresh). */
export function refreshRecommendations(db: Kysely<Database>): Promise<{ pairs: number; popular: number }> {
  return rebuildRecommendations(db, { ...RECOMMENDATION_SETTINGS, before: null });
}
