import type {
  DiscountKind,
  OrderChannel,
  OrderStatus,
  ShippingAddressJson,
  ShippingMethodJson,
} from "../db/database.ts";
import type { OrderDiscountRow, OrderLineRow, OrderRow, OrderStatusChangeRow } from "./order.repository.ts";

/** What Order resolvers receive. Amounts are minor units in `currencyCode`. */
export interface OrderModel {
  id: string;
  /** Null for a guest sale imported from a store's history. */
  customerId: string | null;
  status: OrderStatus;
  currencyCode: string;
  totalAmount: number;
  /** The price breakdown: subtotal − discounts + shipping (+ tax when prices excluded it) = total. */
  subtotalAmount: number;
  /** Off the lines and off the shipping. */
  discountAmount: number;
  /** The method's rate, before a free-shipping discount. */
  shippingAmount: number;
  /** On the lines and on the shipping. */
  taxAmount: number;
  pricesIncludeTax: boolean;
  shippingMethod: ShippingMethodJson | null;
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
  discountAmount: number;
  taxAmount: number;
  taxRatePpm: number;
}

/** What one discount took off an order, as OrderDiscount resolvers receive it. */
export interface OrderDiscountModel {
  code: string | null;
  title: string;
  kind: DiscountKind;
  /** Off the lines. */
  amount: number;
  shippingAmount: number;
  lines: { productId: string; amount: number }[];
  currencyCode: string;
}

export const toOrderModel = (row: OrderRow): OrderModel => ({
  id: row.id,
  customerId: row.customer_id,
  status: row.status,
  currencyCode: row.currency_code,
  totalAmount: row.total_amount,
  // Orders without a breakdown (placed before it, imported) were their subtotal.
  subtotalAmount: row.subtotal_amount ?? row.total_amount,
  discountAmount: row.discount_amount + row.shipping_discount_amount,
  shippingAmount: row.shipping_amount,
  taxAmount: row.tax_amount + row.shipping_tax_amount,
  pricesIncludeTax: row.prices_include_tax,
  shippingMethod: row.shipping_method,
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
  discountAmount: row.discount_amount,
  taxAmount: row.tax_amount,
  taxRatePpm: row.tax_rate_ppm,
});

export const toOrderDiscountModel = (row: OrderDiscountRow, currencyCode: string): OrderDiscountModel => ({
  code: row.code,
  title: row.title,
  kind: row.kind,
  amount: row.amount,
  shippingAmount: row.shipping_amount,
  lines: row.lines,
  currencyCode,
});
