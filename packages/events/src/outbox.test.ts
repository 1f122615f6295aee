import { createLogger } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  createTestPostgres,
  deleteRedisKeys,
  TEST_REDIS_URL,
  type TestPostgres,
  testRedisPrefix,
} from "@nexus/testing";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueName } from "./events.ts";
import {
  appendManyToOutbox,
  appendToOutbox,
  createOutboxMigration,
  type OutboxDatabase,
  type OutboxEntry,
  startOutboxRelay,
} from "./outbox.ts";

let pg: TestPostgres<OutboxDatabase>;
let redis: Redis;
const prefix = testRedisPrefix("outbox");
const logger = createLogger("outbox-test", "silent");

beforeAll(async () => {
  pg = await createTestPostgres<OutboxDatabase>("outbox", { "0001_outbox": createOutboxMigration });
  redis = await connectRedis(TEST_REDIS_URL);
});

afterAll(async () => {
  await deleteRedisKeys(redis, [prefix]);
  redis.disconnect();
  await pg.drop();
});

const placed = (orderId: string) => ({
  orderId,
  customerId: "00000000-0000-4000-8000-000000000001",
  currencyCode: "USD",
  lines: [{ productId: "6955b9006e657802000000aa", quantity: 2, unitPrice: 1999 }],
});

describe("outbox relay", () => {
  it("publishes committed events to every subscriber queue once, with the event id as job id", async () => {
    const events = await pg.db
      .transaction()
      .execute(async (trx) => [
        await appendToOutbox(trx, "OrderPlaced", "order-1", placed("order-1")),
        await appendToOutbox(trx, "OrderPlaced", "order-2", placed("order-2")),
      ]);
    await pg.db
      .transaction()
      .execute(async (trx) => {
        await appendToOutbox(trx, "OrderPlaced", "order-3", placed("order-3"));
        throw new Error("roll back");
      })
      .catch(() => {});

    const relay = startOutboxRelay({ db: pg.db, redis, prefix, logger, pollIntervalMs: 60_000 });
    try {
      // Concurrent flushes share work: every event is published exactly once.
      const counts = await Promise.all([relay.flush(), relay.flush(), relay.flush()]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(2);
      expect(await relay.flush()).toBe(0);
    } finally {
      await relay.stop();
    }

    for (const consumer of ["inventory", "insights"] as const) {
      const queue = new Queue(queueName(consumer), { connection: redis, prefix });
      const jobs = await queue.getJobs(["waiting"]);
      expect(jobs.map((job) => job.id).sort()).toEqual(events.map((e) => e.id).sort());
      expect(jobs.find((job) => job.id === events[0]?.id)?.data).toEqual(events[0]);
      await queue.close();
    }
    const orders = new Queue(queueName("orders"), { connection: redis, prefix });
    expect(await orders.getJobCounts("waiting")).toEqual({ waiting: 0 });
    await orders.close();

    const unpublished = await pg.db
      .selectFrom("outbox")
      .select("id")
      .where("published_at", "is", null)
      .execute();
    expect(unpublished).toEqual([]);
  });
});

describe("appendManyToOutbox", () => {
  it("writes every event in the caller's transaction, in more than one statement when there are many", async () => {
    await pg.db.deleteFrom("outbox").execute();
    const at = new Date("2011-03-04T10:15:00.000Z");
    const entries: OutboxEntry[] = Array.from({ length: 2500 }, (_, i) => ({
      type: "OrderConfirmed",
      aggregateId: `order-${i}`,
      payload: { orderId: `order-${i}` },
      occurredAt: at,
    }));
    entries.push({ type: "OrderPlaced", aggregateId: "order-x", payload: placed("order-x") });

    const before = Date.now();
    const events = await pg.db.transaction().execute((trx) => appendManyToOutbox(trx, entries));
    expect(events).toHaveLength(2501);
    expect(new Set(events.map((event) => event.id)).size).toBe(2501);
    expect(events[0]).toEqual({
      id: events[0]?.id,
      type: "OrderConfirmed",
      aggregateId: "order-0",
      occurredAt: at.toISOString(),
      payload: { orderId: "order-0" },
    });
    // Without occurredAt, an event happened now.
    expect(Date.parse(events[2500]?.occurredAt ?? "")).toBeGreaterThanOrEqual(before);

    const rows = await pg.db.selectFrom("outbox").selectAll().execute();
    expect(rows).toHaveLength(2501);
    const last = rows.find((row) => row.id === events[2500]?.id);
    expect(last).toMatchObject({ type: "OrderPlaced", aggregate_id: "order-x", payload: placed("order-x") });
    expect(last?.occurred_at.toISOString()).toBe(events[2500]?.occurredAt);
    expect(rows.find((row) => row.id === events[1]?.id)?.occurred_at).toEqual(at);

    // A transaction that rolls back leaves none of them.
    await pg.db
      .transaction()
      .execute(async (trx) => {
        await appendManyToOutbox(trx, entries.slice(0, 10));
        throw new Error("roll back");
      })
      .catch(() => {});
    expect(await pg.db.selectFrom("outbox").select("id").execute()).toHaveLength(2501);
    expect(await pg.db.transaction().execute((trx) => appendManyToOutbox(trx, []))).toEqual([]);
  });
});
