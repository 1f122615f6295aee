import { isUuid, type Logger } from "@nexus/core";
import { type EventConsumer, type EventHandlers, startEventConsumer } from "@nexus/events";
import type { Redis } from "ioredis";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/database.ts";
import { settlePendingOrder } from "../order/order.repository.ts";

/** How the order saga's answers from inventory move an order on. */
export function createOrderEventHandlers(logger: Logger): EventHandlers<Database> {
  const settle = async (trx: Transaction<Database>, orderId: string, status: "CONFIRMED" | "REJECTED") => {
    // A malformed id can match no order; retrying it would only fail the same way ten times.
    if (!isUuid(orderId)) {
      logger.warn("inventory event names no valid order id; ignored", { orderId, status });
      return;
    }
    const changed = await settlePendingOrder(trx, orderId, status);
    if (!changed) logger.info("order is not pending; inventory event ignored", { orderId, status });
  };
  return {
    InventoryReserved: (trx, event) => settle(trx, event.payload.orderId, "CONFIRMED"),
    InventoryRejected: async (trx, event) => {
      logger.info("inventory rejected an order", {
        orderId: event.payload.orderId,
        lines: event.payload.lines,
      });
      await settle(trx, event.payload.orderId, "REJECTED");
    },
  };
}

export interface OrderEventConsumerOptions {
  db: Kysely<Database>;
  redis: Redis;
  prefix: string;
  logger: Logger;
}

/** Consumes the `orders` queue: inventory's verdicts on the orders this subgraph placed. */
export function startOrderEventConsumer(options: OrderEventConsumerOptions): EventConsumer {
  return startEventConsumer<Database>({
    consumer: "orders",
    db: options.db,
    redis: options.redis,
    prefix: options.prefix,
    logger: options.logger,
    handlers: createOrderEventHandlers(options.logger),
  });
}
