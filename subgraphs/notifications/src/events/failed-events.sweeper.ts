import { isUuid, type Logger } from "@nexus/core";
import {
  type Consumer,
  type EventConsumerOptions,
  type EventEnvelope,
  queueName,
  SUBSCRIBERS,
} from "@nexus/events";
import { type Job, Queue, QueueEvents } from "bullmq";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";

type Redis = EventConsumerOptions<Database>["redis"];

import { insertFailedEventAlert } from "../deliveries/deliveries.repository.ts";
import { queueStaffMessage } from "../deliveries/deliveries.service.ts";
import { eventFailedMessage } from "../messages/messages.model.ts";

/** Every queue a consumer reads, whichever subgraph it belongs to. */
export const CONSUMERS: readonly Consumer[] = [...new Set(Object.values(SUBSCRIBERS).flat())].sort();

export interface FailedEventAlertsOptions {
  db: Kysely<Database>;
  redis: Redis;
  prefix: string;
  logger: Logger;
  storeUrl: string;
  staffAlertEmails: readonly string[];
  /** Called once an alert's deliveries are committed. */
  onQueued: () => void;
  /** Failed jobs per queue looked at on start, for failures that happened while no replica listened. */
  scanLimit?: number;
}

export interface FailedEventAlerts {
  /** Resolves once every alert started so far is recorded (tests wait on it). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Tells staff about every event a consumer gave up on. Each consumer queue's events stream
 * (BullMQ QueueEvents) reports a failure at once; only a job that is in the failed set (its last
 * attempt used) makes an alert, and `failed_event_alerts` makes it one per (queue, event id)
 * however many replicas hear it. On start, the failed sets are read too, so a failure while
 * every replica was down is still reported.
 */
export async function startFailedEventAlerts(options: FailedEventAlertsOptions): Promise<FailedEventAlerts> {
  const { logger } = options;
  const pending = new Set<Promise<void>>();
  const queues: Queue<EventEnvelope>[] = [];
  const listeners: { events: QueueEvents; connection: Redis }[] = [];

  const track = (work: Promise<void>) => {
    const tracked = work.catch((error: unknown) =>
      logger.error("failed-event alert not recorded", { error }),
    );
    pending.add(tracked);
    void tracked.finally(() => pending.delete(tracked));
  };

  async function alert(consumer: Consumer, job: Job<EventEnvelope>): Promise<void> {
    const eventId = job.id ?? "";
    if (!isUuid(eventId)) {
      logger.warn("failed job without an event id; no alert", { consumer, jobId: eventId });
      return;
    }
    const queued = await options.db.transaction().execute(async (trx) => {
      if (!(await insertFailedEventAlert(trx, consumer, eventId))) return 0;
      const facts = {
        consumer,
        eventId,
        eventType: job.data?.type ?? job.name,
        attempts: job.attemptsMade,
        error: job.failedReason ?? "",
        failedAt: new Date(job.finishedOn ?? Date.now()),
      };
      return queueStaffMessage(
        trx,
        {
          eventId,
          cause: `failed:${consumer}:${eventId}`,
          message: () => eventFailedMessage(facts, options.storeUrl),
        },
        options.staffAlertEmails,
      );
    });
    if (queued > 0) options.onQueued();
  }

  async function onFailed(consumer: Consumer, queue: Queue<EventEnvelope>, jobId: string): Promise<void> {
    const job = await queue.getJob(jobId);
    // A failure with attempts left is retried; only the failed set means it was given up on.
    if (!job || (await job.getState()) !== "failed") return;
    await alert(consumer, job);
  }

  try {
    for (const consumer of CONSUMERS) {
      const queue = new Queue<EventEnvelope>(queueName(consumer), {
        connection: options.redis,
        prefix: options.prefix,
      });
      queues.push(queue);
      // The events stream is read with blocking commands, so it gets a connection of its own.
      const connection = options.redis.duplicate();
      const events = new QueueEvents(queueName(consumer), { connection, prefix: options.prefix });
      listeners.push({ events, connection });
      events.on("failed", ({ jobId }) => track(onFailed(consumer, queue, jobId)));
      events.on("error", (error) => logger.error("failed-event listener error", { consumer, error }));
      await events.waitUntilReady();
      const failed = await queue.getFailed(0, (options.scanLimit ?? 500) - 1);
      for (const job of failed) if (job) track(alert(consumer, job));
    }
  } catch (error) {
    await close();
    throw error;
  }

  async function close(): Promise<void> {
    for (const { events, connection } of listeners) {
      await events.close();
      connection.disconnect();
    }
    await Promise.all(queues.map((queue) => queue.close()));
  }

  return {
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async stop() {
      await close();
      await Promise.all([...pending]);
    },
  };
}
