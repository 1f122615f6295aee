/**
 * Traces of a consumer batch: each event keeps its CONSUMER span, and the batch's own queries
 * (its claim in processed_events, its commit) run in a batch span linked to them. A file of its
 * own, since telemetry is started once per test process.
 */
import { startTelemetry } from "@nexus/core";
import { type CollectedSpan, SPAN_KIND, until } from "@nexus/testing";
import { trace } from "@opentelemetry/api";
import { sql } from "kysely";
import { expect, it } from "vitest";
import { startEventConsumer } from "./consumer.ts";
import type { EventEnvelope } from "./events.ts";
import { appendToOutbox, startOutboxRelay } from "./outbox.ts";
import { type TracingDatabase, useTracingTestEnv } from "./tracing.fixture.ts";

const env = await useTracingTestEnv("batch-tracing");

const reserved = (orderId: string) => ({ orderId });

it("runs a batch's claim and commit in a batch span linked to each of its events' consumer spans", async () => {
  const stopTelemetry = await startTelemetry("events-test", {
    OTEL_EXPORTER_OTLP_ENDPOINT: env.collector.endpoint,
  });
  const relay = startOutboxRelay({
    db: env.pg.db,
    redis: env.redis,
    prefix: env.prefix,
    logger: env.logger,
    pollIntervalMs: 60_000,
  });
  const events: EventEnvelope[] = [];
  let spans: CollectedSpan[] = [];
  try {
    await trace.getTracer("test").startActiveSpan("request", async (span) => {
      for (const orderId of ["order-2", "order-3", "order-4"]) {
        events.push(
          await env.pg.db
            .transaction()
            .execute((trx) => appendToOutbox(trx, "InventoryReserved", orderId, reserved(orderId))),
        );
      }
      span.end();
    });
    // Every job is queued before the consumer starts, so they are taken in one batch.
    await relay.flush();
    const consumer = startEventConsumer<TracingDatabase>({
      consumer: "orders",
      db: env.pg.db,
      redis: env.redis,
      prefix: env.prefix,
      logger: env.logger,
      handlers: { InventoryReserved: async () => {} },
    });
    try {
      await until("the events consumed", async () => {
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM processed_events
          WHERE event_id IN (${sql.join(events.map((event) => event.id))})`.execute(env.pg.db);
        return rows[0]?.n === events.length;
      });
    } finally {
      await consumer.stop();
    }
  } finally {
    await relay.stop();
    await stopTelemetry();
    spans = env.collector.spans;
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
