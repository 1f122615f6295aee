import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.ts";

/** Weeks are Monday 00:00 UTC, returned as timestamptz so no time zone shifts them. */
const week = (column: string) =>
  sql<Date>`date_trunc('week', ${sql.ref(column)} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;

export interface ProductWeekRow {
  product_id: string;
  week: Date;
  /** Units sold in sale orders placed that week, minus units refunded that week. */
  units: number;
}

export interface CategoryWeekRow {
  /** Null for products whose category is unknown. */
  category_id: string | null;
  week: Date;
  units: number;
}

export interface StoreWeekRow {
  week: Date;
  currency_code: string;
  units: number;
  /** Revenue of the sale orders placed that week minus refunds made that week, in minor units. */
  revenue: number;
}

const farFuture = (before: Date | null) => before ?? new Date("9999-12-31T00:00:00Z");

/**
 * Net weekly units per product before `before` (sales by the week their order was placed,
 * refunds by the week they were made); all products when `productIds` is null.
 */
export async function findProductWeeks(
  db: Kysely<Database>,
  productIds: readonly string[] | null,
  before: Date | null,
): Promise<ProductWeekRow[]> {
  if (productIds !== null && productIds.length === 0) return [];
  const only = (column: string) =>
    productIds === null ? sql`TRUE` : sql`${sql.ref(column)} IN (${sql.join(productIds)})`;
  const result = await sql<ProductWeekRow>`SELECT product_id, week, sum(units)::int AS units FROM (
      SELECT l.product_id, ${week("s.placed_at")} AS week, sum(l.quantity) AS units
      FROM order_line_facts l JOIN sale_orders s ON s.order_id = l.order_id
      WHERE s.placed_at < ${farFuture(before)} AND ${only("l.product_id")}
      GROUP BY 1, 2
      UNION ALL
      SELECT r.product_id, ${week("f.refunded_at")} AS week, -sum(r.quantity) AS units
      FROM refund_line_facts r JOIN refund_facts f ON f.refund_id = r.refund_id
      WHERE f.refunded_at < ${farFuture(before)} AND ${only("r.product_id")}
      GROUP BY 1, 2
    ) weeks GROUP BY product_id, week ORDER BY product_id, week`.execute(db);
  return result.rows;
}

/** Each product's category in its latest sale with a known category. */
export async function findProductCategories(
  db: Kysely<Database>,
  productIds: readonly string[] | null,
): Promise<{ product_id: string; category_id: string }[]> {
  if (productIds !== null && productIds.length === 0) return [];
  let query = db
    .selectFrom("order_line_facts as l")
    .innerJoin("order_facts as f", "f.order_id", "l.order_id")
    .where("l.category_id", "is not", null)
    .distinctOn("l.product_id")
    .select(["l.product_id", "l.category_id"])
    .orderBy("l.product_id")
    .orderBy("f.placed_at", "desc");
  if (productIds !== null) query = query.where("l.product_id", "in", productIds);
  const rows = await query.execute();
  return rows.flatMap((row) =>
    row.category_id === null ? [] : [{ product_id: row.product_id, category_id: row.category_id }],
  );
}

/** Units sold per category and week before `before` (the seasonal shapes; refunds left out). */
export async function findCategoryWeeks(
  db: Kysely<Database>,
  before: Date | null,
): Promise<CategoryWeekRow[]> {
  const result =
    await sql<CategoryWeekRow>`SELECT l.category_id, ${week("s.placed_at")} AS week, sum(l.quantity)::int AS units
    FROM order_line_facts l JOIN sale_orders s ON s.order_id = l.order_id
    WHERE s.placed_at < ${farFuture(before)}
    GROUP BY 1, 2 ORDER BY 1, 2`.execute(db);
  return result.rows;
}

/** The store's net units and revenue per week and currency before `before`. */
export async function findStoreWeeks(db: Kysely<Database>, before: Date | null): Promise<StoreWeekRow[]> {
  const result =
    await sql<StoreWeekRow>`SELECT week, currency_code, sum(units)::int AS units, sum(revenue)::float8 AS revenue FROM (
      SELECT ${week("placed_at")} AS week, currency_code, sum(units) AS units, sum(total_amount) AS revenue
      FROM sale_orders WHERE placed_at < ${farFuture(before)} GROUP BY 1, 2
      UNION ALL
      SELECT ${week("f.refunded_at")} AS week, f.currency_code,
        -coalesce((SELECT sum(r.quantity) FROM refund_line_facts r WHERE r.refund_id = f.refund_id), 0) AS units,
        -f.amount AS revenue
      FROM refund_facts f WHERE f.refunded_at < ${farFuture(before)}
    ) weeks GROUP BY week, currency_code ORDER BY week, currency_code`.execute(db);
  return result.rows;
}

/** The week of the newest sale order: the first week forecast, as its history stops before it. */
export async function findWeekAfterHistory(db: Kysely<Database>): Promise<Date | null> {
  const row = await sql<{ week: Date | null }>`SELECT ${week("placed_at")} AS week FROM sale_orders
    ORDER BY placed_at DESC LIMIT 1`.execute(db);
  return row.rows[0]?.week ?? null;
}

/** Everything product forecasts are built from, up to `end` (a Monday, exclusive). */
export interface ForecastRows {
  /** Null when there is no sale at all. */
  end: Date | null;
  productWeeks: ProductWeekRow[];
  categories: { product_id: string; category_id: string }[];
  categoryWeeks: CategoryWeekRow[];
}

/**
 * The rows of `productIds` (all products when null) up to `end`, or up to the week of the
 * newest sale when `end` is null: three aggregate queries whatever the number of products.
 */
export async function findForecastRows(
  db: Kysely<Database>,
  productIds: readonly string[] | null,
  end: Date | null,
): Promise<ForecastRows> {
  const until = end ?? (await findWeekAfterHistory(db));
  if (until === null) return { end: null, productWeeks: [], categories: [], categoryWeeks: [] };
  const [productWeeks, categories, categoryWeeks] = await Promise.all([
    findProductWeeks(db, productIds, until),
    findProductCategories(db, productIds),
    findCategoryWeeks(db, until),
  ]);
  return { end: until, productWeeks, categories, categoryWeeks };
}
