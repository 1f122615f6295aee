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

/**
 * Records what became of an order. Each column is set by the first event that tells it and
 * never changed after, so a repeated or late event changes nothing.
 */
export async function recordOrderOutcome(
  db: Kysely<Database>,
  orderId: string,
  outcome: "confirmed_at" | "reversed_at",
  at: Date,
): Promise<void> {
  await db
    .insertInto("order_outcomes")
    .values({ order_id: orderId, [outcome]: at })
    .onConflict((oc) =>
      oc.column("order_id").doUpdateSet({
        [outcome]: sql<Date>`coalesce(order_outcomes.${sql.ref(outcome)}, excluded.${sql.ref(outcome)})`,
      }),
    )
    .execute();
}

/**
 * Best sellers by units, ties broken by product id so the ranking is stable; one query. Only
 * orders that were confirmed and not cancelled or rejected since are sales.
 */
export async function findTopProducts(db: Kysely<Database>, limit: number): Promise<ProductSalesRow[]> {
  return db
    .selectFrom("sales_facts as f")
    .innerJoin("order_outcomes as o", "o.order_id", "f.order_id")
    .where("o.confirmed_at", "is not", null)
    .where("o.reversed_at", "is", null)
    .select([
      "f.product_id",
      // GraphQL Int is 32-bit, so the sums are returned as int rather than pg's bigint strings.
      sql<number>`sum(f.quantity)::int`.as("units_sold"),
      sql<number>`count(DISTINCT f.order_id)::int`.as("order_count"),
    ])
    .groupBy("f.product_id")
    .orderBy("units_sold", "desc")
    .orderBy("f.product_id")
    .limit(limit)
    .execute();
}
