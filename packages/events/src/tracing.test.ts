/**
 * Traces across the queue: an event written in a traced transaction is published in a span of
 * that trace, and consumed in a span under the publish span, the handler's queries beneath it.
 * With tracing off the outbox stores no trace context at all.
 */
import { startTelemetry } from "@nexus/core";
import { type CollectedSpan, SPAN_KIND, until } from "@nexus/testing";
import { trace } from "@opentelemetry/api";
import { Queue } from "bullmq";
import { sql } from "kysely";
import { expect, it } from "vitest";
import { startEventConsumer } from "./consumer.ts";
import type { EventEnvelope } from "./events.ts";
import { queueName } from "./events.ts";
import { appendToOutbox, startOutboxRelay } from "./outbox.ts";
import { type TracingDatabase, useTracingTestEnv } from "./tracing.fixture.ts";

const env = await useTracingTestEnv("tracing");

const reserved = (orderId: string) => ({ orderId });

async function storedPayload(id: string): Promise<unknown> {
  const row = await env.pg.db
    .selectFrom("outbox")
    .select("payload")
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  return row.payload;
}

it("stores no trace context while tracing is off", async () => {
  const event = await env.pg.db
    .transaction()
    .execute((trx) => appendToOutbox(trx, "InventoryReserved", "order-0", reserved("order-0")));
  expect(await storedPayload(event.id)).toEqual({ orderId: "order-0" });
  expect(event.trace).toBeUndefined();
  await env.pg.db.deleteFrom("outbox").execute();
});

it("links the producing transaction, the publish and the consumer's effect in one trace", async () => {
  const stopTelemetry = await startTelemetry("events-test", {
    OTEL_EXPORTER_OTLP_ENDPOINT: env.collector.endpoint,
  });
  let spans: CollectedSpan[] = [];
  const relay = startOutboxRelay({
    db: env.pg.db,
    redis: env.redis,
    prefix: env.prefix,
    logger: env.logger,
    pollIntervalMs: 60_000,
  });
  const consumer = startEventConsumer<TracingDatabase>({
    consumer: "orders",
    db: env.pg.db,
    redis: env.redis,
    prefix: env.prefix,
    logger: env.logger,
    handlers: {
      InventoryReserved: async (trx, event) => {
        await sql`SELECT ${event.payload.orderId}::text AS handled`.execute(trx);
      },
    },
  });
  let event: EventEnvelope | undefined;
  let requestSpanId = "";
  let jobTraceparent: string | undefined;
  try {
    await trace.getTracer("test").startActiveSpan("request", async (span) => {
      requestSpanId = span.spanContext().spanId;
      event = await env.pg.db
        .transaction()
        .execute((trx) => appendToOutbox(trx, "InventoryReserved", "order-1", reserved("order-1")));
      // The row keeps the context of the transaction that wrote it ...
      expect(await storedPayload(event.id)).toEqual({
        orderId: "order-1",
        $trace: { traceparent: `00-${span.spanContext().traceId}-${requestSpanId}-01` },
      });
      await relay.flush();
      span.end();
    });
    const id = event?.id ?? "";
    await until("the event consumed", async () =>
      (await env.pg.db
        .selectFrom("processed_events")
        .select("event_id")
        .where("event_id", "=", id)
        .executeTakeFirst())
        ? true
        : undefined,
    );
    // ... and the job carries the payload without it, and the publish span's context instead.
    const queue = new Queue<EventEnvelope>(queueName("orders"), {
      connection: env.redis,
      prefix: env.prefix,
    });
    const job = await queue.getJob(id);
    await queue.close();
    expect(job?.data.payload).toEqual({ orderId: "order-1" });
    jobTraceparent = job?.data.trace?.traceparent;
  } finally {
    await consumer.stop();
    await relay.stop();
    await stopTelemetry(); // flushes to the collector
    spans = env.collector.spans;
  }

  const request = spans.find((span) => span.spanId === requestSpanId);
  expect(request).toBeDefined();
  const inTrace = spans.filter((span) => span.traceId === request?.traceId);
  const publish = inTrace.find((span) => span.name === "publish InventoryReserved");
  expect(publish).toMatchObject({
    kind: SPAN_KIND.PRODUCER,
    parentSpanId: requestSpanId,
    attributes: { "messaging.system": "bullmq", "messaging.message.id": event?.id },
  });
  expect(jobTraceparent).toBe(`00-${publish?.traceId}-${publish?.spanId}-01`);
  const process = inTrace.find((span) => span.name === "process InventoryReserved");
  expect(process).toMatchObject({
    kind: SPAN_KIND.CONSUMER,
    parentSpanId: publish?.spanId,
    attributes: { "messaging.destination.name": "events.orders", "nexus.event.attempt": 1 },
  });
  const handled = inTrace.find((span) => String(span.attributes["db.query.text"]).includes("AS handled"));
  expect(handled?.attributes["db.system.name"]).toBe("postgresql");
  // The handler's query runs in the consumer's transaction, under the consumer span.
  const byId = new Map(inTrace.map((span) => [span.spanId, span]));
  let ancestor = handled;
  while (ancestor && ancestor !== process) ancestor = byId.get(ancestor.parentSpanId ?? "");
  expect(ancestor).toBe(process);
  // The relay's queue writes sit in a batch span of their own, linked to the publish span.
  const batch = spans.find((span) => span.name === "outbox relay");
  expect(batch?.links).toEqual([{ traceId: request?.traceId, spanId: publish?.spanId }]);
  expect(
    spans.some(
      (span) => span.parentSpanId === batch?.spanId && span.attributes["db.system.name"] === "redis",
    ),
  ).toBe(true);
});
