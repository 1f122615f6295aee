import type { ProcessedEventsDatabase } from "@nexus/events";
import type { ColumnType } from "kysely";

/**
 * One row per product per placed order: the facts every sales figure is computed from, counted
 * only for orders whose outcome (`order_outcomes`) is a sale.
 */
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

/**
 * What became of an order, from orders' events: its facts count as sales only once it was
 * confirmed (payment captured, stock reserved) and as long as it was not reversed after.
 * Both are set once and never cleared, so events may arrive in any order and any number of times.
 */
export interface OrderOutcomesTable {
  order_id: string;
  /** When OrderConfirmed happened; null until insights has heard it. */
  confirmed_at: Date | null;
  /** When the order was cancelled or rejected (OrderCancelled, OrderRejected); null while it stands. */
  reversed_at: Date | null;
}

export interface Database extends ProcessedEventsDatabase {
  sales_facts: SalesFactsTable;
  order_outcomes: OrderOutcomesTable;
}
