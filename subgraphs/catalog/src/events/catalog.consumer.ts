import { isObjectIdHex, type Logger } from "@nexus/core";
import { type EventEnvelope, queueName } from "@nexus/events";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { CatalogDb } from "../db/collections.ts";
import { recordPurchases } from "../review/review.repository.ts";
import { recordProcessedEvent } from "./processed-events.repository.ts";

export interface CatalogConsumer {
  stop(): Promise<void>;
}

/**
 * Applies one event. `startEventConsumer` in @nexus/events records event ids in a PostgreSQL
 * transaction; the catalog lives in MongoDB, so instead every effect is keyed by natural keys
 * (a purchase per customer and product, upserted; reviews set to verified, never toggled), and
 * applying an event twice changes nothing. The event id is recorded afterwards for operators.
 */
export async function applyCatalogEvent(db: CatalogDb, event: EventEnvelope, logger: Logger): Promise<void> {
  if (event.type !== "OrderDelivered") return;
  const { orderId, customerId, productIds } = (event as EventEnvelope<"OrderDelivered">).payload;
  // A malformed id cannot name a catalog product; the rest of the delivery still counts.
  const valid = [...new Set(productIds.filter(isObjectIdHex).map((id) => id.toLowerCase()))];
  const result = await recordPurchases(db, {
    orderId,
    customerId,
    productIds: valid,
    deliveredAt: new Date(event.occurredAt),
  });
  await recordProcessedEvent(db, event.id, event.type);
  logger.debug("recorded delivered products", { eventId: event.id, orderId, ...result });
}

/** Consumes `events.catalog` with the same BullMQ conventions as every other consumer. */
export function startCatalogConsumer(options: {
  db: CatalogDb;
  redis: Redis;
  prefix: string;
  logger: Logger;
  concurrency?: number;
}): CatalogConsumer {
  const { db, logger } = options;
  const worker = new Worker(
    queueName("catalog"),
    async (job: Job<EventEnvelope>) => applyCatalogEvent(db, job.data, logger),
    { connection: options.redis, prefix: options.prefix, concurrency: options.concurrency ?? 4 },
  );
  worker.on("failed", (job, error) =>
    logger.warn("event handler failed; BullMQ will retry", { eventId: job?.id, type: job?.name, error }),
  );
  worker.on("error", (error) => logger.error("event worker error", { error }));
  return { stop: () => worker.close() };
}
