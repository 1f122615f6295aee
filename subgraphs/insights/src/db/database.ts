import type { ProcessedEventsDatabase } from "@nexus/events";
import type { ColumnType, Generated } from "kysely";

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
  /**
   * Sum of the merged lines' quantity * unit_price (migration 0005). One invoice may sell a product
   * twice at two prices, so this, not quantity * unit_price, is the line's revenue.
   */
  amount: ColumnType<number, number, number>;
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
  /** Whether OrderPlaced has been recorded (order_facts has the order); migration 0005. */
  placed: ColumnType<boolean, boolean | undefined, boolean>;
  /**
   * Whether the roll-ups hold the order's sale (migration 0005). Each event of the order reads
   * it under the row's lock and moves the roll-ups when the order's sale status differs.
   */
  counted: ColumnType<boolean, boolean | undefined, boolean>;
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
  /** Sum of the merged lines' quantity * unit_price (migration 0005). */
  amount: ColumnType<number, number, number>;
}

/**
 * The latest cart of each signed-in customer, from CartUpdated: the newest event by `occurredAt`
 * wins. An emptied cart stays as a row without lines (a tombstone), so a late, older CartUpdated
 * cannot bring the emptied cart back.
 */
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
 * Roll-ups (migration 0005), kept by the consumer in the transaction of the fact that changes
 * them and rebuilt from the facts by `rebuildRollups`. An order adds to its placed day's rows
 * exactly while it is a sale (view `sale_orders`); a refund adds to its own day's refund columns.
 * Days are UTC dates; amounts are minor units of `currency_code`. A row whose every figure is
 * zero is deleted, so the rows are the same however they were reached.
 */
export interface DailySalesTable {
  currency_code: string;
  day: ColumnType<string, string, string>;
  /** Sum of the day's sale orders' totals, before refunds. */
  revenue: ColumnType<number, number, number>;
  orders: number;
  units: ColumnType<number, number, number>;
  /** Refunds made that day and what they gave back. */
  refunds: number;
  refunded_amount: ColumnType<number, number, number>;
}

export interface DailyProductSalesTable {
  currency_code: string;
  day: ColumnType<string, string, string>;
  product_id: string;
  revenue: ColumnType<number, number, number>;
  units: ColumnType<number, number, number>;
  /** Sale orders with the product. */
  orders: number;
  /** Units of the product refunded that day, and the amount. */
  returned_units: ColumnType<number, number, number>;
  refunded_amount: ColumnType<number, number, number>;
}

/**
 * Per category: the category a line had when its order was placed. A refund line counts for the
 * category of the same product in the order it refunds; lines of unknown category are left out.
 */
export interface DailyCategorySalesTable {
  currency_code: string;
  day: ColumnType<string, string, string>;
  category_id: string;
  revenue: ColumnType<number, number, number>;
  units: ColumnType<number, number, number>;
  orders: number;
  returned_units: ColumnType<number, number, number>;
  refunded_amount: ColumnType<number, number, number>;
}

/** Per signed-in customer and currency: their sale orders and their refunds, all time. */
export interface CustomerSalesTable {
  customer_id: string;
  currency_code: string;
  orders: number;
  revenue: ColumnType<number, number, number>;
  units: ColumnType<number, number, number>;
  /** Placing times of the first and last sale order; null when only refunds are recorded. */
  first_order_at: Date | null;
  last_order_at: Date | null;
  refunds: number;
  refunded_amount: ColumnType<number, number, number>;
}

/**
 * One trained churn model per row, never changed: `version` orders them and the highest is the
 * one served. Quality figures are the time-based holdout's (README, "Churn").
 */
export interface ChurnModelsTable {
  version: Generated<number>;
  trained_at: Date;
  /** Features of the scores are as of this instant; the holdout's labels end here. */
  as_of: Date;
  horizon_days: number;
  /** Examples the evaluated model was fitted on (features as of as_of - 2 * horizon). */
  training_size: number;
  /** Examples it was evaluated on, and the serving model fitted on (as of as_of - horizon). */
  holdout_size: number;
  /** Churned customers among the training and holdout examples. */
  positives: number;
  holdout_positives: number;
  auc: number;
  /** AUC of days since the last order alone on the same holdout: the bar the model must clear. */
  recency_auc: number;
  brier: number;
  calibration: ColumnType<CalibrationBinJson[], string, string>;
  /** The serving model: intercept and one weight per standardized feature. */
  coefficients: ColumnType<ChurnCoefficientsJson, string, string>;
  feature_means: ColumnType<number[], string, string>;
  feature_stds: ColumnType<number[], string, string>;
  /** Which fitting code produced the weights, e.g. "irls-ridge@1". */
  library: string;
  training_ms: number;
  scored_customers: number;
}

export interface CalibrationBinJson {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

export interface ChurnCoefficientsJson {
  intercept: number;
  /** Feature key to weight, in the order of `feature_means`. */
  weights: { feature: string; weight: number }[];
}

/** A customer's churn risk and RFM as of a model's `as_of`, precomputed when it was trained. */
export interface CustomerScoresTable {
  model_version: number;
  customer_id: string;
  probability: number;
  band: "LOW" | "MEDIUM" | "HIGH";
  /** Feature keys that raised this customer's score most, strongest first. */
  drivers: ColumnType<string[], string, string>;
  recency_days: number;
  frequency: number;
  /** Revenue net of refunds in the store currency, minor units. */
  monetary: ColumnType<number, number, number>;
  currency_code: string;
  recency_score: number;
  frequency_score: number;
  monetary_score: number;
  segment: string;
  /** round(probability * max(monetary, 0)): the revenue at stake, the default ordering. */
  value_at_risk: ColumnType<number, number, number>;
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
  order_facts: OrderFactsTable;
  order_line_facts: OrderLineFactsTable;
  order_outcomes: OrderOutcomesTable;
  refund_facts: RefundFactsTable;
  refund_line_facts: RefundLineFactsTable;
  cart_facts: CartFactsTable;
  sale_orders: SaleOrdersView;
  daily_sales: DailySalesTable;
  daily_product_sales: DailyProductSalesTable;
  daily_category_sales: DailyCategorySalesTable;
  customer_sales: CustomerSalesTable;
  churn_models: ChurnModelsTable;
  customer_scores: CustomerScoresTable;
  product_neighbours: ProductNeighboursTable;
  product_popularity: ProductPopularityTable;
}
