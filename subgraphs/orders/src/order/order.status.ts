import type { OrderStatus } from "../db/database.ts";

/**
 * The order state machine. REJECTED, CANCELLED and DELIVERED are final. CONFIRMED -> REJECTED
 * exists for one race only: inventory expired the reservation before it heard the payment was
 * captured, so the stock is gone and the payment is refunded.
 */
export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PENDING: ["CONFIRMED", "REJECTED", "CANCELLED"],
  CONFIRMED: ["SHIPPED", "PARTIALLY_SHIPPED", "CANCELLED", "REJECTED"],
  // Each further shipment that still leaves units behind is a step of its own in the history.
  PARTIALLY_SHIPPED: ["PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED"],
  SHIPPED: ["DELIVERED", "CANCELLED"],
  REJECTED: [],
  CANCELLED: [],
  DELIVERED: [],
};

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => TRANSITIONS[from].includes(to);

/** Customers may cancel until the order ships; staff with `orders:write:any` until it is delivered. */
export const CANCELLABLE_BY_OWNER: readonly OrderStatus[] = ["PENDING", "CONFIRMED"];
export const CANCELLABLE_BY_STAFF: readonly OrderStatus[] = [
  "PENDING",
  "CONFIRMED",
  "PARTIALLY_SHIPPED",
  "SHIPPED",
];
