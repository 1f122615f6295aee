import type { Logger, SubgraphMetrics } from "@nexus/core";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type Generated, type Kysely, sql, type Transaction } from "kysely";
import type { Migration } from "kysely/migration";
import { applyEventBatch, type EventOutcome } from "./batch.ts";
import { type Consumer, type EventEnvelope, type EventsConfig, type EventType, queueName } from "./events.ts";
import { failpoint } from "./failpoint.ts";
import { consumerMetrics } from "./metrics.ts";
import { type ConsumerSpan, inConsumerBatchSpan, startConsumerSpan } from "./tracing.ts";

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
  /**
   * Jobs taken from the queue at once (BullMQ's worker concurrency): what batches are made of.
   * Defaults to DEFAULT_EVENT_CONCURRENCY (EVENT_CONCURRENCY).
   */
  concurrency?: number;
  /**
   * Most events applied in one transaction; 1 applies each on its own. Defaults to
   * DEFAULT_EVENT_BATCH_SIZE (EVENT_BATCH_SIZE).
   */
  batchSize?: number;
  /**
   * Called, once per event, after the transaction that applied it committed (e.g. to flush an
   * outbox). A batch calls it for all its events at once, so flushes coalesce.
   */
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

/** The consumer settings a service reads from its events configuration (EVENT_CONCURRENCY, EVENT_BATCH_SIZE). */
export function consumerSettings(
  config: Pick<EventsConfig, "consumerConcurrency" | "eventBatchSize">,
): Required<Pick<EventConsumerOptions<ProcessedEventsDatabase>, "concurrency" | "batchSize">> {
  return { concurrency: config.consumerConcurrency, batchSize: config.eventBatchSize };
}

/** Jobs a consumer holds at once unless configured otherwise (EVENT_CONCURRENCY). */
export const DEFAULT_EVENT_CONCURRENCY = 32;
/** Events per consumer transaction unless configured otherwise (EVENT_BATCH_SIZE). */
export const DEFAULT_EVENT_BATCH_SIZE = 32;

/** A job waiting for its batch, with how to settle BullMQ's call for it. */
interface PendingJob {
  job: Job<EventEnvelope>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Consumes this subgraph's queue. Delivery is at least once; the event id is inserted
 * into `processed_events` in the handler's transaction, so a redelivered event is a no-op.
 * A handler that throws rolls back (its own savepoint, in a batch) and BullMQ retries it with
 * backoff, alone.
 *
 * Batching: the worker holds up to `concurrency` jobs; the jobs that became active in the same
 * tick, or while the batches in flight ran, form a batch of up to `batchSize`, applied in one
 * transaction (applyEventBatch) before every job of it is resolved. Up to
 * `ceil(concurrency / batchSize)` batches may be in flight, but never two holding events of
 * the same aggregate: an aggregate's events active together apply one batch after the other, in
 * `occurredAt` order within a batch. What is not promised (and was not before batching either):
 * a retried event applies after later events of its aggregate, and two replicas (or a job
 * recovered from a dead worker) may apply one aggregate's events side by side. Handlers that
 * care (the saga's) check the state they act on, as they must for redelivery anyway.
 */
export function startEventConsumer<DB extends ProcessedEventsDatabase>(
  options: EventConsumerOptions<DB>,
): EventConsumer {
  const { db, logger, handlers, metrics } = options;
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_EVENT_BATCH_SIZE);
  const instruments = metrics
    ? consumerMetrics(metrics, options.consumer, options.redis, options.prefix)
    : undefined;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_EVENT_CONCURRENCY);
  /**
   * Transactions at once: enough for every held job to be in one, no more. A consumer thus uses
   * at most this many pool connections, leaving the rest to the service's requests, and jobs
   * that arrive while its batches run wait to form the next, larger batch.
   */
  const maxInFlight = Math.ceil(concurrency / batchSize);
  let inFlight = 0;
  const pending: PendingJob[] = [];
  /** Aggregates with events in a batch in flight: their next events wait for the next batch. */
  const busy = new Set<string>();
  let scheduled = false;

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // The next turn of the event loop: every job BullMQ activated meanwhile joins the batch.
    setImmediate(() => {
      scheduled = false;
      startBatches();
    });
  };

  const startBatches = () => {
    while (inFlight < maxInFlight) {
      const batch = takeBatch();
      if (batch.length === 0) return;
      inFlight++;
      void runBatch(batch);
    }
  };

  /** Up to `batchSize` waiting jobs of aggregates no batch in flight holds, oldest first. */
  const takeBatch = (): PendingJob[] => {
    const batch: PendingJob[] = [];
    for (let index = 0; index < pending.length && batch.length < batchSize; ) {
      const entry = pending[index];
      if (entry && !busy.has(entry.job.data.aggregateId)) {
        batch.push(entry);
        pending.splice(index, 1);
      } else index++;
    }
    for (const entry of batch) busy.add(entry.job.data.aggregateId);
    return batch;
  };

  const runBatch = async (batch: PendingJob[]) => {
    try {
      await applyJobs(batch);
    } catch (error) {
      // The transaction failed as a whole: nothing committed, every job is retried.
      for (const entry of batch) entry.reject(error);
    } finally {
      inFlight--;
      for (const entry of batch) busy.delete(entry.job.data.aggregateId);
      if (pending.length > 0) schedule();
    }
  };

  /** Applies a batch, then settles each job by its event's outcome and what follows its commit. */
  const applyJobs = async (batch: PendingJob[]) => {
    const spans = new Map<string, ConsumerSpan>(
      batch.map(({ job }) => [
        job.data.id,
        startConsumerSpan(options.consumer, job.data, job.attemptsMade + 1),
      ]),
    );
    const apply = () =>
      applyEventBatch(
        db,
        handlers,
        batch.map(({ job }) => job.data),
        { around: (event, run) => spans.get(event.id)?.within(run) ?? run() },
      );
    // A lone event's whole transaction is its own; a batch's claim and commit are the batch's.
    const [lone] = batch.length === 1 ? [...spans.values()] : [];
    let outcomes: Map<string, EventOutcome>;
    try {
      outcomes = await (lone
        ? lone.within(apply)
        : inConsumerBatchSpan(options.consumer, [...spans.values()], apply));
    } catch (error) {
      for (const span of spans.values()) span.end(error);
      throw error;
    }
    failpoint("consumer.after-commit");
    await Promise.all(
      batch.map(async (entry) => {
        const event = entry.job.data;
        const outcome = outcomes.get(event.id) ?? { status: "duplicate" };
        const span = spans.get(event.id);
        try {
          await settle(event, outcome, span);
          span?.end();
          entry.resolve();
        } catch (error) {
          span?.end(error);
          entry.reject(error);
        }
      }),
    );
  };

  /** Throws what failed the event, if anything did; runs afterCommit for an applied one. */
  const settle = async (event: EventEnvelope, outcome: EventOutcome, span: ConsumerSpan | undefined) => {
    if (outcome.status === "failed") throw outcome.error;
    if (outcome.status === "duplicate") {
      logger.debug("event already processed", { eventId: event.id, type: event.type });
      return;
    }
    instruments?.observeLag(event);
    // What the effect publishes in turn continues the event's trace.
    const after = () => options.afterCommit?.(event) ?? Promise.resolve();
    await (span ? span.within(after) : after());
  };

  const worker = new Worker(
    queueName(options.consumer),
    (job: Job<EventEnvelope>) => {
      if (!handlers[job.data.type]) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        pending.push({ job, resolve, reject });
        // A full batch need not wait for the tick to end.
        if (pending.length >= batchSize) startBatches();
        else schedule();
      });
    },
    {
      connection: options.redis,
      prefix: options.prefix,
      concurrency,
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
