import { isObjectIdHex, type Logger, type SubgraphMetrics } from "@nexus/core";
import { consumerMetrics, type EventEnvelope, queueName } from "@nexus/events";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { CatalogDb } from "../db/collections.ts";
import type { ProductCache } from "../product/product.cache.ts";
import { refreshRating, setProductInStock } from "../product/product.repository.ts";
import { approveVerifiedCleanReviews, recordPurchases } from "../review/review.repository.ts";
import type { SearchChanges } from "../search/search-index.ts";
import { recordProcessedEvent } from "./processed-events.repository.ts";

export interface CatalogConsumer {
  stop(): Promise<void>;
}

/** What applying catalog's events needs besides the store. */
export interface CatalogEventOptions {
  /** Invalidated when approving reviews changes a product's rating; null when caching is off. */
  cache: ProductCache | null;
  /** REVIEW_AUTO_APPROVE_VERIFIED: a delivery approves its buyer's clean reviews waiting in the queue. */
  autoApproveVerified: boolean;
  /** Told which products changed (stock, rating, units sold) so every replica's search index follows. */
  search: SearchChanges | null;
}

/**
 * Inventory's word on stock: the product's `inStock` flag, kept with the event's time so that a
 * late older event never undoes a newer one (and a redelivery changes nothing).
 */
async function applyStockEvent(
  db: CatalogDb,
  event: EventEnvelope<"ProductBackInStock" | "ProductOutOfStock">,
  logger: Logger,
  options: CatalogEventOptions,
): Promise<void> {
  const { productId } = event.payload;
  if (isObjectIdHex(productId)) {
    const id = productId.toLowerCase();
    const inStock = event.type === "ProductBackInStock";
    const changed = await setProductInStock(db, id, inStock, new Date(event.occurredAt), new Date());
    if (changed) {
      await options.cache?.invalidate([id]);
      await options.search?.publish([id]);
    }
    logger.debug("recorded stock", { eventId: event.id, productId: id, inStock, changed });
  }
  await recordProcessedEvent(db, event.id, event.type);
}

/**
 * Applies one event. `startEventConsumer` in @nexus/events records event ids in a PostgreSQL
 * transaction; the catalog lives in MongoDB, so instead every effect is keyed by natural keys
 * (a purchase per customer and product, upserted; reviews set to verified, never toggled; a
 * PENDING review approved only while it is the version screening found clean), and applying an
 * event twice changes nothing. The event id is recorded afterwards for operators.
 */
export async function applyCatalogEvent(
  db: CatalogDb,
  event: EventEnvelope,
  logger: Logger,
  options: CatalogEventOptions,
): Promise<void> {
  if (event.type === "ProductBackInStock" || event.type === "ProductOutOfStock") {
    await applyStockEvent(
      db,
      event as EventEnvelope<"ProductBackInStock" | "ProductOutOfStock">,
      logger,
      options,
    );
    return;
  }
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
  const approved = options.autoApproveVerified
    ? await approveVerifiedCleanReviews(db, customerId, valid)
    : [];
  if (approved.length > 0) {
    for (const productId of approved) await refreshRating(db, productId);
    await options.cache?.invalidate(approved);
  }
  // Units sold (and ratings) rank search results.
  await options.search?.publish(valid);
  await recordProcessedEvent(db, event.id, event.type);
  logger.debug("recorded delivered products", {
    eventId: event.id,
    orderId,
    ...result,
    approved: approved.length,
  });
}

/** Consumes `events.catalog` with the same BullMQ conventions as every other consumer. */
export function startCatalogConsumer(
  options: {
    db: CatalogDb;
    redis: Redis;
    prefix: string;
    logger: Logger;
    concurrency?: number;
    /** The subgraph's metrics: queue depth and event lag. */
    metrics?: SubgraphMetrics;
  } & CatalogEventOptions,
): CatalogConsumer {
  const { db, logger } = options;
  const instruments = options.metrics
    ? consumerMetrics(options.metrics, "catalog", options.redis, options.prefix)
    : undefined;
  const worker = new Worker(
    queueName("catalog"),
    async (job: Job<EventEnvelope>) => {
      await applyCatalogEvent(db, job.data, logger, options);
      instruments?.observeLag(job.data);
    },
    { connection: options.redis, prefix: options.prefix, concurrency: options.concurrency ?? 4 },
  );
  worker.on("failed", (job, error) =>
    logger.warn("event handler failed; BullMQ will retry", { eventId: job?.id, type: job?.name, error }),
  );
  worker.on("error", (error) => logger.error("event worker error", { error }));
  return {
    async stop() {
      await worker.close();
      await instruments?.close();
    },
  };
}
