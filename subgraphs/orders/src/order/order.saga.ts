import type { Logger } from "@nexus/core";
import { appendToOutbox, type EventPayloads } from "@nexus/events";
import type { Kysely, Transaction } from "kysely";
import type { CartStore } from "../cart/cart.store.ts";
import type { Database } from "../db/database.ts";
import type { PaymentProvider } from "../payment/payment.provider.ts";
import {
  deletePaymentIntent,
  findPendingCapture,
  insertPayment,
  insertPaymentIntent,
} from "../payment/payment.repository.ts";
import { findLineNames, findOrderForUpdate } from "./order.repository.ts";
import { refundIfCaptured } from "./order.service.ts";
import { changeOrderStatus } from "./status-change.service.ts";

/**
 * The orders side of the saga: how inventory's answers move an order on. Each step runs in the
 * consumer's transaction, which also records the event id, with the order row locked, so steps
 * for one order never interleave and a redelivered event changes nothing. The one exception is
 * the payment capture (settlePayment), which runs between two transactions. Events about an order
 * that has already moved on are late or repeated, not instructions, and are only logged.
 */
export interface SagaDeps {
  payments: PaymentProvider;
  /** A rejected order's lines go back into its customer's cart. */
  carts: Pick<CartStore, "addOnce" | "get">;
  logger: Logger;
}

/**
 * Stock is reserved: the payment is to be captured. Only the intent is recorded here, in the
 * consumer's transaction; the capture itself (settlePayment) runs after the commit, outside
 * any transaction, so a slow provider holds no database connection and no order lock.
 */
export async function onInventoryReserved(deps: SagaDeps, trx: Transaction<Database>, orderId: string) {
  const order = await findOrderForUpdate(trx, orderId);
  if (!order) return deps.logger.warn("InventoryReserved names no known order; ignored", { orderId });
  if (order.status === "CANCELLED") {
    // Cancelled while inventory was reserving: OrderCancelled may have reached inventory before
    // the reservation existed, so ask again for the stock to be released.
    await appendToOutbox(trx, "OrderRejected", orderId, {
      orderId,
      reason: "the order was cancelled before its stock was reserved",
    });
    return;
  }
  if (order.status !== "PENDING") {
    return deps.logger.info("order is not pending; InventoryReserved ignored", {
      orderId,
      status: order.status,
    });
  }
  await insertPaymentIntent(trx, orderId);
}

/** What settling an order's payment came to; NONE when nothing was pending (settled before). */
export type SettleOutcome = "NONE" | "CONFIRMED" | "REJECTED" | "REFUNDED" | "DECLINED_LATE";

/**
 * Captures a pending payment and records the answer: record intent (onInventoryReserved), call
 * the provider, record the result. The order id is the provider's idempotency key, so any
 * number of attempts (the consumer's right after the intent commits, the settler's for an
 * intent a crash left behind, two of them at once) charge once: every attempt gets the first
 * answer, and only the attempt that removes the intent, under the order's lock, records it.
 * An order cancelled or expired while the capture ran is refunded instead of confirmed.
 */
export async function settlePayment(
  deps: SagaDeps & { db: Kysely<Database> },
  orderId: string,
): Promise<SettleOutcome> {
  const pending = await findPendingCapture(deps.db, orderId);
  if (!pending) return "NONE";
  const result = await deps.payments.capture({
    idempotencyKey: orderId,
    orderId,
    amount: pending.total_amount,
    currencyCode: pending.currency_code,
    token: pending.payment_token,
  });
  return deps.db.transaction().execute(async (trx) => {
    const order = await findOrderForUpdate(trx, orderId);
    if (!order || !(await deletePaymentIntent(trx, orderId))) return "NONE";
    await insertPayment(trx, {
      order_id: orderId,
      provider: deps.payments.name,
      status: result.status,
      amount: pending.total_amount,
      currency_code: pending.currency_code,
      reference: result.reference,
      decline_reason: result.status === "DECLINED" ? result.reason : null,
    });
    if (order.status !== "PENDING") {
      // Cancelled by its customer, or its reservation expired, while the provider answered.
      deps.logger.warn("order left PENDING while its payment was captured", {
        orderId,
        status: order.status,
      });
      if (result.status !== "CAPTURED") return "DECLINED_LATE";
      await refundIfCaptured(deps, trx, orderId);
      return "REFUNDED";
    }
    if (result.status === "CAPTURED") {
      await changeOrderStatus(deps, trx, order, "CONFIRMED", null);
      await appendToOutbox(trx, "OrderConfirmed", orderId, { orderId });
      return "CONFIRMED";
    }
    const reason = `payment declined: ${result.reason}`;
    await changeOrderStatus(deps, trx, order, "REJECTED", reason);
    await appendToOutbox(trx, "OrderRejected", orderId, { orderId, reason });
    return "REJECTED";
  });
}

/** Inventory reserved nothing: the order is REJECTED with each short line as the reason. */
export async function onInventoryRejected(
  deps: SagaDeps,
  trx: Transaction<Database>,
  payload: EventPayloads["InventoryRejected"],
) {
  const { orderId } = payload;
  const order = await findOrderForUpdate(trx, orderId);
  if (!order) return deps.logger.warn("InventoryRejected names no known order; ignored", { orderId });
  if (order.status !== "PENDING") {
    return deps.logger.info("order is not pending; InventoryRejected ignored", {
      orderId,
      status: order.status,
    });
  }
  const names = new Map(
    (await findLineNames(trx, orderId)).map((line) => [line.product_id, line.product_name]),
  );
  const short = payload.lines.map(
    (line) =>
      `${names.get(line.productId) ?? line.productId} (${line.productId}): ${line.requested} requested, ${line.available} available`,
  );
  const reason = short.length > 0 ? `out of stock: ${short.join("; ")}` : "out of stock";
  await changeOrderStatus(deps, trx, order, "REJECTED", reason);
}

/**
 * Inventory let the reservation lapse and has released the stock. A PENDING order is REJECTED.
 * A CONFIRMED one lost a race: inventory expired the reservation before OrderConfirmed reached
 * it, so the stock may be sold to someone else. Shipping it could oversell, so the payment is
 * refunded and the order REJECTED (with OrderRejected, for inventory to release anything left).
 */
export async function onReservationExpired(deps: SagaDeps, trx: Transaction<Database>, orderId: string) {
  const order = await findOrderForUpdate(trx, orderId);
  if (!order) return deps.logger.warn("ReservationExpired names no known order; ignored", { orderId });
  if (order.status === "PENDING") {
    await changeOrderStatus(deps, trx, order, "REJECTED", "reservation expired");
    return;
  }
  if (order.status !== "CONFIRMED") {
    return deps.logger.info("order is past confirmation; ReservationExpired ignored", {
      orderId,
      status: order.status,
    });
  }
  deps.logger.warn("reservation expired after payment was captured; refunding", { orderId });
  await refundIfCaptured(deps, trx, orderId);
  const reason = "reservation expired before inventory heard the payment was captured; payment refunded";
  await changeOrderStatus(deps, trx, order, "REJECTED", reason);
  await appendToOutbox(trx, "OrderRejected", orderId, { orderId, reason });
}
