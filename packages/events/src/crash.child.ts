/**
 * A process for the pipeline crash tests to kill (test-only): runs the outbox relay or a batching
 * consumer until its parent disconnects, or until a NEXUS_FAILPOINT makes it SIGKILL itself.
 *
 *   node crash.child.ts relay      relays the outbox of CRASH_PRODUCER_DATABASE_URL
 *   node crash.child.ts consumer   consumes `events.insights` into CRASH_CONSUMER_DATABASE_URL
 */
import { createLogger } from "@nexus/core";
import { connectRedis, createPostgresDb } from "@nexus/stores";
import { requiredEnv as env, serveUntilParentLeaves } from "@nexus/testing/crash-child";
import { sql } from "kysely";
import { type ProcessedEventsDatabase, startEventConsumer } from "./consumer.ts";
import { type OutboxDatabase, startOutboxRelay } from "./outbox.ts";

const role = process.argv[2];
const logger = createLogger("crash-child", "silent");
const redis = await connectRedis(env("REDIS_URL"));
const prefix = env("EVENTS_PREFIX");
const stops: (() => Promise<unknown>)[] = [];

if (role === "relay") {
  const db = createPostgresDb<OutboxDatabase>(env("CRASH_PRODUCER_DATABASE_URL"));
  // Small batches, so a kill mid-drain leaves some batches published and others not.
  const relay = startOutboxRelay({ db, redis, prefix, logger, pollIntervalMs: 50, batchSize: 25 });
  stops.push(
    () => relay.stop(),
    () => db.destroy(),
  );
} else if (role === "consumer") {
  const db = createPostgresDb<ProcessedEventsDatabase>(env("CRASH_CONSUMER_DATABASE_URL"));
  const consumer = startEventConsumer<ProcessedEventsDatabase>({
    consumer: "insights",
    db,
    redis,
    prefix,
    logger,
    concurrency: 32,
    batchSize: 16,
    handlers: {
      // The effect: one row per application, so an event applied twice shows as two rows.
      CartUpdated: async (trx, event) => {
        await sql`INSERT INTO effects (event_id, aggregate_id) VALUES (${event.id}, ${event.aggregateId})`.execute(
          trx,
        );
      },
    },
    // Short locks so a dead worker's jobs are recovered in about a second, not BullMQ's 30 s.
    lockDurationMs: 1000,
    stalledIntervalMs: 300,
  });
  stops.push(
    () => consumer.stop(),
    () => db.destroy(),
  );
} else {
  throw new Error(`unknown role ${role}`);
}

// The parent going away (test finished, or crashed itself) ends this process too: no orphans.
serveUntilParentLeaves([...stops, () => redis.disconnect()]);
