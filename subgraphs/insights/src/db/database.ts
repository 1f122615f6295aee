import type { ProcessedEventsDatabase } from "@nexus/events";
import type { ColumnType } from "kysely";

/** One row per product per placed order: the facts every sales figure is computed from. */
export interface SalesFactsTable {
  /** The OrderPlaced event the fact came from; with product_id, what makes a fact unique. */
  event_id: string;
  order_id: string;
  /** The catalog's product id (ObjectId hex); a soft reference. */
  product_id: string;
  quantity: number;
  /** Minor units, as snapshotted by orders at checkout. */
  unit_price: number;
  currency_code: string;
  occurred_at: ColumnType<Date, Date, never>;
}

export interface Database extends ProcessedEventsDatabase {
  sales_facts: SalesFactsTable;
}
