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
import { outcomeOrderId, reversalReason, toOrderFacts, toRefundFacts } from "../sales/facts.model.ts";
import {
  applyOrderToRollups,
  applyRefundToRollups,
  insertOrderFacts,
  insertRefundFacts,
  isSale,
  type OrderEvent,
  recordOrderEvent,
  takeOrderSaleAway,
} from "../sales/facts.repository.ts";

export interface InsightsConsumerOptions {
  db: Kysely<Database>;
  redis: EventConsumerOptions<Database>["redis"];
  prefix: string;
  logger: Logger;
  /** Jobs handled at once (INSIGHTS_EVENT_CONCURRENCY); an import's backfill is what it is for. */
  concurrency?: number;
  /** Most events applied in one transaction (EVENT_BATCH_SIZE). */
  batchSize?: number;
  /** The subgraph's metrics: queue depth and event lag. */
  metrics?: EventConsumerOptions<Database>["metrics"];
}

/**
 * Records what an event tells about an order, then brings the roll-ups in line: the order's
 * sale is added when it has become a sale and taken away when it stopped being one, whatever
 * order its events came in. `counted` is read under the order's row lock, so two workers never
 * both add (or both take away) one order.
 */
async function settleOrder(trx: Transaction<Database>, orderId: string, event: OrderEvent): Promise<void> {
  const state = await recordOrderEvent(trx, orderId, event);
  const sign = isSale(state) === state.counted ? 0 : isSale(state) ? 1 : -1;
  if (sign === 1) await applyOrderToRollups(trx, orderId, 1, false);
  if (sign === -1) await takeOrderSaleAway(trx, orderId);
}

async function orderPlaced(trx: Transaction<Database>, event: EventEnvelope<"OrderPlaced">): Promise<void> {
  const { order, lines } = toOrderFacts(event);
  // The row lock first, then the facts, so a worker that waited for it finds them.
  const state = await recordOrderEvent(trx, order.order_id, { placed: true });
  const recorded = await insertOrderFacts(trx, order, lines);
  // The same order published twice (under two event ids) is recorded once.
  if (recorded === null) return;
  const sign = isSale(state) && !state.counted ? 1 : 0;
  if (sign !== 0 || recorded.refunded)
    await applyOrderToRollups(trx, order.order_id, sign, recorded.refunded);
}

/** OrderConfirmed: the order becomes a sale, unless it was reversed first. */
async function orderConfirmed(
  trx: Transaction<Database>,
  event: EventEnvelope<"OrderConfirmed">,
): Promise<void> {
  await settleOrder(trx, outcomeOrderId(event), { confirmedAt: new Date(event.occurredAt) });
}

/** OrderCancelled / OrderRejected: the order stops being a sale for good. */
const orderReversed =
  (kind: "CANCELLED" | "REJECTED") =>
  async (
    trx: Transaction<Database>,
    event: EventEnvelope<"OrderCancelled" | "OrderRejected">,
  ): Promise<void> => {
    const orderId = outcomeOrderId(event);
    const reason = reversalReason(event);
    await settleOrder(trx, orderId, { reversal: { kind, reason, at: new Date(event.occurredAt) } });
  };

/** OrderShipped / OrderDelivered: times only; they do not change what counts as a sale. */
const orderReached =
  (part: "shippedAt" | "deliveredAt") =>
  async (
    trx: Transaction<Database>,
    event: EventEnvelope<"OrderShipped" | "OrderDelivered">,
  ): Promise<void> => {
    await recordOrderEvent(trx, outcomeOrderId(event), { [part]: new Date(event.occurredAt) });
  };

/** OrderRefunded: revenue given back on the refund's day, whatever became of the order. */
async function orderRefunded(
  trx: Transaction<Database>,
  event: EventEnvelope<"OrderRefunded">,
): Promise<void> {
  const { refund, lines } = toRefundFacts(event);
  // Holding the order's row, so the refund's categories are given once: here when the order is
  // recorded, else by its OrderPlaced.
  if (refund.order_id) await recordOrderEvent(trx, refund.order_id, {});
  if (!(await insertRefundFacts(trx, refund, lines))) return;
  await applyRefundToRollups(trx, refund.refund_id);
}

/** The handlers, each run in the transaction that records the event id (see startEventConsumer). */
export const insightsHandlers: EventHandlers<Database> = {
  OrderPlaced: orderPlaced,
  OrderConfirmed: orderConfirmed,
  OrderCancelled: orderReversed("CANCELLED"),
  OrderRejected: orderReversed("REJECTED"),
  OrderShipped: orderReached("shippedAt"),
  OrderDelivered: orderReached("deliveredAt"),
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
  const { db, redis, prefix, logger, concurrency, batchSize } = options;
  return startEventConsumer({
    consumer: "insights",
    db,
    redis,
    prefix,
    logger,
    handlers: insightsHandlers,
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(batchSize === undefined ? {} : { batchSize }),
    metrics: options.metrics,
  });
}
