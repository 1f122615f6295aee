import { type Insertable, type Kysely, sql } from "kysely";
import type { Database, SalesFactsTable } from "../db/database.ts";

export type SalesFactInsert = Insertable<SalesFactsTable>;

export interface ProductSalesRow {
  product_id: string;
  units_sold: number;
  order_count: number;
}

/** Records facts; a fact already recorded for the same event and product is kept as it is. */
export async function insertSalesFacts(
  db: Kysely<Database>,
  facts: readonly SalesFactInsert[],
): Promise<void> {
  if (facts.length === 0) return;
  await db
    .insertInto("sales_facts")
    .values([...facts])
    .onConflict((oc) => oc.columns(["event_id", "product_id"]).doNothing())
    .execute();
}

/** Best sellers by units, ties broken by product id so the ranking is stable; one query. */
export async function findTopProducts(db: Kysely<Database>, limit: number): Promise<ProductSalesRow[]> {
  return db
    .selectFrom("sales_facts")
    .select([
      "product_id",
      // GraphQL Int is 32-bit, so the sums are returned as int rather than pg's bigint strings.
      sql<number>`sum(quantity)::int`.as("units_sold"),
      sql<number>`count(DISTINCT order_id)::int`.as("order_count"),
    ])
    .groupBy("product_id")
    .orderBy("units_sold", "desc")
    .orderBy("product_id")
    .limit(limit)
    .execute();
}
