import { fileURLToPath } from "node:url";
import { createLogger } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  createTestPostgres,
  deleteRedisKeys,
  TEST_REDIS_URL,
  type TestPostgres,
  testRedisPrefix,
  until,
} from "@nexus/testing";
import { type CrashChild, killCrashChildren, startCrashChild } from "@nexus/testing/crash-child";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createProcessedEventsMigration,
  type ProcessedEventsDatabase,
  startEventConsumer,
} from "./consumer.ts";
import { queueName } from "./events.ts";
import type { FailpointName } from "./failpoint.ts";
import {
  appendManyToOutbox,
  appendToOutbox,
  createOutboxMigration,
  type OutboxDatabase,
  type OutboxEntry,
  startOutboxRelay,
} from "./outbox.ts";

/**
 * Crash safety of the batching pipeline with processes really killed: a child process
 * (crash.child.ts) relays in batches of 25 or consumes in batches of up to 16 and SIGKILLs itself
 * at a failpoint in the middle of a batch; a restarted child must finish the work so that every
 * event is published and applied exactly once. The effect is one row per application, without a
 * unique key, so an event applied twice would show.
 */

const CHILD = fileURLToPath(new URL("./crash.child.ts", import.meta.url));
const EVENTS = 120;
const logger = createLogger("crash-test", "silent");
type ConsumerDatabase = ProcessedEventsDatabase & { effects: { event_id: string; aggregate_id: string } };
let producer: TestPostgres<OutboxDatabase>;
let consumer: TestPostgres<ConsumerDatabase>;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  producer = await createTestPostgres<OutboxDatabase>("events_crash_producer", {
    "0001_outbox": createOutboxMigration,
  });
  consumer = await createTestPostgres<ConsumerDatabase>("events_crash_consumer", {
    "0001_processed_events": createProcessedEventsMigration,
    "0002_effects": {
      async up(db) {
        await sql`CREATE TABLE effects (event_id uuid NOT NULL, aggregate_id text NOT NULL)`.execute(db);
      },
    },
  });
  redis = await connectRedis(TEST_REDIS_URL);
});

beforeEach(async () => {
  prefix = testRedisPrefix("events-crash");
  await sql`TRUNCATE outbox`.execute(producer.db);
  await sql`TRUNCATE processed_events, effects`.execute(consumer.db);
});

afterEach(async () => {
  killCrashChildren();
  await deleteRedisKeys(redis, [prefix]);
});

afterAll(async () => {
  killCrashChildren();
  redis?.disconnect();
  await producer?.drop();
  await consumer?.drop();
});

function startChild(role: "relay" | "consumer", failpoint?: FailpointName): Promise<CrashChild> {
  return startCrashChild(CHILD, [role], {
    REDIS_URL: TEST_REDIS_URL,
    EVENTS_PREFIX: prefix,
    CRASH_PRODUCER_DATABASE_URL: producer.url,
    CRASH_CONSUMER_DATABASE_URL: consumer.url,
    NEXUS_FAILPOINT: failpoint ?? "",
  });
}

/** EVENTS events over 10 aggregates: 4 bulk transactions of 25 and 20 single-event ones. */
async function writeEvents(): Promise<string[]> {
  const cart = (index: number) => ({ customerId: `agg-${index % 10}`, currencyCode: "EUR", lines: [] });
  const entry = (index: number): OutboxEntry => ({
    type: "CartUpdated",
    aggregateId: `agg-${index % 10}`,
    payload: cart(index),
  });
  const ids: string[] = [];
  for (let bulk = 0; bulk < 4; bulk++) {
    const events = await producer.db.transaction().execute((trx) =>
      appendManyToOutbox(
        trx,
        Array.from({ length: 25 }, (_, i) => entry(bulk * 25 + i)),
      ),
    );
    ids.push(...events.map((event) => event.id));
  }
  for (let index = 100; index < EVENTS; index++) {
    const event = await producer.db
      .transaction()
      .execute((trx) => appendToOutbox(trx, "CartUpdated", `agg-${index % 10}`, cart(index)));
    ids.push(event.id);
  }
  return ids;
}

const count = async (query: Promise<{ rows: { n: number }[] }>) => (await query).rows[0]?.n ?? 0;
const unpublished = () =>
  count(
    sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`.execute(producer.db),
  );
const processed = () =>
  count(sql<{ n: number }>`SELECT count(*)::int AS n FROM processed_events`.execute(consumer.db));

async function jobCounts() {
  const queue = new Queue(queueName("insights"), { connection: redis, prefix });
  try {
    return await queue.getJobCounts("completed", "waiting", "active", "failed", "delayed");
  } finally {
    await queue.close();
  }
}

/** Every event published, applied once (one effect row, one processed record), one job each. */
async function expectEachAppliedOnce(ids: readonly string[]) {
  await until(
    "every event applied",
    async () => (await processed()) === ids.length && (await unpublished()) === 0,
  );
  const { rows } = await sql<{ event_id: string; n: number }>`
    SELECT event_id, count(*)::int AS n FROM effects GROUP BY event_id`.execute(consumer.db);
  expect(rows.filter((row) => row.n !== 1)).toEqual([]);
  expect(rows.map((row) => row.event_id).sort()).toEqual([...ids].sort());
  await until("every job completed", async () => (await jobCounts()).completed === ids.length);
  expect(await jobCounts()).toEqual({ completed: ids.length, waiting: 0, active: 0, failed: 0, delayed: 0 });
}

describe("an outbox relay killed mid-batch", () => {
  it.each([
    ["with the batch locked, before publishing", "outbox.before-publish" as const],
    ["after every queue accepted the batch, before marking it published", "outbox.after-publish" as const],
  ])("is finished by a restarted relay without duplicate effects, killed %s", async (_when, failpoint) => {
    const ids = await writeEvents();
    // The consumer runs here: only the relay is killed.
    const consuming = startEventConsumer<ConsumerDatabase>({
      consumer: "insights",
      db: consumer.db,
      redis,
      prefix,
      logger,
      batchSize: 16,
      handlers: {
        CartUpdated: async (trx, event) => {
          await trx
            .insertInto("effects")
            .values({ event_id: event.id, aggregate_id: event.aggregateId })
            .execute();
        },
      },
    });

    const crashed = await startChild("relay", failpoint);
    expect(await crashed.exited).toBe("SIGKILL");
    // The killed batch's marks never committed.
    expect(await unpublished()).toBe(EVENTS);
    const queued = await jobCounts();
    const held = (queued.completed ?? 0) + (queued.waiting ?? 0) + (queued.active ?? 0);
    if (failpoint === "outbox.before-publish") expect(held).toBe(0);
    else expect(held).toBe(25);

    try {
      const restarted = await startChild("relay");
      await expectEachAppliedOnce(ids);
      expect(await restarted.stop()).toBeNull();
    } finally {
      await consuming.stop();
    }
  });
});

describe("a consumer killed mid-batch", () => {
  it.each([
    ["before its transaction committed", "consumer.before-commit" as const],
    ["after its commit, before BullMQ heard of any job in it", "consumer.after-commit" as const],
  ])("leaves every event applied exactly once after a restart, killed %s", async (_when, failpoint) => {
    const ids = await writeEvents();
    // Every event waits in the queue first, so the consumer's first batches are full.
    const relay = startOutboxRelay({ db: producer.db, redis, prefix, logger, pollIntervalMs: 60_000 });
    try {
      await relay.flush();
    } finally {
      await relay.stop();
    }
    expect(await unpublished()).toBe(0);

    const crashed = await startChild("consumer", failpoint);
    expect(await crashed.exited).toBe("SIGKILL");
    const applied = await processed();
    if (failpoint === "consumer.before-commit") expect(applied).toBe(0);
    else {
      // One batch of several events committed; BullMQ still holds its jobs as active.
      expect(applied).toBeGreaterThan(1);
      expect(applied).toBeLessThanOrEqual(16);
    }
    expect((await jobCounts()).active).toBeGreaterThan(1);

    // The restarted consumer's stalled-job check hands the dead worker's jobs out again.
    const restarted = await startChild("consumer");
    await expectEachAppliedOnce(ids);
    expect(await restarted.stop()).toBeNull();
  });
});
