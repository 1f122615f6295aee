import type { Logger } from "@nexus/core";
import {
  type EventConsumer,
  type EventConsumerOptions,
  type OutboxRelay,
  startEventConsumer,
} from "@nexus/events";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { reserveOrder } from "../stock/stock.service.ts";

export interface InventoryConsumerOptions {
  db: Kysely<Database>;
  redis: EventConsumerOptions<Database>["redis"];
  prefix: string;
  logger: Logger;
  /** Publishes the decisions this consumer writes to the outbox. */
  relay: Pick<OutboxRelay, "flush">;
}

/**
 * Consumes the `events.inventory` queue: each OrderPlaced reserves all of its lines or none,
 * in the transaction that also records the event id, so a redelivered order is a no-op.
 */
export function startInventoryConsumer(options: InventoryConsumerOptions): EventConsumer {
  const { db, redis, prefix, logger, relay } = options;
  return startEventConsumer({
    consumer: "inventory",
    db,
    redis,
    prefix,
    logger,
    handlers: {
      OrderPlaced: async (trx, event) => {
        const outcome = await reserveOrder(trx, event.payload);
        logger.info("order stock decided", { orderId: event.payload.orderId, outcome: outcome.status });
      },
    },
    // The saga waits on this decision, so publish it now rather than at the relay's next poll.
    // Should the flush fail, BullMQ retries the job (a no-op, the event is recorded) and the
    // poll still publishes the row.
    afterCommit: async () => {
      await relay.flush();
    },
  });
}
