import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.ts";
import type { CustomerFeatures } from "./customer-features.model.ts";

export interface FeaturesQuery {
  /** Features are as of this instant: sales placed and refunds made at or before it. */
  asOf: Date;
  currencyCode: string;
  /** When set, also counts each customer's sales in (asOf, labelEnd]. */
  labelEnd?: Date;
  /** Keyset: customers with a larger id than this, in id order. */
  afterCustomerId?: string | null;
  limit: number;
}

export interface CustomerFeaturesRow extends CustomerFeatures {
  /** Sales in (asOf, labelEnd]; null without labelEnd. */
  laterOrders: number | null;
}

interface RawRow {
  customer_id: string;
  recency_days: number;
  tenure_days: number;
  orders: number;
  gross_revenue: number;
  refunded: number;
  units: number;
  lines: number;
  distinct_products: number;
  orders_30: number;
  orders_prev_30: number;
  orders_90: number;
  orders_prev_90: number;
  orders_180: number;
  orders_prev_180: number;
  revenue_90: number;
  revenue_prev_90: number;
  later_orders: number | null;
}

/**
 * One page of customers (in id order) who bought in the store currency at or before `asOf`,
 * with their features, in one query. Sales are the `sale_orders` view (confirmed, not cancelled
 * or rejected); refunds count by when they were made.
 */
export async function findCustomerFeatures(
  db: Kysely<Database>,
  query: FeaturesQuery,
): Promise<CustomerFeaturesRow[]> {
  const { asOf, currencyCode, limit } = query;
  const after = query.afterCustomerId ?? null;
  const labelEnd = query.labelEnd ?? null;
  const { rows } = await sql<RawRow>`
    WITH customers AS (
      SELECT customer_id FROM sale_orders
      WHERE customer_id IS NOT NULL AND currency_code = ${currencyCode} AND placed_at <= ${asOf}
        AND (${after}::uuid IS NULL OR customer_id > ${after}::uuid)
      GROUP BY customer_id ORDER BY customer_id LIMIT ${limit}
    ),
    sales AS (
      SELECT s.customer_id, s.order_id, s.total_amount, s.units,
        extract(epoch FROM (${asOf}::timestamptz - s.placed_at)) / 86400 AS age
      FROM sale_orders s JOIN customers c ON c.customer_id = s.customer_id
      WHERE s.currency_code = ${currencyCode} AND s.placed_at <= ${asOf}
    ),
    per_customer AS (
      SELECT customer_id,
        min(age)::float8 AS recency_days,
        max(age)::float8 AS tenure_days,
        count(*)::int AS orders,
        sum(total_amount)::float8 AS gross_revenue,
        sum(units)::float8 AS units,
        count(*) FILTER (WHERE age < 30)::int AS orders_30,
        count(*) FILTER (WHERE age >= 30 AND age < 60)::int AS orders_prev_30,
        count(*) FILTER (WHERE age < 90)::int AS orders_90,
        count(*) FILTER (WHERE age >= 90 AND age < 180)::int AS orders_prev_90,
        count(*) FILTER (WHERE age < 180)::int AS orders_180,
        count(*) FILTER (WHERE age >= 180 AND age < 360)::int AS orders_prev_180,
        coalesce(sum(total_amount) FILTER (WHERE age < 90), 0)::float8 AS revenue_90,
        coalesce(sum(total_amount) FILTER (WHERE age >= 90 AND age < 180), 0)::float8 AS revenue_prev_90
      FROM sales GROUP BY customer_id
    ),
    lines AS (
      SELECT s.customer_id, count(*)::int AS lines, count(DISTINCT l.product_id)::int AS distinct_products
      FROM sales s JOIN order_line_facts l ON l.order_id = s.order_id
      GROUP BY s.customer_id
    ),
    refunds AS (
      SELECT r.customer_id, sum(r.amount)::float8 AS refunded
      FROM refund_facts r JOIN customers c ON c.customer_id = r.customer_id
      WHERE r.currency_code = ${currencyCode} AND r.refunded_at <= ${asOf}
      GROUP BY r.customer_id
    ),
    later AS (
      SELECT s.customer_id, count(*)::int AS later_orders
      FROM sale_orders s JOIN customers c ON c.customer_id = s.customer_id
      WHERE ${labelEnd}::timestamptz IS NOT NULL AND s.currency_code = ${currencyCode}
        AND s.placed_at > ${asOf} AND s.placed_at <= ${labelEnd}::timestamptz
      GROUP BY s.customer_id
    )
    SELECT p.*, coalesce(l.lines, 0) AS lines, coalesce(l.distinct_products, 0) AS distinct_products,
      coalesce(r.refunded, 0) AS refunded,
      CASE WHEN ${labelEnd}::timestamptz IS NULL THEN NULL ELSE coalesce(n.later_orders, 0) END AS later_orders
    FROM per_customer p
    LEFT JOIN lines l ON l.customer_id = p.customer_id
    LEFT JOIN refunds r ON r.customer_id = p.customer_id
    LEFT JOIN later n ON n.customer_id = p.customer_id
    ORDER BY p.customer_id`.execute(db);
  return rows.map((row) => ({
    customerId: row.customer_id,
    recencyDays: row.recency_days,
    tenureDays: row.tenure_days,
    orders: row.orders,
    grossRevenue: row.gross_revenue,
    refunded: row.refunded,
    units: row.units,
    lines: row.lines,
    distinctProducts: row.distinct_products,
    orders30: row.orders_30,
    ordersPrev30: row.orders_prev_30,
    orders90: row.orders_90,
    ordersPrev90: row.orders_prev_90,
    orders180: row.orders_180,
    ordersPrev180: row.orders_prev_180,
    revenue90: row.revenue_90,
    revenuePrev90: row.revenue_prev_90,
    laterOrders: row.later_orders,
  }));
}

/**
 * Churned and retained customers for features as of `asOf` and labels up to `labelEnd`: those
 * who bought at or before `asOf`, split by whether they bought again in (asOf, labelEnd].
 */
export async function countChurnLabels(
  db: Kysely<Database>,
  currencyCode: string,
  asOf: Date,
  labelEnd: Date,
): Promise<{ churned: number; retained: number }> {
  const { rows } = await sql<{ churned: number; retained: number }>`
    WITH customers AS (
      SELECT customer_id, bool_or(placed_at > ${asOf}) AS returned
      FROM sale_orders
      WHERE customer_id IS NOT NULL AND currency_code = ${currencyCode} AND placed_at <= ${labelEnd}
      GROUP BY customer_id
      HAVING min(placed_at) <= ${asOf}
    )
    SELECT count(*) FILTER (WHERE NOT returned)::int AS churned, count(*) FILTER (WHERE returned)::int AS retained
    FROM customers`.execute(db);
  return rows[0] ?? { churned: 0, retained: 0 };
}

/** When the newest sale in the store currency was placed; null before any. */
export async function findNewestSaleTime(db: Kysely<Database>, currencyCode: string): Promise<Date | null> {
  const row = await db
    .selectFrom("sale_orders")
    .select((eb) => eb.fn.max("placed_at").as("newest"))
    .where("currency_code", "=", currencyCode)
    .executeTakeFirst();
  return row?.newest ?? null;
}

/**
 * Refreshes the planner's statistics of the fact tables. A training reads them right after an
 * import may have filled them, before autovacuum has looked; with stale row counts PostgreSQL
 * picks nested loops that turn the feature query from milliseconds into seconds.
 */
export async function refreshFactStatistics(db: Kysely<Database>): Promise<void> {
  await sql`ANALYZE order_facts, order_line_facts, order_outcomes, refund_facts, refund_line_facts`.execute(
    db,
  );
}
