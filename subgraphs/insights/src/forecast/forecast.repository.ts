import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.ts";

/**
 * Weekly figures are summed from the daily roll-ups (UTC days, kept by the events consumer), not
 * from the facts: a year of a store is some thousands of product-days rather than every line of
 * every order. Weeks are Monday 00:00 UTC, returned as timestamptz so no time zone shifts them.
 */
const week = sql<Date>`date_trunc('week', day::timestamp) AT TIME ZONE 'UTC'`;

/** Days before `before` (a Monday 00:00 UTC), or every day when it is null. */
const daysBefore = (before: Date | null) =>
  before === null ? sql`TRUE` : sql`day < (${before}::timestamptz AT TIME ZONE 'UTC')::date`;

export interface ProductWeekRow {
  product_id: string;
  week: Date;
  /** Units sold in sale orders placed that week, minus units refunded that week. */
  units: number;
}

export interface CategoryWeekRow {
  category_id: string;
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
  const only = productIds === null ? sql`TRUE` : sql`product_id IN (${sql.join(productIds)})`;
  const result = await sql<ProductWeekRow>`SELECT product_id, ${week} AS week,
      sum(units - returned_units)::int AS units
    FROM daily_product_sales WHERE ${daysBefore(before)} AND ${only}
    GROUP BY 1, 2 ORDER BY 1, 2`.execute(db);
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

/** Units sold per known category and week before `before` (the seasonal shapes; refunds left out). */
export async function findCategoryWeeks(
  db: Kysely<Database>,
  before: Date | null,
): Promise<CategoryWeekRow[]> {
  const result = await sql<CategoryWeekRow>`SELECT category_id, ${week} AS week, sum(units)::int AS units
    FROM daily_category_sales WHERE ${daysBefore(before)}
    GROUP BY 1, 2 ORDER BY 1, 2`.execute(db);
  return result.rows;
}

/** Units sold per week before `before`, all products and currencies (the store's shape; refunds left out). */
export async function findSaleWeeks(
  db: Kysely<Database>,
  before: Date | null,
): Promise<{ week: Date; units: number }[]> {
  const result = await sql<{ week: Date; units: number }>`SELECT ${week} AS week, sum(units)::int AS units
    FROM daily_sales WHERE ${daysBefore(before)} GROUP BY 1 ORDER BY 1`.execute(db);
  return result.rows;
}

/** The store's net units and revenue per week and currency before `before`. */
export async function findStoreWeeks(db: Kysely<Database>, before: Date | null): Promise<StoreWeekRow[]> {
  const result =
    await sql<StoreWeekRow>`SELECT week, currency_code, sum(units)::int AS units, sum(revenue)::float8 AS revenue FROM (
      SELECT ${week} AS week, currency_code, sum(units - returned_units) AS units, 0 AS revenue
      FROM daily_product_sales WHERE ${daysBefore(before)} GROUP BY 1, 2
      UNION ALL
      SELECT ${week} AS week, currency_code, 0, sum(revenue - refunded_amount)
      FROM daily_sales WHERE ${daysBefore(before)} GROUP BY 1, 2
    ) weeks GROUP BY week, currency_code ORDER BY week, currency_code`.execute(db);
  return result.rows;
}

/** The week of the newest sale order: the first week forecast, as its history stops before it. */
export async function findWeekAfterHistory(db: Kysely<Database>): Promise<Date | null> {
  const row = await sql<{ week: Date | null }>`SELECT ${week} AS week FROM daily_sales
    WHERE orders > 0 ORDER BY day DESC LIMIT 1`.execute(db);
  return row.rows[0]?.week ?? null;
}

/** Everything product forecasts are built from, up to `end` (a Monday, exclusive). */
export interface ForecastRows {
  /** Null when there is no sale at all. */
  end: Date | null;
  productWeeks: ProductWeekRow[];
  categories: { product_id: string; category_id: string }[];
  categoryWeeks: CategoryWeekRow[];
  /** Every sale's units per week, for the store's shape. */
  saleWeeks: { week: Date; units: number }[];
}

/**
 * The rows of `productIds` (all products when null) up to `end`, or up to the week of the
 * newest sale when `end` is null: four aggregate queries whatever the number of products.
 */
export async function findForecastRows(
  db: Kysely<Database>,
  productIds: readonly string[] | null,
  end: Date | null,
): Promise<ForecastRows> {
  const until = end ?? (await findWeekAfterHistory(db));
  if (until === null)
    return { end: null, productWeeks: [], categories: [], categoryWeeks: [], saleWeeks: [] };
  const [productWeeks, categories, categoryWeeks, saleWeeks] = await Promise.all([
    findProductWeeks(db, productIds, until),
    findProductCategories(db, productIds),
    findCategoryWeeks(db, until),
    findSaleWeeks(db, until),
  ]);
  return { end: until, productWeeks, categories, categoryWeeks, saleWeeks };
}
