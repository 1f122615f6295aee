import { hasScope, isUuid, type Logger, notFound, userError, type Viewer } from "@nexus/core";
import { appendToOutbox, type OutboxRelay } from "@nexus/events";
import type { Kysely, Transaction } from "kysely";
import type { CartStore } from "../cart/cart.store.ts";
import type { Database, OrderStatus } from "../db/database.ts";
import type { PaymentProvider } from "../payment/payment.provider.ts";
import { findPaymentForUpdate, markPaymentRefunded } from "../payment/payment.repository.ts";
import type { UserError } from "../user-error.ts";
import { type OrderModel, toOrderModel } from "./order.model.ts";
import { findLineProductIds, findOrderForUpdate, hasRefunds, type OrderRow } from "./order.repository.ts";
import { CANCELLABLE_BY_OWNER, CANCELLABLE_BY_STAFF, canTransition } from "./order.status.ts";
import { changeOrderStatus } from "./status-change.service.ts";

export interface OrderServiceDeps {
  db: Kysely<Database>;
  payments: PaymentProvider;
  carts: Pick<CartStore, "addOnce" | "get">;
  logger: Logger;
}

export type OrderChangeResult = { order: OrderModel; userErrors: UserError[] };

/**
 * Publishes the events a committed change wrote to the outbox now rather than at the next poll.
 * Not awaited: the change is committed either way, and a failure leaves the rows to the poller.
 */
export function publishCommittedEvents(
  deps: { relay: Pick<OutboxRelay, "flush">; logger: Logger },
  orderId: string,
): void {
  deps.relay.flush().catch((error: unknown) => {
    deps.logger.warn("outbox flush after an order change failed; the poller will retry", { orderId, error });
  });
}

const MAX_REASON = 500;

/** Staff with `orders:write:any` act on any order; everyone else only on their own. */
export const isOrderStaff = (viewer: Viewer): boolean => hasScope(viewer, "orders:write:any");

export const illegal = (order: OrderRow, to: OrderStatus, why = ""): UserError =>
  userError("ILLEGAL_STATUS_TRANSITION", `A ${order.status} order cannot become ${to}${why}.`, [
    "input",
    "orderId",
  ]);

/**
 * Runs `change` on the order locked for update. An order the viewer may not act on is
 * NOT_FOUND, exactly like one that does not exist, so ids cannot be probed.
 */
async function withOrder(
  deps: OrderServiceDeps,
  viewer: Viewer,
  orderId: string,
  change: (trx: Transaction<Database>, order: OrderRow) => Promise<OrderRow | UserError[]>,
): Promise<OrderChangeResult> {
  if (!isUuid(orderId)) throw notFound("Order");
  return deps.db.transaction().execute(async (trx) => {
    const order = await findOrderForUpdate(trx, orderId.toLowerCase());
    if (!order || (order.customer_id !== viewer.userId && !isOrderStaff(viewer))) throw notFound("Order");
    const result = await change(trx, order);
    return Array.isArray(result)
      ? { order: toOrderModel(order), userErrors: result }
      : { order: toOrderModel(result), userErrors: [] };
  });
}

/** Refunds a captured payment in the caller's transaction; the order id keeps the refund single. */
export async function refundIfCaptured(
  deps: Pick<OrderServiceDeps, "payments" | "logger">,
  trx: Transaction<Database>,
  orderId: string,
) {
  const payment = await findPaymentForUpdate(trx, orderId);
  if (payment?.status !== "CAPTURED" || payment.reference === null) return;
  const refund = await deps.payments.refund({
    idempotencyKey: `refund:${orderId}`,
    captureReference: payment.reference,
    amount: payment.amount,
    currencyCode: payment.currency_code,
  });
  await markPaymentRefunded(trx, orderId);
  deps.logger.info("payment refunded", { orderId, reference: refund.reference });
}

/**
 * Cancels an order: customers before it ships, staff before it is delivered. The refund (if
 * any), the new status and OrderCancelled (inventory releases the stock) commit together; a
 * provider failure rolls everything back and the call can simply be repeated.
 */
export function cancelOrder(
  deps: OrderServiceDeps,
  viewer: Viewer,
  input: { orderId: string; reason?: string | null | undefined },
): Promise<OrderChangeResult> {
  const reason = input.reason?.trim() || null;
  return withOrder(deps, viewer, input.orderId, async (trx, order) => {
    if (reason !== null && reason.length > MAX_REASON) {
      return [
        userError("INVALID_REASON", `reason must be at most ${MAX_REASON} characters.`, ["input", "reason"]),
      ];
    }
    const allowed = isOrderStaff(viewer) ? CANCELLABLE_BY_STAFF : CANCELLABLE_BY_OWNER;
    if (!allowed.includes(order.status)) {
      const shipped = order.status === "SHIPPED" || order.status === "PARTIALLY_SHIPPED";
      const why = shipped ? "; a shipped order can only be cancelled by staff" : "";
      return [illegal(order, "CANCELLED", why)];
    }
    // Revenue already went down by the refunds; cancelling would take the whole sale off again.
    if (await hasRefunds(trx, order.id)) {
      return [illegal(order, "CANCELLED", "; it has refunds, so refund what is left instead")];
    }
    await refundIfCaptured(deps, trx, order.id);
    const byCustomer = order.customer_id === viewer.userId;
    const recorded = reason ?? (byCustomer ? "cancelled by the customer" : "cancelled by staff");
    const updated = await changeOrderStatus(deps, trx, order, "CANCELLED", recorded);
    await appendToOutbox(trx, "OrderCancelled", order.id, { orderId: order.id, reason: recorded });
    return updated;
  });
}

/** SHIPPED -> DELIVERED; OrderDelivered lets catalog mark the customer's reviews as verified. */
export function deliverOrder(
  deps: OrderServiceDeps,
  viewer: Viewer,
  input: { orderId: string },
): Promise<OrderChangeResult> {
  return withOrder(deps, viewer, input.orderId, async (trx, order) => {
    if (!canTransition(order.status, "DELIVERED")) return [illegal(order, "DELIVERED")];
    const updated = await changeOrderStatus(deps, trx, order, "DELIVERED", null);
    // Only imported orders have no customer, and they are delivered when imported.
    if (order.customer_id !== null) {
      await appendToOutbox(trx, "OrderDelivered", order.id, {
        orderId: order.id,
        customerId: order.customer_id,
        productIds: [...new Set(await findLineProductIds(trx, order.id))],
      });
    }
    return updated;
  });
}
