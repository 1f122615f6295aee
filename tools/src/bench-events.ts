/**
 * `pnpm bench:events`: the event pipeline alone, from an outbox commit to the consumer's effect
 * committed, with the real outbox, relay and consumer of @nexus/events and nothing of the saga.
 *
 * A producer database holds the outbox and a consumer database holds `processed_events` and an
 * effect table (one counter per aggregate, upserted in the consumer's transaction: a cheap real
 * effect). `--writers` concurrent producers commit `--events` CartUpdated events over
 * `--aggregates` aggregates: a `--bulk-share` of them in transactions of `--bulk-size` events
 * (appendManyToOutbox), the rest one event per transaction (appendToOutbox), each commit followed
 * by `relay.flush()` as the services do. `--rate` paces the producers (events/s; 0 = as fast as
 * they go), which is how lag is measured below saturation. Relay and consumer run with the
 * production defaults of the events configuration unless `--batch-size`, `--concurrency`,
 * `--relay-batch` or `--poll-ms` say otherwise.
 *
 * Reports events/s from the first commit to the last effect committed and lag p50/p95/p99
 * (`outbox.occurred_at` -> `processed_events.processed_at`; the producer stamps occurred_at just
 * before its commit and PostgreSQL stamps processed_at, on this one host's clock). Then it checks
 * that every event was applied exactly once: one processed_events row each, and each aggregate's
 * counter equal to the events written for it. It also counts events applied after a later event
 * of the same aggregate (reordered), which the pipeline does not promise to prevent.
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createLogger, loadConfigFrom } from "@nexus/core";
import {
  appendManyToOutbox,
  appendToOutbox,
  createOutboxMigration,
  createProcessedEventsMigration,
  eventsConfigSchema,
  type OutboxDatabase,
  type OutboxEntry,
  type OutboxRelay,
  type ProcessedEventsDatabase,
  relaySettings,
  startEventConsumer,
  startOutboxRelay,
} from "@nexus/events";
import { connectRedis, createPostgresDb, databaseUrl, dropDatabase, openPostgres } from "@nexus/stores";
import { deleteRedisKeys, TEST_REDIS_URL, TEST_SERVER_URL, testRedisPrefix, until } from "@nexus/testing";

type Redis = Awaited<ReturnType<typeof connectRedis>>;

import { type Kysely, sql } from "kysely";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    aggregates: { type: "string", default: "1000" },
    writers: { type: "string", default: "16" },
    "bulk-share": { type: "string", default: "0.5" },
    "bulk-size": { type: "string", default: "100" },
    rate: { type: "string", default: "0" },
    "batch-size": { type: "string" },
    concurrency: { type: "string" },
    "relay-batch": { type: "string" },
    "poll-ms": { type: "string" },
    "one-process": { type: "boolean", default: false },
    "consumer-alone": { type: "boolean", default: false },
    /** Internal: the consumer process this bench forks, given its database and queue prefix. */
    "consumer-of": { type: "string" },
    prefix: { type: "string" },
  },
});
const EVENTS = Number(args.events);
const AGGREGATES = Number(args.aggregates);
const WRITERS = Number(args.writers);
const BULK_SHARE = Number(args["bulk-share"]);
const BULK_SIZE = Number(args["bulk-size"]);
const RATE = Number(args.rate);
const optional = (value: string | undefined) => (value === undefined ? undefined : Number(value));

interface EffectsTable {
  aggregate_id: string;
  applied: number;
  last_seq: number;
  reordered: number;
}
interface ConsumerDatabase extends ProcessedEventsDatabase {
  bench_effects: EffectsTable;
}

const config = loadConfigFrom(eventsConfigSchema, process.env);
const logger = createLogger("bench-events", "warn");
const consumerMigrations = {
  "0001_processed_events": createProcessedEventsMigration,
  "0002_bench_effects": {
    async up(db: Kysely<unknown>) {
      await sql`CREATE TABLE bench_effects (aggregate_id text PRIMARY KEY, applied int NOT NULL,
        last_seq int NOT NULL, reordered int NOT NULL DEFAULT 0)`.execute(db);
    },
  },
};

/** The consumer service: the real consumer with a cheap real effect, until stopped. */
async function startBenchConsumer(db: Kysely<ConsumerDatabase>, redis: Redis, prefix: string) {
  return startEventConsumer<ConsumerDatabase>({
    consumer: "insights",
    db,
    redis,
    prefix,
    logger,
    ...consumerOverrides(),
    handlers: {
      // One counter per aggregate; the line's quantity carries the event's sequence number within
      // its aggregate, so an event applied after a later one of the same aggregate is counted.
      CartUpdated: async (trx, event) => {
        const seq = event.payload.lines[0]?.quantity ?? 0;
        await sql`INSERT INTO bench_effects (aggregate_id, applied, last_seq) VALUES (${event.aggregateId}, 1, ${seq})
          ON CONFLICT (aggregate_id) DO UPDATE SET applied = bench_effects.applied + 1,
            last_seq = greatest(bench_effects.last_seq, excluded.last_seq),
            reordered = bench_effects.reordered + (excluded.last_seq < bench_effects.last_seq)::int`.execute(
          trx,
        );
      },
    },
  });
}

/** Only the consumer options the command line sets, so the rest keep startEventConsumer's defaults. */
function consumerOverrides(): { batchSize?: number; concurrency?: number } {
  const batchSize = optional(args["batch-size"]);
  const concurrency = optional(args.concurrency);
  return {
    ...(batchSize === undefined ? {} : { batchSize }),
    ...(concurrency === undefined ? {} : { concurrency }),
  };
}

/**
 * The events to write, cut into transactions: bulk ones of BULK_SIZE spread evenly among the
 * single-event ones, as an import and checkouts would arrive together. Each event's sequence
 * number within its aggregate follows this order.
 */
function plan(): OutboxEntry[][] {
  const seqs = new Map<string, number>();
  let index = 0;
  const entry = (): OutboxEntry => {
    const aggregateId = `agg-${index++ % AGGREGATES}`;
    const seq = (seqs.get(aggregateId) ?? 0) + 1;
    seqs.set(aggregateId, seq);
    const lines = [{ productId: "p", quantity: seq, unitPrice: 100 }];
    return {
      type: "CartUpdated",
      aggregateId,
      payload: { customerId: aggregateId, currencyCode: "EUR", lines },
    };
  };
  const bulks = Math.floor((EVENTS * BULK_SHARE) / BULK_SIZE);
  const singles = EVENTS - bulks * BULK_SIZE;
  const singlesPerBulk = bulks > 0 ? singles / bulks : singles;
  const transactions: OutboxEntry[][] = [];
  let singlesWritten = 0;
  for (let bulk = 0; bulk <= bulks; bulk++) {
    const due = Math.min(singles, Math.round(singlesPerBulk * (bulk + 1)));
    for (; singlesWritten < due; singlesWritten++) transactions.push([entry()]);
    if (bulk < bulks) transactions.push(Array.from({ length: BULK_SIZE }, entry));
  }
  return transactions;
}

async function commit(
  producer: Kysely<OutboxDatabase>,
  relay: OutboxRelay,
  entries: OutboxEntry[],
): Promise<void> {
  await producer.transaction().execute(async (trx) => {
    const [only] = entries;
    if (entries.length === 1 && only) {
      await appendToOutbox(trx, only.type, only.aggregateId, only.payload);
    } else await appendManyToOutbox(trx, entries);
  });
  relay.flush().catch((error: unknown) => logger.warn("flush failed", { error }));
}

async function produce(
  producer: Kysely<OutboxDatabase>,
  relay: OutboxRelay,
  transactions: OutboxEntry[][],
): Promise<void> {
  let next = 0;
  let written = 0;
  const started = performance.now();
  const writer = async () => {
    for (let index = next++; index < transactions.length; index = next++) {
      const entries = transactions[index] ?? [];
      if (RATE > 0) {
        // Paced: this transaction's events are due when the rate says so.
        const due = started + (written / RATE) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      written += entries.length;
      await commit(producer, relay, entries);
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function report(
  producer: Kysely<OutboxDatabase>,
  consumer: Kysely<ConsumerDatabase>,
): Promise<boolean> {
  const { rows: events } = await sql<{ id: string; aggregate_id: string; at: Date; published: Date | null }>`
    SELECT id, aggregate_id, occurred_at AS at, published_at AS published FROM outbox`.execute(producer);
  const { rows: processed } = await sql<{ id: string; at: Date }>`
    SELECT event_id AS id, processed_at AS at FROM processed_events`.execute(consumer);
  const done = new Map(processed.map((row) => [row.id, row.at.getTime()]));
  const lags = events
    .map((event) => (done.get(event.id) ?? Number.NaN) - event.at.getTime())
    .sort((a, b) => a - b);
  const first = Math.min(...events.map((event) => event.at.getTime()));
  const lastCommitted = Math.max(...events.map((event) => event.at.getTime()));
  const lastPublished = Math.max(...events.map((event) => event.published?.getTime() ?? 0));
  const last = Math.max(...processed.map((row) => row.at.getTime()));
  const seconds = (last - first) / 1000;
  const since = (at: number) => `${((at - first) / 1000).toFixed(2)} s`;
  console.log(
    `events/s: ${(EVENTS / seconds).toFixed(0)} (${EVENTS} events in ${seconds.toFixed(2)} s, first commit -> last effect committed)`,
  );
  const firstApplied = Math.min(...processed.map((row) => row.at.getTime()));
  console.log(
    `consumer: ${(EVENTS / ((last - firstApplied) / 1000)).toFixed(0)} events/s from its first effect committed to its last`,
  );
  console.log(
    `stages: last commit at ${since(lastCommitted)}, last published at ${since(lastPublished)}, last effect at ${since(last)}`,
  );
  console.log(
    `lag: p50 ${percentile(lags, 50).toFixed(0)} ms, p95 ${percentile(lags, 95).toFixed(0)} ms, p99 ${percentile(lags, 99).toFixed(0)} ms, max ${Math.max(...lags).toFixed(0)} ms`,
  );

  const expected = new Map<string, number>();
  for (const event of events) expected.set(event.aggregate_id, (expected.get(event.aggregate_id) ?? 0) + 1);
  const effects = await consumer.selectFrom("bench_effects").selectAll().execute();
  const wrong = effects.filter((row) => row.applied !== expected.get(row.aggregate_id));
  const reordered = effects.reduce((sum, row) => sum + row.reordered, 0);
  const ok =
    processed.length === EVENTS &&
    effects.length === expected.size &&
    wrong.length === 0 &&
    events.every((event) => done.has(event.id));
  console.log(
    `exactly once: ${ok ? "yes" : "NO"} (${processed.length} processed records for ${EVENTS} events, ${wrong.length} aggregates with a wrong count); reordered within an aggregate: ${reordered}`,
  );
  return ok;
}

/** Consumes in a process of its own, as a consumer service would; or in this one (`--one-process`). */
async function startConsumerProcess(url: string, redis: Redis, prefix: string): Promise<ConsumerProcess> {
  if (args["one-process"]) {
    const consumer = await startBenchConsumer(createPostgresDb<ConsumerDatabase>(url), redis, prefix);
    return { cpuMs: async () => Number.NaN, stop: () => consumer.stop() };
  }
  const forwarded = process.argv.slice(2);
  const child = fork(fileURLToPath(import.meta.url), [
    ...forwarded,
    "--consumer-of",
    url,
    "--prefix",
    prefix,
  ]);
  const exited = once(child, "exit");
  await once(child, "message");
  return {
    async cpuMs() {
      const reply = once(child, "message");
      child.send("cpu");
      const [ms] = await reply;
      return Number(ms);
    },
    async stop() {
      child.disconnect();
      await exited;
    },
  };
}

interface ConsumerProcess {
  /** CPU time (user + system) the consumer process spent since it was ready. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/** CPU milliseconds (user + system) this process spent since `since`. */
const cpuMsSince = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

async function runBench(): Promise<void> {
  const suffix = randomUUID().slice(0, 8);
  const producerUrl = databaseUrl(TEST_SERVER_URL, `nexus_bench_events_producer_${suffix}`);
  const consumerUrl = databaseUrl(TEST_SERVER_URL, `nexus_bench_events_consumer_${suffix}`);
  const producer = await openPostgres<OutboxDatabase>(producerUrl, { "0001_outbox": createOutboxMigration });
  const consumer = await openPostgres<ConsumerDatabase>(consumerUrl, consumerMigrations);
  const redis = await connectRedis(TEST_REDIS_URL);
  const prefix = testRedisPrefix("bench-events");
  const relay = startOutboxRelay({
    db: producer,
    redis,
    logger,
    ...relaySettings(config),
    prefix,
    ...(args["poll-ms"] ? { pollIntervalMs: Number(args["poll-ms"]) } : {}),
    ...(args["relay-batch"] ? { batchSize: Number(args["relay-batch"]) } : {}),
  });
  const alone = args["consumer-alone"];
  let consumerProcess = alone ? undefined : await startConsumerProcess(consumerUrl, redis, prefix);
  let ok = false;
  try {
    const transactions = plan();
    console.log(
      `bench:events: ${EVENTS} events on ${AGGREGATES} aggregates, ${transactions.length} transactions by ${WRITERS} writers` +
        `${RATE > 0 ? ` at ${RATE} events/s` : ""}, consumer ${args["one-process"] ? "in the same process" : "in its own process"}`,
    );
    const cpu = process.cpuUsage();
    await produce(producer, relay, transactions);
    if (alone) {
      // Every event waits in the queue before the consumer starts: its capacity alone.
      await until("every event published", async () => {
        const { rows } = await sql<{
          n: number;
        }>`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`.execute(producer);
        return rows[0]?.n === 0;
      });
      consumerProcess = await startConsumerProcess(consumerUrl, redis, prefix);
    }
    await until(
      "every event applied",
      async () => {
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM processed_events`.execute(
          consumer,
        );
        return (rows[0]?.n ?? 0) >= EVENTS;
      },
      { timeoutMs: 600_000, intervalMs: 50 },
    );
    const producerCpu = cpuMsSince(cpu);
    ok = await report(producer, consumer);
    // Throughput on a shared machine varies with its load; the CPU each side spent does less.
    const perThousand = (ms: number) => ((ms / EVENTS) * 1000).toFixed(0);
    const consumerCpu = (await consumerProcess?.cpuMs()) ?? Number.NaN;
    console.log(
      `CPU per 1,000 events: producer and relay ${perThousand(producerCpu)} ms, consumer ${perThousand(consumerCpu)} ms`,
    );
  } finally {
    await consumerProcess?.stop();
    await relay.stop();
    await deleteRedisKeys(redis, [prefix]);
    redis.disconnect();
    await producer.destroy();
    await consumer.destroy();
    await dropDatabase(producerUrl);
    await dropDatabase(consumerUrl);
  }
  process.exit(ok ? 0 : 1);
}

if (args["consumer-of"] !== undefined) {
  // The forked consumer process: runs until the bench disconnects.
  const db = createPostgresDb<ConsumerDatabase>(args["consumer-of"]);
  const redis = await connectRedis(TEST_REDIS_URL);
  const consumer = await startBenchConsumer(db, redis, args.prefix ?? "");
  process.once("disconnect", async () => {
    await consumer.stop();
    await db.destroy();
    redis.disconnect();
    process.exit(0);
  });
  const ready = process.cpuUsage();
  process.on("message", () => process.send?.(cpuMsSince(ready)));
  process.send?.("ready");
} else await runBench();
