import type { OrderChannel, OrderStatus, ShippingAddressJson } from "../db/database.ts";
import type { OrderLineRow, OrderRow, OrderStatusChangeRow } from "./order.repository.ts";

/** What Order resolvers receive. Amounts are minor units in `currencyCode`. */
export interface OrderModel {
  id: string;
  /** Null for a guest sale imported from a store's history. */
  customerId: string | null;
  status: OrderStatus;
  currencyCode: string;
  totalAmount: number;
  placedAt: Date;
  updatedAt: Date;
  shippingAddress: ShippingAddressJson | null;
  trackingNumber: string | null;
  /** Which client placed the order; `partnerClient` names the partner of a `partner` order. */
  channel: OrderChannel;
  partnerClient: string | null;
  /** Where a guest order's messages go; null for a customer's order. */
  guestEmail: string | null;
}

/**
 * What `orderStatus` (partners) resolves from: the order without its customer, address,
 * lines or payment, so nothing else can be reached from it even by mistake.
 */
export interface OrderStatusReportModel {
  id: string;
  status: OrderStatus;
  placedAt: Date;
  updatedAt: Date;
}

export const toOrderStatusReportModel = (order: OrderModel): OrderStatusReportModel => ({
  id: order.id,
  status: order.status,
  placedAt: order.placedAt,
  updatedAt: order.updatedAt,
});

/** One row of an order's status history. */
export interface OrderStatusChangeModel {
  status: OrderStatus;
  at: Date;
  reason: string | null;
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
  updatedAt: row.updated_at,
  shippingAddress: row.shipping_address,
  trackingNumber: row.tracking_number,
  channel: row.channel,
  partnerClient: row.partner_client,
  guestEmail: row.guest_email,
});

export const toOrderStatusChangeModel = (row: OrderStatusChangeRow): OrderStatusChangeModel => ({
  status: row.status,
  at: row.at,
  reason: row.reason,
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
