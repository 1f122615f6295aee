import { randomUUID } from "node:crypto";
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
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createProcessedEventsMigration,
  type EventConsumer,
  type ProcessedEventsDatabase,
  startEventConsumer,
} from "./consumer.ts";
import { queueName } from "./events.ts";
import { createFailedEvents, type FailedEvents } from "./failed.ts";
import {
  appendToOutbox,
  createOutboxMigration,
  type OutboxDatabase,
  type OutboxRelay,
  startOutboxRelay,
} from "./outbox.ts";

/** Retries with backoff, the failed set, and replay, through real BullMQ queues and PostgreSQL. */

interface EffectsTable {
  order_id: string;
}
type TestDatabase = OutboxDatabase & ProcessedEventsDatabase & { effects: EffectsTable };

let pg: TestPostgres<TestDatabase>;
let redis: Redis;
let relay: OutboxRelay;
let consumer: EventConsumer;
let failed: FailedEvents;
const prefix = testRedisPrefix("failed");
const logger = createLogger("failed-test", "silent");
/** Per order id: how many more attempts fail, and when each attempt started. */
const failuresLeft = new Map<string, number>();
const attemptsAt = new Map<string, number[]>();
/** Order ids whose handler applies its effect, then the post-commit step throws. */
const failAfterCommit = new Set<string>();

beforeAll(async () => {
  pg = await createTestPostgres<TestDatabase>("events_failed", {
    "0001_outbox": createOutboxMigration,
    "0002_processed_events": createProcessedEventsMigration,
    "0003_effects": {
      async up(db) {
        await db.schema
          .createTable("effects")
          .addColumn("order_id", "text", (c) => c.notNull())
          .execute();
      },
    },
  });
  redis = await connectRedis(TEST_REDIS_URL);
  relay = startOutboxRelay({
    db: pg.db,
    redis,
    prefix,
    logger,
    pollIntervalMs: 60_000,
    retry: { attempts: 3, backoffMs: 100 },
  });
  consumer = startEventConsumer({
    consumer: "inventory",
    db: pg.db,
    redis,
    prefix,
    logger,
    handlers: {
      OrderCancelled: async (trx, event) => {
        const { orderId } = event.payload;
        attemptsAt.set(orderId, [...(attemptsAt.get(orderId) ?? []), Date.now()]);
        await trx.insertInto("effects").values({ order_id: orderId }).execute();
        const left = failuresLeft.get(orderId) ?? 0;
        if (left > 0) {
          failuresLeft.set(orderId, left - 1);
          throw new Error(`payment gateway timeout for ${orderId}`);
        }
      },
    },
    afterCommit: async (event) => {
      if (failAfterCommit.has(event.aggregateId)) throw new Error("Redis connection lost");
    },
  });
  failed = createFailedEvents({ redis, prefix });
});

afterAll(async () => {
  await consumer?.stop();
  await relay?.stop();
  await failed?.close();
  if (redis) {
    await deleteRedisKeys(redis, [prefix]);
    await redis.quit();
  }
  await pg?.drop();
});

beforeEach(() => {
  failuresLeft.clear();
  attemptsAt.clear();
  failAfterCommit.clear();
});

async function cancel(orderId: string) {
  const event = await pg.db
    .transaction()
    .execute((trx) => appendToOutbox(trx, "OrderCancelled", orderId, { orderId, reason: "customer asked" }));
  await relay.flush();
  return event;
}

const effectsOf = async (orderId: string) =>
  (await pg.db.selectFrom("effects").select("order_id").where("order_id", "=", orderId).execute()).length;

const jobState = async (eventId: string) => {
  const queue = new Queue(queueName("inventory"), { connection: redis, prefix });
  try {
    return await (await queue.getJob(eventId))?.getState();
  } finally {
    await queue.close();
  }
};

describe("retries", () => {
  it("retries a failing handler with exponential backoff; the effect commits once, on the attempt that succeeds", async () => {
    const orderId = randomUUID();
    failuresLeft.set(orderId, 2);
    const event = await cancel(orderId);

    await until("completion", async () => ((await jobState(event.id)) === "completed" ? true : undefined));
    const times = attemptsAt.get(orderId) ?? [];
    expect(times).toHaveLength(3);
    // 100 ms before the second attempt, 200 ms before the third (timers may only run late).
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(90);
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBeGreaterThanOrEqual(190);
    // Failed attempts rolled back their insert, together with the processed-event record.
    expect(await effectsOf(orderId)).toBe(1);
  });

  it("sets the relay's retry policy on every job it publishes", async () => {
    const event = await cancel(randomUUID());
    const queue = new Queue(queueName("inventory"), { connection: redis, prefix });
    const job = await queue.getJob(event.id);
    await queue.close();
    expect(job?.opts).toMatchObject({ attempts: 3, backoff: { type: "exponential", delay: 100 } });
  });
});

describe("failed events", () => {
  it("keeps a job that exhausted its attempts, lists it for admins, and replays it once", async () => {
    const orderId = randomUUID();
    failuresLeft.set(orderId, 3);
    const event = await cancel(orderId);
    await until("the failed set", async () => ((await jobState(event.id)) === "failed" ? true : undefined));

    const page = await failed.list("inventory", { offset: 0, limit: 100 });
    const entry = page.events.find((e) => e.eventId === event.id);
    expect(entry).toMatchObject({
      consumer: "inventory",
      eventId: event.id,
      type: "OrderCancelled",
      attempts: 3,
      lastError: `payment gateway timeout for ${orderId}`,
      event,
    });
    expect(entry?.failedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(page.totalCount).toBeGreaterThanOrEqual(1);
    expect(await effectsOf(orderId)).toBe(0);

    // The cause is fixed (here: the handler stops failing); the admin replays the event.
    expect(await failed.replay("inventory", event.id)).toBe("REPLAYED");
    await until("completion", async () => ((await jobState(event.id)) === "completed" ? true : undefined));
    expect(await effectsOf(orderId)).toBe(1);
    expect(
      (await failed.list("inventory", { offset: 0, limit: 100 })).events.map((e) => e.eventId),
    ).not.toContain(event.id);
    expect(await failed.replay("inventory", event.id)).toBe("NOT_FAILED");
  });

  it("turns a failure after the commit into one retry that is a no-op, not a failed job", async () => {
    const orderId = randomUUID();
    failAfterCommit.add(orderId);
    const event = await cancel(orderId);
    await until("completion", async () => ((await jobState(event.id)) === "completed" ? true : undefined));
    expect(attemptsAt.get(orderId)).toHaveLength(1);
    expect(await effectsOf(orderId)).toBe(1);
    expect(
      await sql<{
        count: number;
      }>`SELECT count(*)::int AS count FROM processed_events WHERE event_id = ${event.id}`
        .execute(pg.db)
        .then((r) => r.rows[0]?.count),
    ).toBe(1);
  });

  it("pages newest first and answers NOT_FOUND for an event that is not in the queue", async () => {
    const ids = [randomUUID(), randomUUID()];
    const events = [];
    for (const id of ids) {
      failuresLeft.set(id, 3);
      const event = await cancel(id);
      await until("the failed set", async () => ((await jobState(event.id)) === "failed" ? true : undefined));
      events.push(event);
    }
    const first = await failed.list("inventory", { offset: 0, limit: 1 });
    const second = await failed.list("inventory", { offset: 1, limit: 1 });
    expect(first.events.map((e) => e.eventId)).toEqual([events[1]?.id]);
    expect(second.events.map((e) => e.eventId)).toEqual([events[0]?.id]);
    expect(first.totalCount).toBe(second.totalCount);
    expect((await failed.list("orders", { offset: 0, limit: 10 })).totalCount).toBe(0);
    expect(await failed.replay("inventory", randomUUID())).toBe("NOT_FOUND");
    expect(await failed.replay("orders", events[0]?.id ?? "")).toBe("NOT_FOUND");
  });
});
