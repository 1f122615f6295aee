import type { Logger } from "@nexus/core";
import {
  type EventConsumer,
  type EventConsumerOptions,
  type EventEnvelope,
  type EventHandlers,
  startEventConsumer,
} from "@nexus/events";
import type { Kysely, Transaction } from "kysely";
import { toCartFact } from "../carts/carts.model.ts";
import { recordCart } from "../carts/carts.repository.ts";
import type { Database } from "../db/database.ts";
import { outcomeOrderId, toOrderFacts, toRefundFacts } from "../sales/facts.model.ts";
import {
  applyOrderToRollups,
  applyRefundToRollups,
  findOrderState,
  insertOrderFacts,
  insertRefundFacts,
  isSale,
  lockOrder,
  type OrderState,
  recordOutcomeTime,
  recordReversal,
  refreshCustomerSales,
} from "../sales/facts.repository.ts";

export interface InsightsConsumerOptions {
  db: Kysely<Database>;
  redis: EventConsumerOptions<Database>["redis"];
  prefix: string;
  logger: Logger;
  /** Jobs handled at once (INSIGHTS_EVENT_CONCURRENCY); an import's backfill is what it is for. */
  concurrency?: number;
}

/**
 * Brings the roll-ups in line with an order whose state went from `before` to `after`: its sale
 * is added or taken away when `isSale` changed, and nothing happens otherwise, so whatever order
 * the events come in, an order counts exactly while it is a sale. Runs under `lockOrder`.
 */
async function settleOrder(
  trx: Transaction<Database>,
  orderId: string,
  before: OrderState,
  after: OrderState,
  justPlaced = false,
): Promise<void> {
  const sign = isSale(after) === isSale(before) ? 0 : isSale(after) ? 1 : -1;
  if (sign !== 0 && after.customerId !== null && after.currencyCode !== null) {
    await refreshCustomerSales(trx, after.customerId, after.currencyCode);
  }
  if (sign !== 0 || justPlaced) await applyOrderToRollups(trx, orderId, sign, justPlaced);
}

async function orderPlaced(trx: Transaction<Database>, event: EventEnvelope<"OrderPlaced">): Promise<void> {
  const { order, lines } = toOrderFacts(event);
  await lockOrder(trx, order.order_id);
  const before = await findOrderState(trx, order.order_id);
  // The same order published twice (under two event ids) is recorded once.
  if (!(await insertOrderFacts(trx, order, lines))) return;
  const after = {
    ...before,
    placed: true,
    customerId: order.customer_id ?? null,
    currencyCode: order.currency_code,
  };
  await settleOrder(trx, order.order_id, before, after, true);
}

/** OrderConfirmed: the order becomes a sale, unless it was reversed first. */
async function orderConfirmed(
  trx: Transaction<Database>,
  event: EventEnvelope<"OrderConfirmed">,
): Promise<void> {
  const orderId = outcomeOrderId(event);
  await lockOrder(trx, orderId);
  const before = await findOrderState(trx, orderId);
  const at = new Date(event.occurredAt);
  await recordOutcomeTime(trx, orderId, "confirmed_at", at);
  await settleOrder(trx, orderId, before, { ...before, confirmedAt: before.confirmedAt ?? at });
}

/** OrderCancelled / OrderRejected: the order stops being a sale for good. */
const orderReversed =
  (kind: "CANCELLED" | "REJECTED") =>
  async (
    trx: Transaction<Database>,
    event: EventEnvelope<"OrderCancelled" | "OrderRejected">,
  ): Promise<void> => {
    const orderId = outcomeOrderId(event);
    const { reason } = event.payload;
    if (typeof reason !== "string")
      throw new Error(`${event.type} ${event.id} is malformed: reason is missing.`);
    await lockOrder(trx, orderId);
    const before = await findOrderState(trx, orderId);
    const at = new Date(event.occurredAt);
    await recordReversal(trx, orderId, kind, reason, at);
    await settleOrder(trx, orderId, before, { ...before, reversedAt: before.reversedAt ?? at });
  };

/** OrderShipped / OrderDelivered: times only; they do not change what counts as a sale. */
const orderReached =
  (column: "shipped_at" | "delivered_at") =>
  async (
    trx: Transaction<Database>,
    event: EventEnvelope<"OrderShipped" | "OrderDelivered">,
  ): Promise<void> => {
    await recordOutcomeTime(trx, outcomeOrderId(event), column, new Date(event.occurredAt));
  };

/** OrderRefunded: revenue given back on the refund's day, whatever became of the order. */
async function orderRefunded(
  trx: Transaction<Database>,
  event: EventEnvelope<"OrderRefunded">,
): Promise<void> {
  const { refund, lines } = toRefundFacts(event);
  // Under the order's lock, so the refund's categories are given once: here when the order is
  // recorded, else by its OrderPlaced.
  if (refund.order_id) await lockOrder(trx, refund.order_id);
  if (!(await insertRefundFacts(trx, refund, lines))) return;
  if (refund.customer_id) await refreshCustomerSales(trx, refund.customer_id, refund.currency_code);
  await applyRefundToRollups(trx, refund.refund_id);
}

/** The handlers, each run in the transaction that records the event id (see startEventConsumer). */
export const insightsHandlers: EventHandlers<Database> = {
  OrderPlaced: orderPlaced,
  OrderConfirmed: orderConfirmed,
  OrderCancelled: orderReversed("CANCELLED"),
  OrderRejected: orderReversed("REJECTED"),
  OrderShipped: orderReached("shipped_at"),
  OrderDelivered: orderReached("delivered_at"),
  OrderRefunded: orderRefunded,
  CartUpdated: async (trx, event) => {
    await recordCart(trx, toCartFact(event));
  },
};

/**
 * Consumes the `events.insights` queue; each effect and the event id commit together, so each
 * event counts once. Every fact is stamped with the event's `occurredAt` (when it happened in
 * orders, or in the store's history for an import), never with when insights heard of it.
 */
export function startInsightsConsumer(options: InsightsConsumerOptions): EventConsumer {
  const { db, redis, prefix, logger, concurrency } = options;
  return startEventConsumer({
    consumer: "insights",
    db,
    redis,
    prefix,
    logger,
    handlers: insightsHandlers,
    ...(concurrency === undefined ? {} : { concurrency }),
  });
}
