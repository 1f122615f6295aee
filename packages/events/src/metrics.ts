import type { SubgraphMetrics } from "@nexus/core";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { Gauge, Histogram, type Registry } from "prom-client";
import { type Consumer, type EventEnvelope, queueName } from "./events.ts";

/** Seconds from an event's `occurredAt` to its effect committed: a few ms when healthy, hours in an outage. */
const LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** An instrument the registry already has (a second relay in one service), or a new one. */
function once<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** Unpublished outbox rows and the age of the oldest, read on each scrape by `read`. */
export function registerOutboxGauges(
  metrics: SubgraphMetrics,
  read: () => Promise<{ backlog: number; oldestAgeSeconds: number }>,
): void {
  const { registry, service } = metrics;
  // One query per scrape feeds both gauges: the first to collect starts it, the other shares it.
  let pending: Promise<{ backlog: number; oldestAgeSeconds: number }> | null = null;
  const sample = () => {
    pending ??= read().finally(() => {
      pending = null;
    });
    return pending;
  };
  once(
    registry,
    "nexus_outbox_unpublished_events",
    () =>
      new Gauge({
        name: "nexus_outbox_unpublished_events",
        help: "Outbox rows committed and not yet published to the event queues.",
        labelNames: ["service"] as const,
        registers: [registry],
        async collect() {
          this.set({ service }, (await sample()).backlog);
        },
      }),
  );
  once(
    registry,
    "nexus_outbox_oldest_unpublished_age_seconds",
    () =>
      new Gauge({
        name: "nexus_outbox_oldest_unpublished_age_seconds",
        help: "Age of the oldest unpublished outbox row (0 when none waits).",
        labelNames: ["service"] as const,
        registers: [registry],
        async collect() {
          this.set({ service }, (await sample()).oldestAgeSeconds);
        },
      }),
  );
}

export const QUEUE_STATES = ["waiting", "delayed", "failed", "active"] as const;

/** Jobs in a consumer's own queue by state, read on each scrape by `read` (BullMQ `getJobCounts`). */
export function registerQueueGauge(
  metrics: SubgraphMetrics,
  consumer: string,
  read: () => Promise<Record<string, number>>,
): void {
  const { registry } = metrics;
  once(
    registry,
    "nexus_event_queue_jobs",
    () =>
      new Gauge({
        name: "nexus_event_queue_jobs",
        help: "Jobs in a consumer's event queue, by consumer and state (waiting, delayed, failed, active).",
        labelNames: ["consumer", "state"] as const,
        registers: [registry],
        async collect() {
          const counts = await read();
          for (const state of QUEUE_STATES) this.set({ consumer, state }, counts[state] ?? 0);
        },
      }),
  );
}

/** `nexus_event_lag_seconds{consumer,type}`: from an event's `occurredAt` to its effect committed. */
export function eventLagHistogram(metrics: SubgraphMetrics): Histogram<"consumer" | "type"> {
  const { registry } = metrics;
  return once(
    registry,
    "nexus_event_lag_seconds",
    () =>
      new Histogram({
        name: "nexus_event_lag_seconds",
        help: "Seconds from an event's occurredAt to the consumer's effect committed, by consumer and event type.",
        labelNames: ["consumer", "type"] as const,
        buckets: LAG_BUCKETS,
        registers: [registry],
      }),
  );
}

/**
 * What a consumer reports: its queue's depth on each scrape (a Queue on its name counts the jobs;
 * the Worker does not) and each applied event's lag. `close` closes that Queue.
 */
export function consumerMetrics(
  metrics: SubgraphMetrics,
  consumer: Consumer,
  connection: Redis,
  prefix: string,
): { observeLag(event: EventEnvelope): void; close(): Promise<void> } {
  const lag = eventLagHistogram(metrics);
  const queue = new Queue(queueName(consumer), { connection, prefix });
  registerQueueGauge(metrics, consumer, () => queue.getJobCounts(...QUEUE_STATES));
  return {
    observeLag(event) {
      const seconds = (Date.now() - Date.parse(event.occurredAt)) / 1000;
      lag.observe({ consumer, type: event.type }, Math.max(0, seconds));
    },
    close: () => queue.close(),
  };
}
