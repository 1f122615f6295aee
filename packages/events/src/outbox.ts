import { randomUUID } from "node:crypto";
import type { Logger, SubgraphMetrics } from "@nexus/core";
import type { Span } from "@opentelemetry/api";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type Kysely, sql, type Transaction } from "kysely";
import type { Migration } from "kysely/migration";
import type { EventsConfig } from "./events.ts";
import {
  type Consumer,
  type EventEnvelope,
  type EventPayloads,
  type EventType,
  queueName,
  SUBSCRIBERS,
} from "./events.ts";
import { failpoint } from "./failpoint.ts";
import { registerOutboxGauges } from "./metrics.ts";
import {
  endSpans,
  inRelayBatchSpan,
  payloadWithTrace,
  splitStoredPayload,
  startPublishSpan,
  untraced,
} from "./tracing.ts";

export interface OutboxTable {
  id: string;
  type: string;
  aggregate_id: string;
  payload: unknown;
  occurred_at: Date;
  published_at: Date | null;
}

/** Add to a producer's Database type. */
export interface OutboxDatabase {
  outbox: OutboxTable;
}

/** Include in a producer's migrations. */
export const createOutboxMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable("outbox")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("aggregate_id", "text", (c) => c.notNull())
      .addColumn("payload", "jsonb", (c) => c.notNull())
      .addColumn("occurred_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn("published_at", "timestamptz")
      .execute();
    await sql`CREATE INDEX outbox_unpublished ON outbox (occurred_at) WHERE published_at IS NULL`.execute(db);
  },
  async down(db) {
    await db.schema.dropTable("outbox").execute();
  },
};

/**
 * Records an event in the same transaction as the state change it describes,
 * so the event exists if and only if the change committed. `occurredAt` defaults to now; an
 * import of past orders passes when each one happened. When the caller is traced, the row keeps
 * its trace context, which the relay and the consumers continue (tracing.ts).
 */
export async function appendToOutbox<T extends EventType, DB extends OutboxDatabase>(
  trx: Transaction<DB>,
  type: T,
  aggregateId: string,
  payload: EventPayloads[T],
  options: { occurredAt?: Date } = {},
): Promise<EventEnvelope<T>> {
  const event: EventEnvelope<T> = {
    id: randomUUID(),
    type,
    aggregateId,
    occurredAt: (options.occurredAt ?? new Date()).toISOString(),
    payload,
  };
  await (trx as unknown as Transaction<OutboxDatabase>)
    .insertInto("outbox")
    .values({
      id: event.id,
      type,
      aggregate_id: aggregateId,
      payload: payloadWithTrace(payload),
      occurred_at: new Date(event.occurredAt),
    })
    .execute();
  return event;
}

/** One event for `appendManyToOutbox`: what `appendToOutbox` takes, as one value. */
export type OutboxEntry = {
  [T in EventType]: { type: T; aggregateId: string; payload: EventPayloads[T]; occurredAt?: Date };
}[EventType];

/** Rows per INSERT: 5 parameters each, far below PostgreSQL's 65,535 per statement. */
const OUTBOX_INSERT_CHUNK = 2000;

/**
 * `appendToOutbox` for many events at once, in the caller's transaction: one multi-row INSERT
 * per 2,000 events instead of a round trip each, for bulk writers such as an import of past
 * orders. Returns the envelopes in the order given. These rows keep no trace context: one
 * import's trace would otherwise hold a publish and a consumer span for each of its tens of
 * thousands of events.
 */
export async function appendManyToOutbox<DB extends OutboxDatabase>(
  trx: Transaction<DB>,
  entries: readonly OutboxEntry[],
): Promise<EventEnvelope[]> {
  const now = new Date();
  const events: EventEnvelope[] = entries.map((entry) => ({
    id: randomUUID(),
    type: entry.type,
    aggregateId: entry.aggregateId,
    occurredAt: (entry.occurredAt ?? now).toISOString(),
    payload: entry.payload,
  }));
  const outbox = trx as unknown as Transaction<OutboxDatabase>;
  for (let start = 0; start < events.length; start += OUTBOX_INSERT_CHUNK) {
    await outbox
      .insertInto("outbox")
      .values(
        events.slice(start, start + OUTBOX_INSERT_CHUNK).map((event) => ({
          id: event.id,
          type: event.type,
          aggregate_id: event.aggregateId,
          payload: JSON.stringify(event.payload),
          occurred_at: new Date(event.occurredAt),
        })),
      )
      .execute();
  }
  return events;
}

/** Rows a relay publishes per transaction unless configured otherwise (OUTBOX_BATCH_SIZE). */
export const DEFAULT_OUTBOX_BATCH_SIZE = 500;

export interface OutboxRelayOptions<DB extends OutboxDatabase> {
  db: Kysely<DB>;
  redis: Redis;
  /** BullMQ key prefix; tests use a unique one. */
  prefix: string;
  logger: Logger;
  pollIntervalMs?: number;
  /** Most rows published per transaction; defaults to DEFAULT_OUTBOX_BATCH_SIZE (OUTBOX_BATCH_SIZE). */
  batchSize?: number;
  /** How consumers retry a job whose handler fails; defaults to DEFAULT_RETRY_POLICY. */
  retry?: RetryPolicy;
  /** When given, the outbox backlog and the age of its oldest row are reported on each scrape. */
  metrics?: SubgraphMetrics;
  /**
   * Also tells something else of each batch: called once every queue holds the batch and before
   * its rows are marked published, so a failure (or a crash) leaves them to be published, and
   * announced, again. At least once, like the queues; orders announces status changes on Redis
   * pub/sub with it (order-updates.ts).
   */
  announce?: (events: readonly EventEnvelope[]) => Promise<void>;
}

/**
 * The relay settings a service reads from its events configuration (EVENTS_PREFIX, OUTBOX_*,
 * EVENT_ATTEMPTS, EVENT_BACKOFF_MS).
 */
export function relaySettings(
  config: EventsConfig,
): Pick<OutboxRelayOptions<OutboxDatabase>, "prefix" | "pollIntervalMs" | "batchSize" | "retry"> {
  return {
    prefix: config.eventsPrefix,
    pollIntervalMs: config.outboxPollMs,
    batchSize: config.outboxBatchSize,
    retry: { attempts: config.eventAttempts, backoffMs: config.eventBackoffMs },
  };
}

/**
 * Set on each job by the relay, since BullMQ keeps retry settings per job. A failed attempt
 * waits `backoffMs * 2^(attempt - 1)` before the next; after `attempts` the job stays in the
 * queue's failed set (kept `FAILED_JOB_RETENTION_SECONDS`) where admins list and replay it.
 */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ attempts: 8, backoffMs: 1000 });

/** Completed jobs are kept a day, so a re-publish of the same event id within it is a no-op. */
export const COMPLETED_JOB_RETENTION_SECONDS = 24 * 3600;
/** Failed jobs are kept a week for admins to inspect and replay. */
export const FAILED_JOB_RETENTION_SECONDS = 7 * 24 * 3600;

/**
 * Unpublished rows and the age of the oldest, in one query over the partial index of
 * unpublished rows (cheap while the relay keeps up, which is when it is scraped most).
 */
export async function outboxBacklog(
  db: Kysely<OutboxDatabase>,
): Promise<{ backlog: number; oldestAgeSeconds: number }> {
  const { rows } = await sql<{ backlog: number; age: number | null }>`
    SELECT count(*)::int AS backlog, extract(epoch FROM now() - min(occurred_at))::float8 AS age
    FROM outbox WHERE published_at IS NULL`.execute(db);
  const row = rows[0];
  return { backlog: row?.backlog ?? 0, oldestAgeSeconds: Math.max(0, row?.age ?? 0) };
}

export interface OutboxRelay {
  /** Publishes what is pending now; called after a commit so events do not wait for the next poll. */
  flush(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Locks and marks up to `limit` unpublished rows, oldest first, in one statement. The mark
 * commits with the caller's transaction, which the relay commits only once every queue holds
 * the rows' jobs; SKIP LOCKED lets several relays take disjoint batches side by side.
 */
async function claimUnpublished(trx: Transaction<OutboxDatabase>, limit: number): Promise<OutboxTable[]> {
  const { rows } = await sql<OutboxTable>`
    UPDATE outbox SET published_at = now()
    WHERE id IN (
      SELECT id FROM outbox WHERE published_at IS NULL ORDER BY occurred_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING id, type, aggregate_id, payload, occurred_at, published_at`.execute(trx);
  // RETURNING keeps no order; queues receive each batch oldest first.
  return rows.sort((a, b) => a.occurred_at.getTime() - b.occurred_at.getTime());
}

type BulkJobs = Parameters<Queue["addBulk"]>[0];

/** The jobs of a batch per subscriber queue, its envelopes, and a publish span per event. */
function jobsFor(
  rows: readonly OutboxTable[],
  retry: RetryPolicy,
): { jobs: Map<Consumer, BulkJobs>; envelopes: EventEnvelope[]; publishSpans: (Span | undefined)[] } {
  const jobs = new Map<Consumer, BulkJobs>();
  const publishSpans: (Span | undefined)[] = [];
  const envelopes: EventEnvelope[] = [];
  // Options every job of the batch shares; only the id differs.
  const shared = {
    attempts: retry.attempts,
    backoff: { type: "exponential", delay: retry.backoffMs },
    removeOnComplete: { age: COMPLETED_JOB_RETENTION_SECONDS },
    removeOnFail: { age: FAILED_JOB_RETENTION_SECONDS },
  };
  for (const row of rows) {
    const type = row.type as EventType;
    const stored = splitStoredPayload(row.payload);
    const envelope: EventEnvelope = {
      id: row.id,
      type,
      aggregateId: row.aggregate_id,
      occurredAt: row.occurred_at.toISOString(),
      payload: stored.payload as EventPayloads[EventType],
    };
    envelopes.push(envelope);
    const subscribers = SUBSCRIBERS[type] ?? [];
    const publish = startPublishSpan(envelope, stored.trace, subscribers);
    publishSpans.push(publish.span);
    if (publish.trace) envelope.trace = publish.trace;
    for (const consumer of subscribers) {
      let queued = jobs.get(consumer);
      if (!queued) {
        queued = [];
        jobs.set(consumer, queued);
      }
      queued.push({ name: type, data: envelope, opts: { ...shared, jobId: row.id } });
    }
  }
  return { jobs, envelopes, publishSpans };
}

/**
 * Moves committed outbox rows to BullMQ. Rows are locked with SKIP LOCKED so several
 * replicas can relay side by side; a row is marked published only after every subscriber
 * queue accepted it, with `jobId = event id` so a retried publish does not duplicate it.
 */
export function startOutboxRelay<DB extends OutboxDatabase>(options: OutboxRelayOptions<DB>): OutboxRelay {
  const { redis, prefix, logger } = options;
  // Kysely cannot see that DB contains the outbox table; this is the narrow view of it.
  const db = options.db as unknown as Kysely<OutboxDatabase>;
  const batchSize = options.batchSize ?? DEFAULT_OUTBOX_BATCH_SIZE;
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  if (options.metrics) registerOutboxGauges(options.metrics, () => outboxBacklog(db));
  const queues = new Map<Consumer, Queue>();
  const queueFor = (consumer: Consumer) => {
    let queue = queues.get(consumer);
    if (!queue) {
      queue = new Queue(queueName(consumer), { connection: redis, prefix });
      queues.set(consumer, queue);
    }
    return queue;
  };

  let running: Promise<number> | null = null;
  let queued: Promise<number> | null = null;
  let stopped = false;

  const publishBatch = () =>
    db.transaction().execute(async (trx) => {
      const rows = await claimUnpublished(trx, batchSize);
      if (rows.length === 0) return 0;
      failpoint("outbox.before-publish");
      const { jobs, envelopes, publishSpans } = jobsFor(rows, retry);
      await inRelayBatchSpan(publishSpans, async () => {
        try {
          // One addBulk per subscriber queue for the whole batch, all sent together: a round
          // trip per batch rather than per job or per queue.
          await Promise.all([...jobs].map(([consumer, queued]) => queueFor(consumer).addBulk(queued)));
          if (options.announce) await options.announce(envelopes);
        } catch (error) {
          endSpans(publishSpans, error);
          throw error;
        }
        // Every queue holds the jobs: that is what a publish span covers.
        endSpans(publishSpans);
        // The rows are marked in this transaction, which commits only now: a crash here leaves
        // them unpublished, to be published again after a restart, and `jobId` makes that a no-op.
        failpoint("outbox.after-publish");
      });
      return rows.length;
    });

  const drain = async (): Promise<number> => {
    let total = 0;
    for (let published = batchSize; published === batchSize && !stopped; ) {
      published = await publishBatch();
      total += published;
    }
    return total;
  };

  /**
   * One drain at a time per process. Calls that arrive mid-drain share one follow-up drain,
   * so commits during an outage (Redis down) do not pile up waiting flushes.
   */
  const flush = (): Promise<number> => {
    if (!running) {
      // A drain serves every commit since the last one, so it runs in no caller's trace; each
      // event's publish span joins the trace its row carries instead.
      running = untraced(drain).finally(() => {
        running = null;
      });
      return running;
    }
    queued ??= running
      .catch(() => 0)
      .then(() => {
        queued = null;
        return flush();
      });
    return queued;
  };

  const timer = setInterval(() => {
    flush().catch((error: unknown) => logger.warn("outbox relay failed; will retry", { error }));
  }, options.pollIntervalMs ?? 1000);

  return {
    flush,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => 0);
      await Promise.all([...queues.values()].map((queue) => queue.close()));
    },
  };
}
