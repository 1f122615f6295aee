import { contextFromCarrier, type TraceCarrier, traceCarrier } from "@nexus/core";
import {
  context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { Consumer, EventEnvelope } from "./events.ts";
import { queueName } from "./events.ts";

/**
 * Traces across the queue. The outbox row keeps the trace context of the transaction that wrote
 * it; the relay publishes each event in a PRODUCER span that is a child of that context and
 * sends the publish span's context on the job; the consumer applies the event in a CONSUMER span
 * that is a child of the publish span. So one trace runs from the request that caused an event to
 * every effect of it, including events a consumer writes in turn (its outbox rows are written
 * inside the consumer span). A child rather than a span link, because each event is processed
 * on its own: the trace then shows the whole flow in one tree, and retries appear as further
 * CONSUMER spans under the same publish span. With tracing off every call here is the no-op API
 * and no trace context is stored.
 */
const tracer = trace.getTracer("nexus.events");

/**
 * The key under which an outbox row's `payload` carries its trace context. The outbox has no
 * metadata column, and adding one would be a migration of every producer's outbox for a field
 * only the relay reads, so it rides in the JSON: `$` starts no payload field name. The relay
 * takes it out again; no consumer sees it in `payload`.
 */
export const OUTBOX_TRACE_KEY = "$trace";

/** The payload as the outbox stores it: with the active trace context when there is one. */
export function payloadWithTrace(payload: object): string {
  const carrier = traceCarrier();
  return JSON.stringify(carrier ? { ...payload, [OUTBOX_TRACE_KEY]: carrier } : payload);
}

/** An outbox row's payload split into the event's payload and the trace context stored with it. */
export function splitStoredPayload(stored: unknown): { payload: unknown; trace: TraceCarrier | undefined } {
  if (typeof stored !== "object" || stored === null || !(OUTBOX_TRACE_KEY in stored)) {
    return { payload: stored, trace: undefined };
  }
  const { [OUTBOX_TRACE_KEY]: carrier, ...payload } = stored as Record<string, unknown>;
  return { payload, trace: isCarrier(carrier) ? carrier : undefined };
}

function isCarrier(value: unknown): value is TraceCarrier {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { traceparent?: unknown }).traceparent === "string" &&
    ["string", "undefined"].includes(typeof (value as { tracestate?: unknown }).tracestate)
  );
}

/**
 * Starts the PRODUCER span of one event's publish, a child of the context its outbox row
 * carries (none when the row carries none), and returns it with the context to send on the job.
 */
export function startPublishSpan(
  event: EventEnvelope,
  stored: TraceCarrier | undefined,
  consumers: readonly Consumer[],
): { span: Span | undefined; trace: TraceCarrier | undefined } {
  if (!stored) return { span: undefined, trace: undefined };
  const span = tracer.startSpan(
    `publish ${event.type}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        "messaging.system": "bullmq",
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.destination.name": consumers.map(queueName).join(","),
        "messaging.message.id": event.id,
        "nexus.event.type": event.type,
      },
    },
    contextFromCarrier(stored),
  );
  return { span, trace: traceCarrier(trace.setSpan(ROOT_CONTEXT, span)) };
}

/** Ends publish spans, as failed when `error` is given. */
export function endSpans(spans: readonly (Span | undefined)[], error?: unknown): void {
  for (const span of spans) {
    if (!span) continue;
    if (error !== undefined) fail(span, error);
    span.end();
  }
}

/**
 * Runs a relay batch's queue writes and row update in one span linked to each event's publish
 * span, so the Redis and PostgreSQL spans they make belong somewhere. Without publish spans
 * (tracing off, or rows without trace context) it just runs.
 */
export async function inRelayBatchSpan<T>(
  publishSpans: readonly (Span | undefined)[],
  run: () => Promise<T>,
): Promise<T> {
  const links: Link[] = publishSpans.flatMap((span) => (span ? [{ context: span.spanContext() }] : []));
  return inBatchSpan("outbox relay", links, publishSpans.length, run);
}

/** `run` in a new root INTERNAL span linked to a batch's spans; just `run` when none is recorded. */
async function inBatchSpan<T>(name: string, links: Link[], count: number, run: () => Promise<T>): Promise<T> {
  if (links.length === 0) return run();
  return tracer.startActiveSpan(
    name,
    { kind: SpanKind.INTERNAL, links, attributes: { "messaging.batch.message_count": count } },
    ROOT_CONTEXT,
    async (span) => {
      try {
        return await run();
      } catch (error) {
        fail(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** One delivery's CONSUMER span, ended by its owner once the delivery is settled. */
export interface ConsumerSpan {
  /** Runs `run` with the span active, so its queries and the events it writes join the trace. */
  within<T>(run: () => Promise<T>): Promise<T>;
  /** Ends the span, as failed when `error` is given. */
  end(error?: unknown): void;
  /** For links from the span of the batch the event was applied in. */
  link: Link;
}

/**
 * Starts the CONSUMER span of one delivery of an event, a child of the publish span whose
 * context the job carries (a root span when it carries none). A batch of events gets one each:
 * the effect of each event and what it publishes in turn belong to that event's trace.
 */
export function startConsumerSpan(consumer: Consumer, event: EventEnvelope, attempt: number): ConsumerSpan {
  const parent = contextFromCarrier(isCarrier(event.trace) ? event.trace : undefined);
  const span = tracer.startSpan(
    `process ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "bullmq",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": queueName(consumer),
        "messaging.message.id": event.id,
        "nexus.event.type": event.type,
        "nexus.event.attempt": attempt,
      },
    },
    parent,
  );
  const active = trace.setSpan(parent, span);
  return {
    link: { context: span.spanContext() },
    within: (run) => context.with(active, run),
    end(error) {
      if (error !== undefined) fail(span, error);
      span.end();
    },
  };
}

/**
 * Runs the transaction of a consumer batch of several events (its claim in `processed_events`
 * and its commit) in an INTERNAL span linked to each event's CONSUMER span, as the relay's batch
 * span is to the publish spans, so those queries belong somewhere. Without recording spans
 * (tracing off) it just runs.
 */
export async function inConsumerBatchSpan<T>(
  consumer: Consumer,
  spans: readonly ConsumerSpan[],
  run: () => Promise<T>,
): Promise<T> {
  const links = spans.map((span) => span.link).filter((link) => trace.isSpanContextValid(link.context));
  return inBatchSpan(`process batch ${queueName(consumer)}`, links, spans.length, run);
}

/** Runs `run` outside any trace, so work shared by many callers is not put into one caller's trace. */
export function untraced<T>(run: () => T): T {
  return context.with(ROOT_CONTEXT, run);
}

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
