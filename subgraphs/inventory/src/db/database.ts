import type { OutboxDatabase, ProcessedEventsDatabase } from "@nexus/events";
import type { ColumnType, Generated } from "kysely";

export interface StockLevelsTable {
  /** The catalog's product id (ObjectId hex); a soft reference, catalog's database is not ours. */
  product_id: string;
  on_hand: number;
  /** Units held for orders that have not shipped yet; always <= on_hand. */
  reserved: ColumnType<number, number | undefined, number>;
  /** This product's low-stock threshold; null means the store-wide LOW_STOCK_THRESHOLD. */
  low_stock_threshold: ColumnType<number | null, number | null | undefined, number | null>;
  /**
   * StockLow was sent for the current dip to or below the threshold; cleared once availability
   * rises above it, so each crossing is announced once.
   */
  low_stock_alerted: ColumnType<boolean, boolean | undefined, boolean>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/**
 * The life of an order's hold on stock. RESERVED expires at `expires_at` unless confirmed;
 * CONFIRMED holds until shipping (COMMITTED) or cancellation (RELEASED). EXPIRED, RELEASED and
 * COMMITTED hold nothing.
 */
export type ReservationStatus = "RESERVED" | "CONFIRMED" | "RELEASED" | "EXPIRED" | "COMMITTED";

/** One row per reserved order: the unit that is confirmed, released, expired or committed. */
export interface OrderReservationsTable {
  order_id: string;
  status: ReservationStatus;
  /** When an unconfirmed reservation lapses; null once confirmed or finished. */
  expires_at: Date | null;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** One row per order and product; its status follows the order's row in order_reservations. */
export interface ReservationsTable {
  order_id: string;
  product_id: string;
  quantity: number;
  /** Units of `quantity` already shipped (committed); the rest is what the row still holds. */
  shipped: ColumnType<number, number | undefined, number>;
  status: ColumnType<ReservationStatus, ReservationStatus | undefined, ReservationStatus>;
  created_at: ColumnType<Date, never, never>;
}

export type StockMovementReason =
  | "SEED"
  | "SET"
  | "ADJUSTMENT"
  | "RESERVATION"
  | "RELEASE"
  | "EXPIRY"
  | "SHIPMENT"
  /** Returned units a refund put back on hand. */
  | "RETURN";

/**
 * Append-only ledger: per product, the on_hand deltas add up to on_hand and the reserved deltas
 * to reserved. Every change to stock_levels writes its movement in the same statement batch.
 */
export interface StockMovementsTable {
  id: Generated<string>;
  product_id: string;
  on_hand_delta: number;
  reserved_delta: number;
  reason: StockMovementReason;
  order_id: string | null;
  /** Free text from an admin (setStock/adjustStock reason) or the event that caused the change. */
  note: ColumnType<string | null, string | null | undefined, never>;
  /** The admin who changed stock by hand; null for changes made by the saga. */
  actor_id: ColumnType<string | null, string | null | undefined, never>;
  created_at: ColumnType<Date, never, never>;
}

export interface Database extends OutboxDatabase, ProcessedEventsDatabase {
  stock_levels: StockLevelsTable;
  order_reservations: OrderReservationsTable;
  reservations: ReservationsTable;
  stock_movements: StockMovementsTable;
}
