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
import type { Redis } from "ioredis";
import { type Generated, sql, type Transaction } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { applyEventBatch } from "./batch.ts";
import {
  applyEventOnce,
  createProcessedEventsMigration,
  type EventHandlers,
  type ProcessedEventsDatabase,
  startEventConsumer,
} from "./consumer.ts";
import type { EventEnvelope } from "./events.ts";
import {
  appendManyToOutbox,
  createOutboxMigration,
  type OutboxDatabase,
  startOutboxRelay,
} from "./outbox.ts";

/** Consumer batches: one transaction for many events, each still applied once, failures alone. */

interface EffectsTable {
  /** Order of insertion. */
  n: Generated<number>;
  event_id: string;
  aggregate_id: string;
  seq: number;
  txid: string;
}
type TestDatabase = OutboxDatabase & ProcessedEventsDatabase & { effects: EffectsTable };

let pg: TestPostgres<TestDatabase>;
let redis: Redis;
const logger = createLogger("batch-test", "silent");
/** Event ids whose handler throws, after writing its effect, this many more times. */
const failuresLeft = new Map<string, number>();
const calls: string[] = [];

beforeAll(async () => {
  pg = await createTestPostgres<TestDatabase>("events_batch", {
    "0001_outbox": createOutboxMigration,
    "0002_processed_events": createProcessedEventsMigration,
    "0003_effects": {
      async up(db) {
        await sql`CREATE TABLE effects (n serial, event_id uuid NOT NULL, aggregate_id text NOT NULL, seq int NOT NULL,
          txid text NOT NULL)`.execute(db);
      },
    },
  });
  redis = await connectRedis(TEST_REDIS_URL);
});

afterAll(async () => {
  redis?.disconnect();
  await pg?.drop();
});

beforeEach(async () => {
  await sql`TRUNCATE outbox, processed_events, effects`.execute(pg.db);
  failuresLeft.clear();
  calls.length = 0;
});

/** Records the effect with the transaction it ran in; throws for the events told to. */
async function recordEffect(trx: Transaction<TestDatabase>, event: EventEnvelope<"CartUpdated">) {
  calls.push(event.id);
  const { rows } = await sql<{ txid: string }>`SELECT txid_current()::text AS txid`.execute(trx);
  await trx
    .insertInto("effects")
    .values({
      event_id: event.id,
      aggregate_id: event.aggregateId,
      seq: event.payload.lines[0]?.quantity ?? 0,
      txid: rows[0]?.txid ?? "",
    })
    .execute();
  const left = failuresLeft.get(event.id) ?? 0;
  if (left > 0) {
    failuresLeft.set(event.id, left - 1);
    throw new Error(`handler of ${event.id} failed`);
  }
}

const handlers: EventHandlers<TestDatabase> = { CartUpdated: recordEffect };

function cartUpdated(aggregateId: string, seq: number, occurredAt: Date): EventEnvelope<"CartUpdated"> {
  return {
    id: randomUUID(),
    type: "CartUpdated",
    aggregateId,
    occurredAt: occurredAt.toISOString(),
    payload: {
      customerId: aggregateId,
      currencyCode: "EUR",
      lines: [{ productId: "p", quantity: seq, unitPrice: 100 }],
    },
  };
}

const effects = () => pg.db.selectFrom("effects").selectAll().orderBy("seq").execute();
const processedIds = async () =>
  (await pg.db.selectFrom("processed_events").select("event_id").execute()).map((row) => row.event_id).sort();

describe("applyEventBatch", () => {
  it("applies a batch in one transaction, an aggregate's events in occurredAt order, a repeat not at all", async () => {
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
    const second = cartUpdated("a", 2, at(20));
    const first = cartUpdated("a", 1, at(10));
    const other = cartUpdated("b", 1, at(15));
    const earlier = cartUpdated("c", 1, at(5));
    expect(await applyEventOnce(pg.db, handlers, earlier)).toBe(true);
    calls.length = 0;

    const outcomes = await applyEventBatch(pg.db, handlers, [second, earlier, other, first]);

    expect(Object.fromEntries(outcomes)).toEqual({
      [first.id]: { status: "applied" },
      [second.id]: { status: "applied" },
      [other.id]: { status: "applied" },
      [earlier.id]: { status: "duplicate" },
    });
    expect(calls).toEqual([first.id, other.id, second.id]);
    const rows = await effects();
    expect(rows.filter((row) => row.event_id !== earlier.id).map((row) => row.txid)).toEqual(
      Array(3).fill(rows.find((row) => row.event_id === first.id)?.txid),
    );
    expect(await processedIds()).toEqual([first.id, second.id, other.id, earlier.id].sort());
  });

  it("undoes a failing handler's effect and claim only; the others in its batch commit once", async () => {
    const now = new Date();
    const events = [cartUpdated("a", 1, now), cartUpdated("b", 1, now), cartUpdated("c", 1, now)];
    const [ok1, failing, ok2] = events as [EventEnvelope, EventEnvelope, EventEnvelope];
    failuresLeft.set(failing.id, 2);

    const outcomes = await applyEventBatch(pg.db, handlers, events);

    expect(outcomes.get(ok1.id)).toEqual({ status: "applied" });
    expect(outcomes.get(ok2.id)).toEqual({ status: "applied" });
    expect(outcomes.get(failing.id)).toMatchObject({
      status: "failed",
      error: new Error(`handler of ${failing.id} failed`),
    });
    expect((await effects()).map((row) => row.event_id).sort()).toEqual([ok1.id, ok2.id].sort());
    expect(await processedIds()).toEqual([ok1.id, ok2.id].sort());

    // A later delivery of the failed event applies it; the others are repeats.
    const again = await applyEventBatch(pg.db, handlers, events);
    expect([...again.values()].map((outcome) => outcome.status).sort()).toEqual([
      "applied",
      "duplicate",
      "duplicate",
    ]);
    expect((await effects()).map((row) => row.event_id).sort()).toEqual([ok1.id, failing.id, ok2.id].sort());
  });

  it("rejects with nothing committed when a lone event's handler fails", async () => {
    const event = cartUpdated("a", 1, new Date());
    failuresLeft.set(event.id, 1);
    await expect(applyEventBatch(pg.db, handlers, [event])).rejects.toThrow(`handler of ${event.id} failed`);
    expect(await effects()).toEqual([]);
    expect(await processedIds()).toEqual([]);
  });
});

describe("startEventConsumer with batches", () => {
  it("applies every event once through the queue, in shared transactions, retrying a failure alone", async () => {
    const prefix = testRedisPrefix("batch");
    const relay = startOutboxRelay({
      db: pg.db,
      redis,
      prefix,
      logger,
      pollIntervalMs: 60_000,
      retry: { attempts: 3, backoffMs: 50 },
    });
    const committed: string[] = [];
    const consumer = startEventConsumer<TestDatabase>({
      consumer: "insights",
      db: pg.db,
      redis,
      prefix,
      logger,
      handlers,
      concurrency: 16,
      batchSize: 8,
      afterCommit: async (event) => {
        committed.push(event.id);
      },
    });
    try {
      const now = Date.now();
      // 10 aggregates with 6 events each, written in order within each aggregate.
      const entries = Array.from({ length: 60 }, (_, index) => ({
        type: "CartUpdated" as const,
        aggregateId: `agg-${index % 10}`,
        payload: {
          customerId: `agg-${index % 10}`,
          currencyCode: "EUR",
          lines: [{ productId: "p", quantity: Math.floor(index / 10) + 1, unitPrice: 100 }],
        },
        occurredAt: new Date(now + index),
      }));
      const events = await pg.db.transaction().execute((trx) => appendManyToOutbox(trx, entries));
      const poisoned = events[25]?.id ?? "";
      // Fails the batch's first pass and its own savepoint in the second: BullMQ retries it.
      failuresLeft.set(poisoned, 2);
      await relay.flush();

      await until(
        "every event applied",
        async () => (await processedIds()).length === 60 && committed.length === 60,
      );
      const rows = await effects();
      // Once each (the failed attempt left nothing), and each effect's afterCommit once.
      expect(rows.map((row) => row.event_id).sort()).toEqual(events.map((event) => event.id).sort());
      expect([...committed].sort()).toEqual(events.map((event) => event.id).sort());
      expect(calls.filter((id) => id === poisoned).length).toBe(3);
      // Batches: fewer transactions than events.
      expect(new Set(rows.map((row) => row.txid)).size).toBeLessThan(60);
      // Aggregates other than the retried event's applied in the order written.
      const poisonedAggregate = events[25]?.aggregateId;
      for (let aggregate = 0; aggregate < 10; aggregate++) {
        const id = `agg-${aggregate}`;
        if (id === poisonedAggregate) continue;
        const applied = (
          await pg.db
            .selectFrom("effects")
            .select("seq")
            .where("aggregate_id", "=", id)
            .orderBy("n")
            .execute()
        ).map((row) => row.seq);
        expect(applied).toEqual([1, 2, 3, 4, 5, 6]);
      }
    } finally {
      await consumer.stop();
      await relay.stop();
      await deleteRedisKeys(redis, [prefix]);
    }
  });
});
