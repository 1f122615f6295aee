import { randomUUID } from "node:crypto";
import type { Logger } from "@nexus/core";
import type { connectRedis } from "@nexus/stores";
import { type Job, Queue, Worker } from "bullmq";
import type { ChurnTrainingQueue, ChurnTrainingRequest, ChurnTrainingRunModel } from "./churn.model.ts";

/** The BullMQ queue of churn trainings, on the insights Redis under the service's prefix. */
export const CHURN_TRAINING_QUEUE = "insights-churn-training";
const SCHEDULER_ID = "churn-training-schedule";
const REQUEST_JOB_ID = "churn-training-request";

interface TrainingJobData {
  /** ISO instant, or null for "the newest sale when the job runs" (the scheduled runs). */
  asOf: string | null;
  horizonDays: number;
  requestedAt: string;
  /** Tells this request's job from another's under the shared job id; absent when scheduled. */
  requestId?: string;
}

export interface ChurnTrainingOptions {
  /** A BullMQ-ready ioredis connection (`connectRedis`). */
  redis: Awaited<ReturnType<typeof connectRedis>>;
  prefix: string;
  logger: Logger;
  /** Trains one model; runs on the subgraph's thread but fits in a worker thread. */
  train: (request: ChurnTrainingRequest) => Promise<void>;
  /** Cron pattern of the scheduled training (UTC); null: none scheduled (manual runs only). */
  cron: string | null;
  /** Horizon of the scheduled trainings. */
  horizonDays: number;
}

export interface ChurnTraining extends ChurnTrainingQueue {
  stop(): Promise<void>;
}

const toRun = (
  job: Pick<Job<TrainingJobData>, "id" | "data" | "timestamp">,
  status: ChurnTrainingRunModel["status"],
): ChurnTrainingRunModel => ({
  id: job.id ?? "",
  status,
  asOf: job.data.asOf === null ? null : new Date(job.data.asOf),
  horizonDays: job.data.horizonDays,
  // Scheduled jobs carry no request time; they were asked for when BullMQ created them.
  requestedAt: job.data.requestedAt === "" ? new Date(job.timestamp) : new Date(job.data.requestedAt),
});

/**
 * Trainings run as BullMQ jobs: requested by `trainChurnModel` or by the repeatable schedule.
 * The queue's global concurrency is 1, so at most one training runs at a time across every
 * replica, and each replica's worker takes one job at a time.
 */
export async function startChurnTraining(options: ChurnTrainingOptions): Promise<ChurnTraining> {
  const { redis, prefix, logger } = options;
  const queue = new Queue<TrainingJobData>(CHURN_TRAINING_QUEUE, { connection: redis, prefix });
  await queue.setGlobalConcurrency(1);
  if (options.cron === null) await queue.removeJobScheduler(SCHEDULER_ID);
  else {
    await queue.upsertJobScheduler(
      SCHEDULER_ID,
      { pattern: options.cron, tz: "UTC" },
      { name: "train", data: { asOf: null, horizonDays: options.horizonDays, requestedAt: "" } },
    );
  }
  const worker = new Worker<TrainingJobData>(
    CHURN_TRAINING_QUEUE,
    async (job) => {
      logger.info("churn training started", { jobId: job.id, scheduled: job.data.requestedAt === "" });
      await options.train({
        asOf: job.data.asOf === null ? null : new Date(job.data.asOf),
        horizonDays: job.data.horizonDays,
      });
    },
    { connection: redis, prefix, concurrency: 1 },
  );
  worker.on("failed", (job, error) => logger.error("churn training failed", { jobId: job?.id, error }));
  worker.on("error", (error) => logger.error("churn training worker error", { error }));

  return {
    async enqueue(request) {
      const data: TrainingJobData = {
        asOf: request.asOf?.toISOString() ?? null,
        horizonDays: request.horizonDays,
        requestedAt: new Date().toISOString(),
        requestId: randomUUID(),
      };
      // One job id for every requested training: BullMQ adds nothing while a job with that id
      // exists, so two requests racing on two replicas queue one training. Finished jobs are
      // removed, freeing the id for the next request; their models are the record.
      await queue.add("train", data, { jobId: REQUEST_JOB_ID, removeOnComplete: true, removeOnFail: true });
      const job = await queue.getJob(REQUEST_JOB_ID);
      // Gone already: trained and removed in the moment between; taken to be this request's.
      if (job === undefined)
        return { run: toRun({ id: REQUEST_JOB_ID, data, timestamp: Date.now() }, "QUEUED"), created: true };
      const state = await job.getState();
      return {
        run: toRun(job, state === "active" ? "RUNNING" : "QUEUED"),
        created: job.data.requestId === data.requestId,
      };
    },
    async pending() {
      const [active] = await queue.getJobs(["active"], 0, 0, true);
      if (active) return toRun(active, "RUNNING");
      const [waiting] = await queue.getJobs(["waiting", "prioritized"], 0, 0, true);
      return waiting ? toRun(waiting, "QUEUED") : null;
    },
    async stop() {
      await worker.close();
      await queue.close();
    },
  };
}
