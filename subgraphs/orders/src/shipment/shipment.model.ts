import type { ShipmentLineRow, ShipmentRow } from "./shipment.repository.ts";

/** What Shipment resolvers receive. */
export interface ShipmentModel {
  id: string;
  orderId: string;
  carrier: string | null;
  trackingNumber: string | null;
  shippedAt: Date;
}

/** What ShipmentLine resolvers receive. */
export interface ShipmentLineModel {
  productId: string;
  quantity: number;
}

export const toShipmentModel = (row: ShipmentRow): ShipmentModel => ({
  id: row.id,
  orderId: row.order_id,
  carrier: row.carrier,
  trackingNumber: row.tracking_number,
  shippedAt: row.shipped_at,
});

export const toShipmentLineModel = (row: ShipmentLineRow): ShipmentLineModel => ({
  productId: row.product_id,
  quantity: row.quantity,
});
