/**
 * Traces of a consumer batch: each event keeps its CONSUMER span, and the batch's own queries
 * (its claim in processed_events, its commit) run in a batch span linked to them. A file of its
 * own, since telemetry is started once per test process.
 */
import { createLogger, startTelemetry } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  type CollectedSpan,
  createTestPostgres,
  SPAN_KIND,
  startOtlpCollector,
  TEST_REDIS_URL,
  type TestPostgres,
  testRedisPrefix,
  until,
} from "@nexus/testing";
import { trace } from "@opentelemetry/api";
import type { Redis } from "ioredis";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  createProcessedEventsMigration,
  type ProcessedEventsDatabase,
  startEventConsumer,
} from "./consumer.ts";
import type { EventEnvelope } from "./events.ts";
import { appendToOutbox, createOutboxMigration, type OutboxDatabase, startOutboxRelay } from "./outbox.ts";

type Database = OutboxDatabase & ProcessedEventsDatabase;

let pg: TestPostgres<Database>;
let redis: Redis;
const prefix = testRedisPrefix("batch-tracing");
const logger = createLogger("batch-tracing-test", "silent");
const collector = await startOtlpCollector();

beforeAll(async () => {
  pg = await createTestPostgres<Database>("event_batch_tracing", {
    "0001_outbox": createOutboxMigration,
    "0002_processed_events": createProcessedEventsMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await pg.drop();
  await collector.close();
});

const reserved = (orderId: string) => ({ orderId });

it("runs a batch's claim and commit in a batch span linked to each of its events' consumer spans", async () => {
  const stopTelemetry = await startTelemetry("events-test", {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
  });
  const relay = startOutboxRelay({ db: pg.db, redis, prefix, logger, pollIntervalMs: 60_000 });
  const events: EventEnvelope[] = [];
  let spans: CollectedSpan[] = [];
  try {
    await trace.getTracer("test").startActiveSpan("request", async (span) => {
      for (const orderId of ["order-2", "order-3", "order-4"]) {
        events.push(
          await pg.db
            .transaction()
            .execute((trx) => appendToOutbox(trx, "InventoryReserved", orderId, reserved(orderId))),
        );
      }
      span.end();
    });
    // Every job is queued before the consumer starts, so they are taken in one batch.
    await relay.flush();
    const consumer = startEventConsumer<Database>({
      consumer: "orders",
      db: pg.db,
      redis,
      prefix,
      logger,
      handlers: { InventoryReserved: async () => {} },
    });
    try {
      await until("the events consumed", async () => {
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM processed_events
          WHERE event_id IN (${sql.join(events.map((event) => event.id))})`.execute(pg.db);
        return rows[0]?.n === events.length;
      });
    } finally {
      await consumer.stop();
    }
  } finally {
    await relay.stop();
    await stopTelemetry();
    spans = collector.spans;
  }

  const processSpans = spans.filter((span) => span.name === "process InventoryReserved");
  expect(processSpans).toHaveLength(3);
  const links = processSpans.map((span) => ({ traceId: span.traceId, spanId: span.spanId }));
  // The worker may hand the first job over alone; the others then make a batch.
  const batches = spans.filter((span) => span.name === "process batch events.orders");
  expect(batches.length).toBeGreaterThan(0);
  for (const batch of batches) {
    expect(batch.kind).toBe(SPAN_KIND.INTERNAL);
    expect(batch.links.length).toBeGreaterThan(1);
    expect(links).toEqual(expect.arrayContaining(batch.links));
  }
  // Every claim runs in a batch span, or in the span of the event it claims alone.
  const owners = new Set([...batches, ...processSpans].map((span) => span.spanId));
  const claims = spans.filter((span) =>
    String(span.attributes["db.query.text"]).includes('insert into "processed_events"'),
  );
  expect(claims.length).toBeGreaterThan(0);
  for (const claim of claims) expect(owners.has(claim.parentSpanId ?? "")).toBe(true);
  expect(claims.some((claim) => batches.some((batch) => batch.spanId === claim.parentSpanId))).toBe(true);
});
