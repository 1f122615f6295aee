import type { Logger } from "@nexus/core";
import { appendToOutbox, type EventPayloads, type ShipmentSnapshot } from "@nexus/events";
import type { Transaction } from "kysely";
import { cartUpdatedPayload } from "../cart/cart.service.ts";
import type { CartStore } from "../cart/cart.store.ts";
import type { Database, OrderStatus } from "../db/database.ts";
import { releaseDiscountRedemptions } from "../discount/discount.repository.ts";
import {
  findLinesByOrderIds,
  type OrderLineRow,
  type OrderRow,
  updateOrderStatus,
} from "./order.repository.ts";

/**
 * Every status an order takes after checkout goes through `changeOrderStatus`, and checkout
 * announces PENDING with `appendOrderStatusChanged`: so each transition appends exactly one
 * OrderStatusChanged, in the transaction that makes it, with what a message about it needs.
 * Imported history makes no transitions here and announces none.
 */
export interface StatusChangeDeps {
  /** A rejected order's lines go back into its customer's cart. */
  carts: Pick<CartStore, "addOnce" | "get">;
  logger: Logger;
}

/** Appends OrderStatusChanged for an order that has just become `order.status`. */
export async function appendOrderStatusChanged(
  trx: Transaction<Database>,
  order: OrderRow,
  lines: readonly OrderLineRow[],
  change: {
    previousStatus: OrderStatus | null;
    reason: string | null;
    linesReturnedToCart: boolean;
    shipment?: ShipmentSnapshot | undefined;
  },
): Promise<void> {
  const payload: EventPayloads["OrderStatusChanged"] = {
    orderId: order.id,
    customerId: order.customer_id,
    guestEmail: order.guest_email,
    status: order.status,
    previousStatus: change.previousStatus,
    reason: change.reason,
    trackingNumber:
      order.status === "SHIPPED" || order.status === "PARTIALLY_SHIPPED" ? order.tracking_number : null,
    linesReturnedToCart: change.linesReturnedToCart,
    ...(change.shipment ? { shipment: change.shipment } : {}),
    order: {
      currencyCode: order.currency_code,
      total: order.total_amount,
      breakdown: {
        subtotal: order.subtotal_amount ?? order.total_amount,
        discount: order.discount_amount + order.shipping_discount_amount,
        shipping: order.shipping_amount,
        tax: order.tax_amount + order.shipping_tax_amount,
        taxIncluded: order.prices_include_tax,
      },
      lines: [...lines]
        .sort((a, b) => a.position - b.position)
        .map((line) => ({
          productId: line.product_id,
          productName: line.product_name,
          quantity: line.quantity,
          unitPrice: line.unit_price,
        })),
      shippingAddress: order.shipping_address,
      placedAt: order.placed_at.toISOString(),
    },
  };
  await appendToOutbox(trx, "OrderStatusChanged", order.id, payload);
}

/**
 * Moves a locked order (`order` as it was read for update) to `status`, appends the step to
 * its history and announces it. A REJECTED order's lines first go back into its customer's
 * cart (see `returnLinesToCart`), so the announcement can say they did; a REJECTED or CANCELLED
 * order's discount uses are given back.
 */
export async function changeOrderStatus(
  deps: StatusChangeDeps,
  trx: Transaction<Database>,
  order: OrderRow,
  status: OrderStatus,
  reason: string | null,
  changes: { trackingNumber?: string | null; shipment?: ShipmentSnapshot } = {},
): Promise<OrderRow> {
  const updated = await updateOrderStatus(trx, order.id, status, reason, {
    ...(changes.trackingNumber !== undefined ? { trackingNumber: changes.trackingNumber } : {}),
  });
  // A rejected or cancelled order gives back the discount uses it held, in the same transaction.
  if (status === "REJECTED" || status === "CANCELLED") await releaseDiscountRedemptions(trx, order.id);
  const lines = await findLinesByOrderIds(trx, [order.id]);
  const linesReturnedToCart =
    status === "REJECTED" && updated.customer_id !== null
      ? await returnLinesToCart(deps, trx, updated, updated.customer_id, lines)
      : false;
  await appendOrderStatusChanged(trx, updated, lines, {
    previousStatus: order.status,
    reason,
    linesReturnedToCart,
    shipment: changes.shipment,
  });
  return updated;
}

/**
 * Puts a rejected order's lines back into the customer's cart, added to what is there under
 * the cart's limits. Redis cannot join the transaction, so the cart store adds them once per
 * order: a marker set in the same script as the lines means a retried transaction or a
 * redelivered event finds them back already and adds nothing. The CartUpdated that announces
 * the cart commits with the transition; when the transaction is retried, the retry announces it.
 */
async function returnLinesToCart(
  deps: StatusChangeDeps,
  trx: Transaction<Database>,
  order: OrderRow,
  customerId: string,
  lines: readonly OrderLineRow[],
): Promise<boolean> {
  const quantities = new Map<string, number>();
  for (const line of lines)
    quantities.set(line.product_id, (quantities.get(line.product_id) ?? 0) + line.quantity);
  if (quantities.size === 0) return false;
  const merge = await deps.carts.addOnce(
    customerId,
    `rejected-order:${order.id}`,
    [...quantities].map(([productId, quantity]) => ({ productId, quantity })),
  );
  if (merge.clamped.length > 0 || merge.dropped.length > 0) {
    deps.logger.info("a rejected order's lines did not all fit back into the cart", {
      orderId: order.id,
      clamped: merge.clamped,
      dropped: merge.dropped,
    });
  }
  const returned = merge.alreadyDone || (merge.applied && merge.dropped.length < quantities.size);
  const cart = await deps.carts.get(customerId);
  // The prices the order was placed at for its products; anything else in the cart is unpriced here.
  const prices = new Map(
    lines.map((line) => [line.product_id, { amount: line.unit_price, currencyCode: order.currency_code }]),
  );
  const cartUpdated = cartUpdatedPayload(cart, prices);
  if (cartUpdated) await appendToOutbox(trx, "CartUpdated", customerId, cartUpdated);
  return returned;
}
