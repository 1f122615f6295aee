import type { Logger } from "@nexus/core";
import {
  type EventConsumer,
  type EventConsumerOptions,
  type OutboxRelay,
  startEventConsumer,
} from "@nexus/events";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { lockOrderReservation } from "../reservation/reservation.repository.ts";
import {
  commitReservation,
  confirmReservation,
  releaseReservation,
} from "../reservation/reservation.service.ts";
import { restockReturn } from "../stock/returns.service.ts";
import { reserveOrder, type StockAlertSettings } from "../stock/stock.service.ts";

export interface InventoryConsumerOptions
  extends Pick<
    EventConsumerOptions<Database>,
    "concurrency" | "batchSize" | "lockDurationMs" | "stalledIntervalMs" | "metrics"
  > {
  db: Kysely<Database>;
  redis: EventConsumerOptions<Database>["redis"];
  prefix: string;
  logger: Logger;
  /** Publishes the decisions this consumer writes to the outbox. */
  relay: Pick<OutboxRelay, "flush">;
  /** How long a new reservation holds stock unless the order is confirmed. */
  reservationTtlSeconds: number;
  /** Every saga step moves stock, so any of them may raise a stock alert. */
  alerts: StockAlertSettings;
}

/**
 * Consumes the `events.inventory` queue: the order saga's stock side. Each handler runs in the
 * transaction that also records the event id, so a redelivered or replayed event is a no-op.
 * Orders imported from a store's history (`historical` OrderPlaced) were delivered long ago:
 * nothing is reserved for them and no decision is published, and the OrderConfirmed that
 * follows finds no reservation and changes nothing, as does any OrderShipped or OrderCancelled
 * for an order inventory holds no reservation for.
 */
export function startInventoryConsumer(options: InventoryConsumerOptions): EventConsumer {
  const { db, redis, prefix, logger, relay, reservationTtlSeconds, alerts } = options;
  return startEventConsumer({
    consumer: "inventory",
    db,
    redis,
    prefix,
    logger,
    concurrency: options.concurrency,
    batchSize: options.batchSize,
    lockDurationMs: options.lockDurationMs,
    stalledIntervalMs: options.stalledIntervalMs,
    metrics: options.metrics,
    handlers: {
      OrderPlaced: async (trx, event) => {
        if (event.payload.historical === true) {
          logger.debug("historical order; nothing reserved", { orderId: event.payload.orderId });
          return;
        }
        const outcome = await reserveOrder(trx, event.payload, reservationTtlSeconds, alerts);
        logger.info("order stock decided", { orderId: event.payload.orderId, outcome: outcome.status });
      },
      OrderConfirmed: async (trx, event) => {
        const { orderId } = event.payload;
        const outcome = await confirmReservation(trx, orderId, alerts);
        if (outcome.status === "UNFULFILLABLE") {
          logger.error("a confirmed order's reservation had expired and its stock is gone", {
            orderId,
            lines: outcome.lines,
          });
        } else if (outcome.status === "UNCHANGED" && outcome.reservation === null) {
          // Imported orders are confirmed by the thousand and hold nothing: not worth a warning.
          logger.debug("order confirmed without a reservation; nothing to do", { orderId });
        } else if (outcome.status === "UNCHANGED" && outcome.reservation !== "CONFIRMED") {
          logger.warn("order confirmed without a live reservation", {
            orderId,
            reservation: outcome.reservation,
          });
        } else logger.info("reservation confirmed", { orderId, outcome: outcome.status });
      },
      OrderRejected: async (trx, event) => {
        const { orderId, reason } = event.payload;
        const outcome = await releaseReservation(trx, orderId, `order rejected: ${reason}`, alerts);
        logger.info("reservation released", { orderId, ...outcome });
      },
      OrderCancelled: async (trx, event) => {
        const { orderId, reason } = event.payload;
        const outcome = await releaseReservation(trx, orderId, `order cancelled: ${reason}`, alerts);
        logger.info("reservation released", { orderId, ...outcome });
      },
      OrderShipped: async (trx, event) => {
        const { orderId, lines } = event.payload;
        // No reservation at all: an order inventory never saw placed (an imported one), so
        // there is nothing to commit. A released or expired reservation is commitReservation's.
        if (!(await lockOrderReservation(trx, orderId))) {
          logger.warn("order shipped without a reservation; stock unchanged", { orderId });
          return;
        }
        const outcome = await commitReservation(trx, orderId, alerts, lines);
        logger.info(lines ? "shipment committed" : "reservation committed", { orderId, ...outcome });
      },
      OrderRefunded: async (trx, event) => {
        const { refundId, orderId } = event.payload;
        const outcome = await restockReturn(trx, event.payload, alerts);
        if (outcome.status === "RESTOCKED" && outcome.untracked.length > 0) {
          logger.warn("returned units of products without stock were not restocked", {
            refundId,
            orderId,
            productIds: outcome.untracked,
          });
        }
        logger.info("refund handled", { refundId, orderId, ...outcome });
      },
    },
    // The saga waits on these decisions, so publish them now rather than at the relay's next
    // poll. Should the flush fail, BullMQ retries the job (a no-op, the event is recorded) and
    // the poll still publishes the row.
    afterCommit: async () => {
      await relay.flush();
    },
  });
}
