import { isUuid, type Logger, type SubgraphMetrics } from "@nexus/core";
import {
  type EventConsumer,
  type EventEnvelope,
  type EventHandlers,
  type OutboxRelay,
  startEventConsumer,
} from "@nexus/events";
import type { Redis } from "ioredis";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/database.ts";
import {
  onInventoryRejected,
  onInventoryReserved,
  onReservationExpired,
  type SagaDeps,
  settlePayment,
} from "../order/order.saga.ts";
import { announceBackInStock, type BackInStockDeps, forgetWishlistOf } from "../wishlist/wishlist.service.ts";

/** A malformed id can match no order; retrying it would only fail the same way ten times. */
const withOrderId =
  (logger: Logger, type: string, step: (trx: Transaction<Database>, orderId: string) => Promise<void>) =>
  async (trx: Transaction<Database>, orderId: string) => {
    if (!isUuid(orderId)) {
      logger.warn("event names no valid order id; ignored", { type, orderId });
      return;
    }
    await step(trx, orderId.toLowerCase());
  };

/** The order an InventoryReserved names, when it names one at all. */
const reservedOrderId = (event: EventEnvelope): string | null => {
  const { orderId } = (event as EventEnvelope<"InventoryReserved">).payload;
  return isUuid(orderId) ? orderId.toLowerCase() : null;
};

/** How the saga's answers from inventory move an order on (see order.saga.ts). */
export function createOrderEventHandlers(deps: SagaDeps & BackInStockDeps): EventHandlers<Database> {
  const reserved = withOrderId(deps.logger, "InventoryReserved", (trx, id) =>
    onInventoryReserved(deps, trx, id),
  );
  const expired = withOrderId(deps.logger, "ReservationExpired", (trx, id) =>
    onReservationExpired(deps, trx, id),
  );
  return {
    InventoryReserved: (trx, event) => reserved(trx, event.payload.orderId),
    InventoryRejected: (trx, event) =>
      withOrderId(deps.logger, "InventoryRejected", (t, orderId) =>
        onInventoryRejected(deps, t, { ...event.payload, orderId }),
      )(trx, event.payload.orderId),
    ReservationExpired: (trx, event) => expired(trx, event.payload.orderId),
    // Wishlists: the customers waiting for a product hear it is back (wishlist.service.ts).
    ProductBackInStock: async (trx, event) => {
      await announceBackInStock(deps, trx, event.payload);
    },
    UserDeleted: async (trx, event) => {
      await forgetWishlistOf(trx, event.payload.userId);
    },
  };
}

export interface OrderEventConsumerOptions extends SagaDeps, BackInStockDeps {
  db: Kysely<Database>;
  redis: Redis;
  prefix: string;
  /** The orders outbox: the saga's own events are published as soon as a step commits. */
  relay: Pick<OutboxRelay, "flush">;
  concurrency?: number;
  /** Most events applied in one transaction (EVENT_BATCH_SIZE). */
  batchSize?: number;
  /** Stalled-job recovery (see startEventConsumer); crash tests shorten BullMQ's 30 s. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** The subgraph's metrics: queue depth and event lag. */
  metrics?: SubgraphMetrics;
}

/**
 * Consumes the `orders` queue: inventory's verdicts on the orders this subgraph placed, and
 * its ProductBackInStock for the wishlists.
 */
export function startOrderEventConsumer(options: OrderEventConsumerOptions): EventConsumer {
  const { logger, relay } = options;
  return startEventConsumer<Database>({
    consumer: "orders",
    db: options.db,
    redis: options.redis,
    prefix: options.prefix,
    logger,
    handlers: createOrderEventHandlers(options),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.lockDurationMs !== undefined ? { lockDurationMs: options.lockDurationMs } : {}),
    ...(options.stalledIntervalMs !== undefined ? { stalledIntervalMs: options.stalledIntervalMs } : {}),
    ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    afterCommit: async (event) => {
      // The intent is committed: capture now, outside the transaction. Should this fail (the
      // provider is down, the process dies), the intent stays and the payment settler retries.
      const orderId = event.type === "InventoryReserved" ? reservedOrderId(event) : null;
      if (orderId) {
        await settlePayment(options, orderId).catch((error: unknown) =>
          logger.warn("payment capture failed; the settler will retry", { orderId, error }),
        );
      }
      // The step's events are committed; waiting for the poller would only add latency.
      relay
        .flush()
        .catch((error: unknown) => logger.warn("outbox flush after a saga step failed", { error }));
    },
  });
}
