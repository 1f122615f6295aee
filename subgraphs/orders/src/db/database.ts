import type { OutboxDatabase, ProcessedEventsDatabase } from "@nexus/events";
import type { ColumnType, Generated } from "kysely";

export const ORDER_STATUSES = ["PENDING", "CONFIRMED", "REJECTED"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrdersTable {
  id: Generated<string>;
  customer_id: string;
  status: ColumnType<OrderStatus, OrderStatus | undefined, OrderStatus>;
  currency_code: string;
  /** Minor units: the sum of the lines' unit_price * quantity when the order was placed. */
  total_amount: number;
  placed_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface OrderLinesTable {
  id: Generated<string>;
  order_id: string;
  /** 0-based place of the line in the order as it was placed. */
  position: number;
  /** The catalog's product id; a soft reference, the catalog's database is not ours to join. */
  product_id: string;
  product_name: string;
  /** Minor units, in the order's currency. */
  unit_price: number;
  quantity: number;
}

export interface Database extends OutboxDatabase, ProcessedEventsDatabase {
  orders: OrdersTable;
  order_lines: OrderLinesTable;
}
