import type { Logger, SubgraphMetrics } from "@nexus/core";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type Generated, type Kysely, sql, type Transaction } from "kysely";
import type { Migration } from "kysely/migration";
import { type Consumer, type EventEnvelope, type EventType, queueName } from "./events.ts";
import { failpoint } from "./failpoint.ts";
import { consumerMetrics } from "./metrics.ts";
import { inConsumerSpan } from "./tracing.ts";

export interface ProcessedEventsTable {
  event_id: string;
  event_type: string;
  processed_at: Generated<Date>;
}

/** Add to a consumer's Database type. */
export interface ProcessedEventsDatabase {
  processed_events: ProcessedEventsTable;
}

/** Include in a consumer's migrations. */
export const createProcessedEventsMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable("processed_events")
      .addColumn("event_id", "uuid", (c) => c.primaryKey())
      .addColumn("event_type", "text", (c) => c.notNull())
      .addColumn("processed_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  },
  async down(db) {
    await db.schema.dropTable("processed_events").execute();
  },
};

/** Handlers run inside the transaction that records the event id, so an effect happens once. */
export type EventHandlers<DB> = {
  [T in EventType]?: (trx: Transaction<DB>, event: EventEnvelope<T>) => Promise<void>;
};

export interface EventConsumerOptions<DB extends ProcessedEventsDatabase> {
  consumer: Consumer;
  db: Kysely<DB>;
  redis: Redis;
  prefix: string;
  logger: Logger;
  handlers: EventHandlers<DB>;
  concurrency?: number;
  /** Called after a handler's transaction committed (e.g. to flush an outbox). */
  afterCommit?: (event: EventEnvelope) => Promise<void>;
  /**
   * Stalled-job recovery: a worker holds a lock on each active job and renews it; a job whose
   * lock lapsed (its worker died) goes back to the queue at the next stalled check. BullMQ's
   * defaults (30 s each) suit production; crash tests shorten them.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /**
   * When given, the consumer's queue depth is reported on each scrape and each applied event's
   * lag (`occurredAt` to its effect committed) is observed.
   */
  metrics?: SubgraphMetrics;
}

export interface EventConsumer {
  stop(): Promise<void>;
}

/**
 * Applies one event the way the consumer does: its handler's effect and its id in
 * `processed_events` commit in one transaction, so it takes effect once. Returns false when the
 * event was applied before or has no handler. Tests drive handlers through it without a queue.
 */
export async function applyEventOnce<DB extends ProcessedEventsDatabase>(
  db: Kysely<DB>,
  handlers: EventHandlers<DB>,
  event: EventEnvelope,
): Promise<boolean> {
  const handler = handlers[event.type] as
    | ((trx: Transaction<DB>, event: EventEnvelope) => Promise<void>)
    | undefined;
  if (!handler) return false;
  return db.transaction().execute(async (trx) => {
    // The shared table is addressed through its own narrow view of the database.
    const inserted = await (trx as unknown as Transaction<ProcessedEventsDatabase>)
      .insertInto("processed_events")
      .values({ event_id: event.id, event_type: event.type })
      .onConflict((oc) => oc.column("event_id").doNothing())
      .executeTakeFirst();
    if (inserted.numInsertedOrUpdatedRows === 0n) return false;
    await handler(trx, event);
    return true;
  });
}

/**
 * Consumes this subgraph's queue. Delivery is at least once; the event id is inserted
 * into `processed_events` in the handler's transaction, so a redelivered event is a no-op.
 * A handler that throws rolls back and BullMQ retries it with backoff.
 */
export function startEventConsumer<DB extends ProcessedEventsDatabase>(
  options: EventConsumerOptions<DB>,
): EventConsumer {
  const { db, logger, handlers, metrics } = options;
  const instruments = metrics
    ? consumerMetrics(metrics, options.consumer, options.redis, options.prefix)
    : undefined;

  const worker = new Worker(
    queueName(options.consumer),
    async (job: Job<EventEnvelope>) => {
      const event = job.data;
      if (!handlers[event.type]) return;
      // The effect and what it publishes in turn (afterCommit) continue the event's trace.
      await inConsumerSpan(options.consumer, event, job.attemptsMade + 1, async () => {
        const applied = await applyEventOnce(db, handlers, event);
        if (applied) instruments?.observeLag(event);
        failpoint("consumer.after-commit");
        if (applied) await options.afterCommit?.(event);
        else logger.debug("event already processed", { eventId: event.id, type: event.type });
      });
    },
    {
      connection: options.redis,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 4,
      ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
      ...(options.stalledIntervalMs === undefined ? {} : { stalledInterval: options.stalledIntervalMs }),
    },
  );
  worker.on("failed", (job, error) => {
    const fields = { eventId: job?.id, type: job?.name, attempts: job?.attemptsMade, error };
    // The last attempt (or an UnrecoverableError) parks the job in the failed set for an admin.
    const exhausted = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
    if (exhausted || error.name === "UnrecoverableError") {
      logger.error("event handler failed for good; the job waits in the failed set", fields);
    } else logger.warn("event handler failed; BullMQ will retry", fields);
  });
  worker.on("error", (error) => logger.error("event worker error", { error }));

  return {
    async stop() {
      await worker.close();
      await instruments?.close();
    },
  };
}
