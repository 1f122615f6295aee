/**
 * What the tracing test files share (each is a file of its own, since telemetry starts once per
 * test process): one database with the outbox and processed_events, Redis under a prefix of its
 * own, and an OTLP collector that the test points telemetry at.
 */
import { createLogger } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  createTestPostgres,
  deleteRedisKeys,
  startOtlpCollector,
  TEST_REDIS_URL,
  type TestPostgres,
  testRedisPrefix,
} from "@nexus/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { createProcessedEventsMigration, type ProcessedEventsDatabase } from "./consumer.ts";
import { createOutboxMigration, type OutboxDatabase } from "./outbox.ts";

export type TracingDatabase = OutboxDatabase & ProcessedEventsDatabase;

export interface TracingTestEnv {
  prefix: string;
  logger: ReturnType<typeof createLogger>;
  collector: Awaited<ReturnType<typeof startOtlpCollector>>;
  /** Set before the first test runs. */
  pg: TestPostgres<TracingDatabase>;
  redis: Redis;
}

/** Call at the top of a test file: sets the environment up before its tests and removes it after. */
export async function useTracingTestEnv(name: string): Promise<TracingTestEnv> {
  const env = {
    prefix: testRedisPrefix(name),
    logger: createLogger(`${name}-test`, "silent"),
    collector: await startOtlpCollector(),
  } as TracingTestEnv;
  beforeAll(async () => {
    env.pg = await createTestPostgres<TracingDatabase>(`event_${name.replaceAll("-", "_")}`, {
      "0001_outbox": createOutboxMigration,
      "0002_processed_events": createProcessedEventsMigration,
    });
    env.redis = await connectRedis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteRedisKeys(env.redis, [env.prefix]);
    env.redis.disconnect();
    await env.pg.drop();
    await env.collector.close();
  });
  return env;
}
