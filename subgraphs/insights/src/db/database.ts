import type { ProcessedEventsDatabase } from "@nexus/events";
import type { ColumnType } from "kysely";

/**
 * Raw facts, written only by the events consumer (live orders and imported history alike) and
 * never changed by reads: every figure and model is computed from them or from roll-ups that
 * can be rebuilt from them. Amounts are minor units of `currency_code`; times are when the
 * thing happened (the event's `occurredAt`), never when insights heard of it.
 */

/** One row per placed order, from OrderPlaced. */
export interface OrderFactsTable {
  order_id: string;
  /** Null for a guest sale. */
  customer_id: string | null;
  currency_code: string;
  placed_at: Date;
  /** Shipping country (ISO alpha-2); null when unknown. */
  country_code: string | null;
  /** Sum of the lines' quantity * unit_price. */
  total_amount: ColumnType<number, number, number>;
  units: number;
  /** True for an order imported from a store's history. */
  historical: boolean;
}

/** One row per product of a placed order; repeated lines of one product are merged. */
export interface OrderLineFactsTable {
  order_id: string;
  /** The catalog's product id (ObjectId hex); a soft reference. */
  product_id: string;
  /** The catalog category when the order was placed; null when unknown. */
  category_id: string | null;
  product_name: string | null;
  quantity: number;
  unit_price: number;
}

/**
 * What became of an order, from orders' events. Each column is set by the first event that tells
 * it and never changed after, so events may arrive in any order and any number of times. An order
 * is a sale from `confirmed_at` on, as long as `reversed_at` is null (view `sale_orders`).
 */
export interface OrderOutcomesTable {
  order_id: string;
  /** When OrderConfirmed happened; null until insights has heard it. */
  confirmed_at: Date | null;
  /** When the order was cancelled or rejected (OrderCancelled, OrderRejected); null while it stands. */
  reversed_at: Date | null;
  /** CANCELLED or REJECTED, with the event's reason; null while it stands. */
  reversal_kind: "CANCELLED" | "REJECTED" | null;
  reversal_reason: string | null;
  shipped_at: Date | null;
  delivered_at: Date | null;
}

/** One row per refund, from OrderRefunded: revenue given back on `refunded_at`. */
export interface RefundFactsTable {
  refund_id: string;
  /** The order refunded against; null when the source did not say. */
  order_id: string | null;
  customer_id: string | null;
  currency_code: string;
  amount: ColumnType<number, number, number>;
  refunded_at: Date;
  reason: string;
  historical: boolean;
}

/** One row per product of a refund. */
export interface RefundLineFactsTable {
  refund_id: string;
  product_id: string;
  /** Units returned, positive. */
  quantity: number;
  unit_price: number;
}

/** The latest cart of each signed-in customer, from CartUpdated; empty carts are deleted. */
export interface CartFactsTable {
  customer_id: string;
  /** Null when no line has a price. */
  currency_code: string | null;
  line_count: number;
  units: number;
  /** Sum of the priced lines' quantity * unit_price. */
  value_amount: ColumnType<number, number, number>;
  /** The lines as the event gave them: [{ productId, quantity, unitPrice }]. */
  lines: ColumnType<CartLineJson[], string, string>;
  updated_at: Date;
}

export interface CartLineJson {
  productId: string;
  quantity: number;
  unitPrice: number | null;
}

/**
 * Orders that are sales now: confirmed, and neither cancelled nor rejected since. Every revenue
 * figure and every model reads sales through this view, so "what counts" is written once.
 */
export interface SaleOrdersView extends OrderFactsTable {
  confirmed_at: Date;
  delivered_at: Date | null;
}

/**
 * Co-purchase neighbours, rebuilt from `sale_orders` by the recommendations refresh (migration
 * `0007_models`): for each product, the products more orders hold with it than chance would
 * (lift above 1, at least 2 orders), with the number of orders holding both and the evidence
 * score `both / (ordersOf(product) + prior)` that recommendations add up.
 */
export interface ProductNeighboursTable {
  product_id: string;
  neighbour_id: string;
  co_orders: number;
  score: number;
}

/**
 * Every product sold, rebuilt with the neighbours: the sale orders holding it (all history),
 * and its units, orders and share of orders in the popularity window (0 when it did not sell
 * in the window).
 */
export interface ProductPopularityTable {
  product_id: string;
  orders: number;
  units: number;
  order_count: number;
  share: number;
}

export interface Database extends ProcessedEventsDatabase {
  product_neighbours: ProductNeighboursTable;
  product_popularity: ProductPopularityTable;
  order_facts: OrderFactsTable;
  order_line_facts: OrderLineFactsTable;
  order_outcomes: OrderOutcomesTable;
  refund_facts: RefundFactsTable;
  refund_line_facts: RefundLineFactsTable;
  cart_facts: CartFactsTable;
  sale_orders: SaleOrdersView;
}
