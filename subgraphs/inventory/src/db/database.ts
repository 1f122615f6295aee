import type { OutboxDatabase, ProcessedEventsDatabase } from "@nexus/events";
import type { ColumnType, Generated } from "kysely";

export interface StockLevelsTable {
  /** The catalog's product id (ObjectId hex); a soft reference, catalog's database is not ours. */
  product_id: string;
  on_hand: number;
  /** Units held for orders that have not shipped yet; always <= on_hand. */
  reserved: ColumnType<number, number | undefined, number>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type ReservationStatus = "RESERVED" | "RELEASED" | "COMMITTED";

export interface ReservationsTable {
  order_id: string;
  product_id: string;
  quantity: number;
  status: ColumnType<ReservationStatus, ReservationStatus | undefined, ReservationStatus>;
  created_at: ColumnType<Date, never, never>;
}

export type StockMovementReason = "SEED" | "RESERVATION";

/** Append-only ledger: per product, the deltas add up to the units available now. */
export interface StockMovementsTable {
  id: Generated<string>;
  product_id: string;
  /** Change in available units (on_hand - reserved) caused by this movement. */
  delta: number;
  reason: StockMovementReason;
  order_id: string | null;
  created_at: ColumnType<Date, never, never>;
}

export interface Database extends OutboxDatabase, ProcessedEventsDatabase {
  stock_levels: StockLevelsTable;
  reservations: ReservationsTable;
  stock_movements: StockMovementsTable;
}
