import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type Consumer, type EventEnvelope, queueName } from "./events.ts";

/** One event a consumer gave up on: its job sits in the consumer queue's failed set. */
export interface FailedEvent {
  consumer: Consumer;
  /** The event id, which is also the job id. */
  eventId: string;
  type: string;
  attempts: number;
  lastError: string;
  failedAt: Date;
  event: EventEnvelope;
}

export interface FailedEventsPage {
  events: FailedEvent[];
  /** Failed jobs in the queue now, across all pages. */
  totalCount: number;
}

export type ReplayOutcome = "REPLAYED" | "NOT_FOUND" | "NOT_FAILED";

export interface FailedEvents {
  /**
   * Newest failure first. `offset` counts from the newest, so a failure or replay between two
   * calls shifts later pages by one: good enough for an operator's screen, not for a sync job.
   */
  list(consumer: Consumer, options: { offset: number; limit: number }): Promise<FailedEventsPage>;
  /**
   * Puts a failed job back in its queue with fresh attempts. Safe at any time: consumers record
   * each event id with its effect, so an event that did apply before failing is a no-op.
   */
  replay(consumer: Consumer, eventId: string): Promise<ReplayOutcome>;
  close(): Promise<void>;
}

/** Admin view of the events consumers gave up on, for every consumer queue under `prefix`. */
export function createFailedEvents(options: { redis: Redis; prefix: string }): FailedEvents {
  const queues = new Map<Consumer, Queue<EventEnvelope>>();
  const queueFor = (consumer: Consumer) => {
    let queue = queues.get(consumer);
    if (!queue) {
      queue = new Queue<EventEnvelope>(queueName(consumer), {
        connection: options.redis,
        prefix: options.prefix,
      });
      queues.set(consumer, queue);
    }
    return queue;
  };

  return {
    async list(consumer, { offset, limit }) {
      const queue = queueFor(consumer);
      const [jobs, totalCount] = await Promise.all([
        queue.getFailed(offset, offset + limit - 1),
        queue.getFailedCount(),
      ]);
      const events = jobs
        .filter((job) => job?.id !== undefined)
        .map((job) => ({
          consumer,
          eventId: job.id ?? "",
          type: job.name,
          attempts: job.attemptsMade,
          lastError: job.failedReason ?? "",
          failedAt: new Date(job.finishedOn ?? job.processedOn ?? job.timestamp),
          event: job.data,
        }));
      return { events, totalCount };
    },

    async replay(consumer, eventId) {
      const job = await queueFor(consumer).getJob(eventId);
      if (!job) return "NOT_FOUND";
      if ((await job.getState()) !== "failed") return "NOT_FAILED";
      try {
        await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      } catch (error) {
        // Another admin (or replica) replayed it between the state check and here.
        if ((await job.getState()) !== "failed") return "NOT_FAILED";
        throw error;
      }
      return "REPLAYED";
    },

    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
    },
  };
}
