import type { Logger } from "@nexus/core";
import type { EventConsumerOptions } from "@nexus/events";
import { Queue, Worker } from "bullmq";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { refreshRecommendations } from "./recommendations.service.ts";

export interface RecommendationsRefreshOptions {
  db: Kysely<Database>;
  /** The connection the event consumer uses. */
  redis: EventConsumerOptions<Database>["redis"];
  prefix: string;
  logger: Logger;
  /** How often the neighbours and popularity are rebuilt. */
  everyMs: number;
}

export interface RecommendationsRefresh {
  /**
   * Queues a refresh now, for one of the replicas to run, e.g. after a store's history was
   * imported. A request still waiting absorbs the next ones (they share a job id).
   */
  requestNow(): Promise<void>;
  stop(): Promise<void>;
}

const QUEUE = "insights-models";
const SCHEDULER = "recommendations-refresh";
const REQUESTED_JOB_ID = "recommendations-refresh-requested";

/** Every field whose answer a rebuild changes, as the gateway's response cache tags them. */
export const RECOMMENDATION_FIELDS = [
  "Query.basketRecommendations",
  "Query.trendingProducts",
  "Product.frequentlyBoughtTogether",
  "User.recommendedProducts",
];

/**
 * Tells the gateway's response cache that the recommendations changed: `{ tags }` on
 * `<prefix>:cache:invalidate`, where every gateway replica listens. A notice lost to a Redis
 * outage leaves cached recommendations to their max age (300 s).
 */
async function announceRebuilt(options: RecommendationsRefreshOptions): Promise<void> {
  try {
    await options.redis.publish(
      `${options.prefix}:cache:invalidate`,
      JSON.stringify({ tags: RECOMMENDATION_FIELDS }),
    );
  } catch (error) {
    options.logger.warn("could not announce rebuilt recommendations to the gateway cache", { error });
  }
}

/**
 * Rebuilds the recommendations every `everyMs` as a BullMQ job scheduler: whatever the number
 * of insights replicas, one of them runs each refresh, and the schedule survives restarts. The
 * first run is due at start-up, so a fresh deployment has recommendations at once.
 */
export async function startRecommendationsRefresh(
  options: RecommendationsRefreshOptions,
): Promise<RecommendationsRefresh> {
  const { db, logger } = options;
  const connection = { connection: options.redis, prefix: options.prefix };
  const queue = new Queue(QUEUE, connection);
  await queue.upsertJobScheduler(
    SCHEDULER,
    { every: options.everyMs },
    { name: SCHEDULER, opts: { removeOnComplete: 10, removeOnFail: 50 } },
  );
  const worker = new Worker(
    QUEUE,
    async (job) => {
      if (job.name !== SCHEDULER) return;
      const started = Date.now();
      const written = await refreshRecommendations(db);
      logger.info("recommendations refreshed", { ...written, ms: Date.now() - started });
      await announceRebuilt(options);
    },
    { ...connection, concurrency: 1 },
  );
  worker.on("failed", (job, error) =>
    logger.warn("recommendations refresh failed; the next one is on schedule", { jobId: job?.id, error }),
  );
  worker.on("error", (error) => logger.error("recommendations worker error", { error }));
  return {
    async requestNow() {
      await queue.add(SCHEDULER, {}, { jobId: REQUESTED_JOB_ID, removeOnComplete: true, removeOnFail: true });
    },
    async stop() {
      await worker.close();
      await queue.close();
    },
  };
}
