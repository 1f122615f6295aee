import type { RefundLineRow, RefundRow } from "./refund.repository.ts";

/** What Refund resolvers receive. */
export interface RefundModel {
  id: string;
  orderId: string | null;
  customerId: string | null;
  currencyCode: string;
  amount: number;
  reason: string;
  restock: boolean;
  refundedAt: Date;
}

/** What RefundLine resolvers receive. */
export interface RefundLineModel {
  productId: string;
  quantity: number;
  unitAmount: number;
  currencyCode: string;
}

export const toRefundModel = (row: RefundRow): RefundModel => ({
  id: row.id,
  orderId: row.order_id,
  customerId: row.customer_id,
  currencyCode: row.currency_code,
  amount: row.amount,
  reason: row.reason,
  restock: row.restock,
  refundedAt: row.refunded_at,
});

export const toRefundLineModel = (row: RefundLineRow, currencyCode: string): RefundLineModel => ({
  productId: row.product_id,
  quantity: row.quantity,
  unitAmount: row.unit_price,
  currencyCode,
});
