import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.ts";

/**
 * Reads of the roll-ups (and, for customers, of `sale_orders`): one query per figure set.
 * Sums are cast to float8 (exact for whole numbers below 2^53) or int, never left as pg's bigint
 * strings. Day bounds are `YYYY-MM-DD`, `from` included and `to` excluded.
 */

export interface ProductSalesRow {
  product_id: string;
  units_sold: number;
  order_count: number;
}

/**
 * Best sellers by units, all time, ties broken by product id so the ranking is stable; one
 * query over the per-day product roll-up, which holds only orders that are sales.
 */
export async function findTopProducts(db: Kysely<Database>, limit: number): Promise<ProductSalesRow[]> {
  return db
    .selectFrom("daily_product_sales")
    .select([
      "product_id",
      // GraphQL Int is 32-bit, so the sums are returned as int rather than pg's bigint strings.
      sql<number>`sum(units)::int`.as("units_sold"),
      sql<number>`sum(orders)::int`.as("order_count"),
    ])
    .groupBy("product_id")
    .having(sql<boolean>`sum(units) > 0`)
    .orderBy("units_sold", "desc")
    .orderBy("product_id")
    .limit(limit)
    .execute();
}

export interface SalesTotals {
  revenue: number;
  refunded: number;
  orders: number;
  units: number;
}

export interface DayRange {
  fromDay: string;
  toDay: string;
}

/** The day roll-up's sums over two adjacent periods (`previous` ends where `current` begins). */
export async function sumDailySales(
  db: Kysely<Database>,
  currencyCode: string,
  current: DayRange,
  previous: DayRange,
): Promise<{ current: SalesTotals; previous: SalesTotals }> {
  const { rows } = await sql<{ [K in `${"c" | "p"}_${keyof SalesTotals}`]: number }>`
    SELECT
      coalesce(sum(revenue) FILTER (WHERE day >= ${current.fromDay}::date), 0)::float8 AS c_revenue,
      coalesce(sum(refunded_amount) FILTER (WHERE day >= ${current.fromDay}::date), 0)::float8 AS c_refunded,
      coalesce(sum(orders) FILTER (WHERE day >= ${current.fromDay}::date), 0)::float8 AS c_orders,
      coalesce(sum(units) FILTER (WHERE day >= ${current.fromDay}::date), 0)::float8 AS c_units,
      coalesce(sum(revenue) FILTER (WHERE day < ${current.fromDay}::date), 0)::float8 AS p_revenue,
      coalesce(sum(refunded_amount) FILTER (WHERE day < ${current.fromDay}::date), 0)::float8 AS p_refunded,
      coalesce(sum(orders) FILTER (WHERE day < ${current.fromDay}::date), 0)::float8 AS p_orders,
      coalesce(sum(units) FILTER (WHERE day < ${current.fromDay}::date), 0)::float8 AS p_units
    FROM daily_sales
    WHERE currency_code = ${currencyCode} AND day >= ${previous.fromDay}::date AND day < ${current.toDay}::date`.execute(
    db,
  );
  const row = rows[0];
  const totals = (prefix: "c" | "p"): SalesTotals => ({
    revenue: row?.[`${prefix}_revenue`] ?? 0,
    refunded: row?.[`${prefix}_refunded`] ?? 0,
    orders: row?.[`${prefix}_orders`] ?? 0,
    units: row?.[`${prefix}_units`] ?? 0,
  });
  return { current: totals("c"), previous: totals("p") };
}

export interface CustomerCounts {
  customers: number;
  /** Of those, how many had a sale order in this currency before the period began. */
  returning: number;
}

/**
 * Signed-in customers with a sale order in each of two adjacent periods, and how many of them
 * had ordered before their period: the sale orders in the periods, each customer's first order
 * from the customer roll-up.
 */
export async function countCustomers(
  db: Kysely<Database>,
  currencyCode: string,
  current: { from: Date; to: Date },
  previous: { from: Date },
): Promise<{ current: CustomerCounts; previous: CustomerCounts }> {
  const { rows } = await sql<{ is_current: boolean; customers: number; returning: number }>`
    SELECT s.placed_at >= ${current.from}::timestamptz AS is_current,
      count(DISTINCT s.customer_id)::int AS customers,
      count(DISTINCT s.customer_id) FILTER (
        WHERE c.first_order_at <
          CASE WHEN s.placed_at >= ${current.from} THEN ${current.from}::timestamptz ELSE ${previous.from}::timestamptz END
      )::int AS returning
    FROM sale_orders s
    JOIN customer_sales c ON c.customer_id = s.customer_id AND c.currency_code = s.currency_code
    WHERE s.currency_code = ${currencyCode} AND s.placed_at >= ${previous.from} AND s.placed_at < ${current.to}
    GROUP BY 1`.execute(db);
  const counts = (isCurrent: boolean): CustomerCounts => {
    const row = rows.find((r) => r.is_current === isCurrent);
    return { customers: row?.customers ?? 0, returning: row?.returning ?? 0 };
  };
  return { current: counts(true), previous: counts(false) };
}

export interface DailySalesRow {
  day: string;
  revenue: number;
  refunded: number;
  orders: number;
  units: number;
}

/** The days of a range that have sales or refunds, in order; days without are absent. */
export async function findDailySales(
  db: Kysely<Database>,
  currencyCode: string,
  range: DayRange,
): Promise<DailySalesRow[]> {
  const { rows } = await sql<DailySalesRow>`
    SELECT day::text AS day, revenue::float8 AS revenue, refunded_amount::float8 AS refunded, orders, units::float8 AS units
    FROM daily_sales
    WHERE currency_code = ${currencyCode} AND day >= ${range.fromDay}::date AND day < ${range.toDay}::date
    ORDER BY day`.execute(db);
  return rows;
}

export type PerformanceSort = "REVENUE" | "UNITS" | "ORDERS" | "RETURN_RATE";

export interface PerformanceRow {
  /** The product id or the category id. */
  key: string;
  /** Sales less refunds over the range. */
  revenue: number;
  units: number;
  orders: number;
  returned_units: number;
  return_rate: number | null;
  total_count: number;
}

const SORT_COLUMNS: Record<PerformanceSort, string> = {
  REVENUE: "revenue",
  UNITS: "units",
  ORDERS: "orders",
  RETURN_RATE: "return_rate",
};

/**
 * Rows of the per-day product or category roll-up summed over a range, one per product or
 * category, ranked by `sortBy` descending (nulls last) then by key: `limit` rows from
 * `offset`, each with the count of all rows. One query.
 */
export async function findPerformance(
  db: Kysely<Database>,
  params: {
    by: "product" | "category";
    currencyCode: string;
    range: DayRange;
    sortBy: PerformanceSort;
    /** Products only: those with a line placed in this category. */
    categoryId?: string | null;
    offset: number;
    limit: number;
  },
): Promise<PerformanceRow[]> {
  const { by, currencyCode, range, sortBy, categoryId, offset, limit } = params;
  const table = by === "product" ? sql.table("daily_product_sales") : sql.table("daily_category_sales");
  const key = by === "product" ? sql.ref("product_id") : sql.ref("category_id");
  const inCategory =
    by === "product" && categoryId
      ? sql`AND product_id IN (SELECT product_id FROM order_line_facts WHERE category_id = ${categoryId})`
      : sql``;
  const { rows } = await sql<PerformanceRow>`
    SELECT *, count(*) OVER ()::int AS total_count FROM (
      SELECT ${key} AS key,
        (sum(revenue) - sum(refunded_amount))::float8 AS revenue,
        sum(units)::float8 AS units,
        sum(orders)::int AS orders,
        sum(returned_units)::float8 AS returned_units,
        CASE WHEN sum(units) > 0 THEN sum(returned_units)::float8 / sum(units) END AS return_rate
      FROM ${table}
      WHERE currency_code = ${currencyCode} AND day >= ${range.fromDay}::date AND day < ${range.toDay}::date
        ${inCategory}
      GROUP BY ${key}
    ) t
    ORDER BY ${sql.ref(SORT_COLUMNS[sortBy])} DESC NULLS LAST, key
    OFFSET ${offset} LIMIT ${limit}`.execute(db);
  return rows;
}
