import type { Segment } from "../customers/rfm.model.ts";
import type { CalibrationBinJson } from "../db/database.ts";

/** Churn: no sale to the customer within `horizonDays` after the instant the features are as of. */
export const DEFAULT_HORIZON_DAYS = 90;
export const MIN_HORIZON_DAYS = 7;
export const MAX_HORIZON_DAYS = 365;

/**
 * Each of the two windows (training and holdout) needs at least this many churned and this many
 * retained customers; with fewer, the AUC and the weights mean little and training is refused.
 */
export const MIN_EXAMPLES_PER_CLASS = 20;

export type ChurnBand = "LOW" | "MEDIUM" | "HIGH";

/** Probability thresholds of the bands: LOW below 0.3, HIGH from 0.6, MEDIUM between. */
export const BAND_THRESHOLDS = { medium: 0.3, high: 0.6 } as const;

export const bandOf = (probability: number): ChurnBand =>
  probability >= BAND_THRESHOLDS.high ? "HIGH" : probability >= BAND_THRESHOLDS.medium ? "MEDIUM" : "LOW";

/**
 * The features that pushed this customer's score up most: largest positive standardized value
 * times weight, at most `count`, strongest first. A customer whose every contribution lowers the
 * risk has none.
 */
export function driversOf(
  standardized: readonly number[],
  weights: readonly number[],
  keys: readonly string[],
  count = 3,
): string[] {
  return standardized
    .map((value, j) => ({ key: keys[j] ?? String(j), contribution: value * (weights[j] ?? 0) }))
    .filter((entry) => entry.contribution > 0)
    .sort((a, b) => b.contribution - a.contribution)
    .slice(0, count)
    .map((entry) => entry.key);
}

/** The current model as the `churnModel` field shows it. */
export interface ChurnModelModel {
  version: number;
  trainedAt: Date;
  asOf: Date;
  horizonDays: number;
  trainingSize: number;
  holdoutSize: number;
  positives: number;
  holdoutPositives: number;
  auc: number;
  recencyAuc: number;
  brier: number;
  calibration: CalibrationBinJson[];
  intercept: number;
  coefficients: { feature: string; name: string; weight: number }[];
  library: string;
  trainingMs: number;
  scoredCustomers: number;
}

/** A request to train, as `trainChurnModel` answers it. */
export interface ChurnTrainingRunModel {
  id: string;
  status: "QUEUED" | "RUNNING";
  asOf: Date | null;
  horizonDays: number;
  requestedAt: Date;
}

/** One customer's scores as the worker returns them, in the order of the customers sent. */
export interface CustomerScore {
  probability: number;
  band: ChurnBand;
  drivers: string[];
  recencyScore: number;
  frequencyScore: number;
  monetaryScore: number;
  segment: Segment;
}

/** What a training is asked for: features as of `asOf` (null: the newest sale) and the horizon. */
export interface ChurnTrainingRequest {
  asOf: Date | null;
  horizonDays: number;
}

/** The training queue as services see it: one training runs at a time across all replicas. */
export interface ChurnTrainingQueue {
  /**
   * Queues a requested training, unless one requested earlier still waits or runs: then that
   * one is returned with `created: false` and nothing is queued.
   */
  enqueue(request: ChurnTrainingRequest): Promise<{ run: ChurnTrainingRunModel; created: boolean }>;
  /** The training running now, else the next one waiting; null when none is. */
  pending(): Promise<ChurnTrainingRunModel | null>;
}
