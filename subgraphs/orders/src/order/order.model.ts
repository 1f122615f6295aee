import type { OrderStatus } from "../db/database.ts";
import type { OrderLineRow, OrderRow } from "./order.repository.ts";

/** What Order resolvers receive. Amounts are minor units in `currencyCode`. */
export interface OrderModel {
  id: string;
  customerId: string;
  status: OrderStatus;
  currencyCode: string;
  totalAmount: number;
  placedAt: Date;
}

/** What OrderLine resolvers receive: the snapshot taken at checkout, in the order's currency. */
export interface OrderLineModel {
  id: string;
  orderId: string;
  productId: string;
  productName: string;
  unitAmount: number;
  quantity: number;
  currencyCode: string;
}

export const toOrderModel = (row: OrderRow): OrderModel => ({
  id: row.id,
  customerId: row.customer_id,
  status: row.status,
  currencyCode: row.currency_code,
  totalAmount: row.total_amount,
  placedAt: row.placed_at,
});

export const toOrderLineModel = (row: OrderLineRow): OrderLineModel => ({
  id: row.id,
  orderId: row.order_id,
  productId: row.product_id,
  productName: row.product_name,
  unitAmount: row.unit_price,
  quantity: row.quantity,
  currencyCode: row.currency_code,
});
