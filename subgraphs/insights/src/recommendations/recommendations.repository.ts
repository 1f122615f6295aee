import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Database, ProductNeighboursTable, ProductPopularityTable } from "../db/database.ts";

/** What bounds the co-purchase count and what counts as a neighbour. */
export interface CoPurchaseSettings {
  /** Only orders placed before this time are counted (the evaluation trains on the past only). */
  before: Date | null;
  /** At most this many products of one order are paired (its largest lines): pairs grow as n². */
  productsPerOrder: number;
  /** A pair counts from this many orders holding both; fewer is chance. */
  minCoOrders: number;
  /** The popularity prior weighs as much as this many orders of a product (see recommendations.model.ts). */
  priorOrders: number;
  /** Neighbours kept per product, strongest first. */
  neighboursPerProduct: number;
  /** Popularity counts units in this many days up to the newest counted order. */
  popularityDays: number;
}

export type NeighbourRow = ProductNeighboursTable;
export type PopularityRow = ProductPopularityTable;

/** Orders placed before `before`, or every order when it is null. */
const beforeTime = (before: Date | null) => before ?? new Date("9999-12-31T00:00:00Z");

/** Each counted sale order's largest lines, and how many counted orders hold each product. */
function cappedLines(settings: CoPurchaseSettings) {
  return sql`lines AS (
      SELECT l.order_id, l.product_id,
        row_number() OVER (PARTITION BY l.order_id ORDER BY l.quantity DESC, l.product_id) AS position
      FROM order_line_facts l JOIN sale_orders s ON s.order_id = l.order_id
      WHERE s.placed_at < ${beforeTime(settings.before)}
    ),
    capped AS (SELECT order_id, product_id FROM lines WHERE position <= ${settings.productsPerOrder}),
    support AS (SELECT product_id, count(*) AS orders FROM capped GROUP BY product_id)`;
}

/**
 * The co-purchase neighbours of every product, in one statement: each sale order's largest
 * lines paired with each other, pairs counted across orders, kept when more orders hold both
 * than chance would (the count expected if the two were bought independently), scored by
 * `both / (ordersOf(product) + prior)`, the strongest per product kept.
 */
function neighboursQuery(settings: CoPurchaseSettings): RawBuilder<NeighbourRow> {
  return sql<NeighbourRow>`WITH ${cappedLines(settings)},
    total AS (SELECT count(DISTINCT order_id)::float8 AS orders FROM capped),
    pairs AS (
      SELECT a.product_id, b.product_id AS neighbour_id, count(*) AS co_orders
      FROM capped a JOIN capped b ON b.order_id = a.order_id AND b.product_id <> a.product_id
      GROUP BY a.product_id, b.product_id
      HAVING count(*) >= ${settings.minCoOrders}
    ),
    ranked AS (
      SELECT p.product_id, p.neighbour_id, p.co_orders::int AS co_orders,
        p.co_orders / (sa.orders + ${settings.priorOrders})::float8 AS score,
        row_number() OVER (PARTITION BY p.product_id ORDER BY p.co_orders DESC, p.neighbour_id) AS rank
      FROM pairs p
      JOIN support sa ON sa.product_id = p.product_id
      JOIN support sb ON sb.product_id = p.neighbour_id
      CROSS JOIN total
      WHERE p.co_orders > sa.orders::float8 * sb.orders / total.orders
    )
    SELECT product_id, neighbour_id, co_orders, score FROM ranked WHERE rank <= ${settings.neighboursPerProduct}`;
}

/**
 * Every counted product's orders (all history), and its units, orders and share of orders in
 * the `popularityDays` up to the newest counted sale order.
 */
function popularityQuery(settings: CoPurchaseSettings): RawBuilder<PopularityRow> {
  const before = beforeTime(settings.before);
  return sql<PopularityRow>`WITH ${cappedLines(settings)},
    newest AS (SELECT max(placed_at) AS at FROM sale_orders WHERE placed_at < ${before}),
    recent AS (
      SELECT l.product_id, sum(l.quantity)::int AS units, count(*)::int AS order_count
      FROM order_line_facts l
      JOIN sale_orders s ON s.order_id = l.order_id
      CROSS JOIN newest
      WHERE s.placed_at < ${before} AND s.placed_at > newest.at - make_interval(days => ${settings.popularityDays})
      GROUP BY l.product_id
    ),
    window_orders AS (
      SELECT count(*)::float8 AS orders FROM sale_orders CROSS JOIN newest
      WHERE placed_at < ${before} AND placed_at > newest.at - make_interval(days => ${settings.popularityDays})
    )
    SELECT coalesce(s.product_id, r.product_id) AS product_id, coalesce(s.orders, 0)::int AS orders,
      coalesce(r.units, 0) AS units, coalesce(r.order_count, 0) AS order_count,
      coalesce(r.order_count / nullif(w.orders, 0), 0) AS share
    FROM support s FULL JOIN recent r ON r.product_id = s.product_id CROSS JOIN window_orders w`;
}

/**
 * Rebuilds both tables in one transaction, so readers see the old figures until the new ones
 * are complete. Returns how many neighbour pairs and popular products were written.
 */
export async function rebuildRecommendations(
  db: Kysely<Database>,
  settings: CoPurchaseSettings,
): Promise<{ pairs: number; popular: number }> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom("product_neighbours").execute();
    const pairs = await sql`INSERT INTO product_neighbours (product_id, neighbour_id, co_orders, score)
      ${neighboursQuery(settings)}`.execute(trx);
    await trx.deleteFrom("product_popularity").execute();
    const popular = await sql`INSERT INTO product_popularity (product_id, orders, units, order_count, share)
      ${popularityQuery(settings)}`.execute(trx);
    return { pairs: Number(pairs.numAffectedRows ?? 0n), popular: Number(popular.numAffectedRows ?? 0n) };
  });
}

/** The neighbours the refresh would write, without writing them (the offline evaluation). */
export async function computeNeighbours(
  db: Kysely<Database>,
  settings: CoPurchaseSettings,
): Promise<NeighbourRow[]> {
  return (await neighboursQuery(settings).execute(db)).rows;
}

/** The popularity the refresh would write, without writing it. */
export async function computePopularity(
  db: Kysely<Database>,
  settings: CoPurchaseSettings,
): Promise<PopularityRow[]> {
  return (await popularityQuery(settings).execute(db)).rows;
}

/** The stored neighbours of these products, strongest first per product. */
export async function findNeighbours(
  db: Kysely<Database>,
  productIds: readonly string[],
): Promise<NeighbourRow[]> {
  if (productIds.length === 0) return [];
  return db
    .selectFrom("product_neighbours")
    .selectAll()
    .where("product_id", "in", productIds)
    .orderBy("product_id")
    .orderBy("score", "desc")
    .orderBy("neighbour_id")
    .execute();
}

/** The most popular products, most units in the window first (ties by product id). */
export async function findPopular(db: Kysely<Database>, limit: number): Promise<PopularityRow[]> {
  return db
    .selectFrom("product_popularity")
    .selectAll()
    .where("units", ">", 0)
    .orderBy("units", "desc")
    .orderBy("product_id")
    .limit(limit)
    .execute();
}

/** The popularity rows of these products; products never sold have none. */
export async function findPopularity(
  db: Kysely<Database>,
  productIds: readonly string[],
): Promise<PopularityRow[]> {
  if (productIds.length === 0) return [];
  return db.selectFrom("product_popularity").selectAll().where("product_id", "in", productIds).execute();
}

/** A customer's purchases: each product with when they last bought it, newest first. */
export async function findCustomerPurchases(
  db: Kysely<Database>,
  customerId: string,
  limit: number,
): Promise<{ product_id: string; last_bought_at: Date }[]> {
  return db
    .selectFrom("order_line_facts as l")
    .innerJoin("sale_orders as s", "s.order_id", "l.order_id")
    .where("s.customer_id", "=", customerId)
    .groupBy("l.product_id")
    .select(["l.product_id", (eb) => eb.fn.max("s.placed_at").as("last_bought_at")])
    .orderBy("last_bought_at", "desc")
    .orderBy("l.product_id")
    .limit(limit)
    .execute();
}

export interface TrendRow {
  product_id: string;
  units: number;
  previous_units: number;
}

/**
 * Units per product in the `days` up to the newest sale order and in the `days` before them,
 * at least `minUnits` in the latest window; most growth first, by (units + 1) / (previous + 1)
 * so a product new in the window ranks by its volume instead of dividing by zero.
 */
export async function findTrending(
  db: Kysely<Database>,
  { days, minUnits, limit }: { days: number; minUnits: number; limit: number },
): Promise<TrendRow[]> {
  const result = await sql<TrendRow>`WITH newest AS (SELECT max(placed_at) AS at FROM sale_orders),
    windows AS (
      SELECT l.product_id,
        coalesce(sum(l.quantity) FILTER (WHERE s.placed_at > newest.at - make_interval(days => ${days})), 0)::int AS units,
        coalesce(sum(l.quantity) FILTER (WHERE s.placed_at <= newest.at - make_interval(days => ${days})), 0)::int AS previous_units
      FROM order_line_facts l
      JOIN sale_orders s ON s.order_id = l.order_id
      CROSS JOIN newest
      WHERE s.placed_at > newest.at - make_interval(days => ${2 * days})
      GROUP BY l.product_id
    )
    SELECT product_id, units, previous_units FROM windows
    WHERE units >= ${minUnits}
    ORDER BY (units + 1)::float8 / (previous_units + 1) DESC, units DESC, product_id
    LIMIT ${limit}`.execute(db);
  return result.rows;
}

/** When the newest sale order was placed; null when there is none. */
export async function findNewestSale(db: Kysely<Database>, before: Date | null = null): Promise<Date | null> {
  const row = await db
    .selectFrom("sale_orders")
    .where("placed_at", "<", beforeTime(before))
    .select((eb) => eb.fn.max("placed_at").as("at"))
    .executeTakeFirst();
  return row?.at ?? null;
}

/** The distinct products of each sale order placed from `from` on that holds at least two. */
export async function findBasketsSince(db: Kysely<Database>, from: Date): Promise<string[][]> {
  const rows = await db
    .selectFrom("sale_orders as s")
    .innerJoin("order_line_facts as l", "l.order_id", "s.order_id")
    .where("s.placed_at", ">=", from)
    .groupBy("s.order_id")
    .having((eb) => eb.fn.countAll(), ">=", 2)
    .select((eb) => [
      "s.order_id",
      sql<string[]>`array_agg(${eb.ref("l.product_id")} ORDER BY ${eb.ref("l.product_id")})`.as("products"),
    ])
    .orderBy("s.order_id")
    .execute();
  return rows.map((row) => row.products);
}
