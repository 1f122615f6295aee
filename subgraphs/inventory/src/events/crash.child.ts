/**
 * A process for the crash tests to kill (test-only): runs one part of the event pipeline until
 * its parent disconnects, or until a NEXUS_FAILPOINT makes it SIGKILL itself.
 *
 *   node crash.child.ts relay      relays the outbox of CRASH_PRODUCER_DATABASE_URL
 *   node crash.child.ts consumer   runs the inventory consumer (and its relay) on CRASH_INVENTORY_DATABASE_URL
 */
import { createLogger } from "@nexus/core";
import { createOutboxMigration, type OutboxDatabase, startOutboxRelay } from "@nexus/events";
import { connectRedis, openPostgres } from "@nexus/stores";
import { requiredEnv as env, serveUntilParentLeaves } from "@nexus/testing/crash-child";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { startInventoryConsumer } from "./inventory.consumer.ts";

const role = process.argv[2];
const logger = createLogger("crash-child", "silent");
const redis = await connectRedis(env("REDIS_URL"));
const prefix = env("EVENTS_PREFIX");
const stops: (() => Promise<unknown>)[] = [];

if (role === "relay") {
  const db = await openPostgres<OutboxDatabase>(env("CRASH_PRODUCER_DATABASE_URL"), {
    "0001_outbox": createOutboxMigration,
  });
  const relay = startOutboxRelay({ db, redis, prefix, logger, pollIntervalMs: 50 });
  stops.push(
    () => relay.stop(),
    () => db.destroy(),
  );
} else if (role === "consumer") {
  const db = await openPostgres<Database>(env("CRASH_INVENTORY_DATABASE_URL"), migrations);
  const relay = startOutboxRelay({ db, redis, prefix, logger, pollIntervalMs: 50 });
  const consumer = startInventoryConsumer({
    db,
    redis,
    prefix,
    logger,
    relay,
    reservationTtlSeconds: 900,
    alerts: { lowStockThreshold: 5 },
    // As many jobs in flight as production runs (EVENT_CONCURRENCY), when asked.
    concurrency: Number(process.env.CRASH_CONSUMER_CONCURRENCY ?? 4),
    // Short locks so a dead worker's job is recovered in about a second, not BullMQ's 30 s.
    lockDurationMs: 1000,
    stalledIntervalMs: 300,
  });
  stops.push(
    () => consumer.stop(),
    () => relay.stop(),
    () => db.destroy(),
  );
} else {
  throw new Error(`unknown role ${role}`);
}

// The parent going away (test finished, or crashed itself) ends this process too: no orphans.
serveUntilParentLeaves([...stops, () => redis.disconnect()]);
