import { type Logger, userError } from "@nexus/core";
import type { Kysely } from "kysely";
import {
  type CustomerFeatures,
  featureName,
  MODEL_FEATURES,
  monetary,
} from "../customers/customer-features.model.ts";
import {
  type CustomerFeaturesRow,
  countChurnLabels,
  findCustomerFeatures,
  findNewestSaleTime,
  refreshFactStatistics,
} from "../customers/customer-features.repository.ts";
import type { Database } from "../db/database.ts";
import type { UserError, UserErrorCode } from "../user-error.ts";
import {
  type ChurnModelModel,
  type ChurnTrainingQueue,
  type ChurnTrainingRequest,
  type ChurnTrainingRunModel,
  type CustomerScore,
  MAX_HORIZON_DAYS,
  MIN_EXAMPLES_PER_CLASS,
  MIN_HORIZON_DAYS,
} from "./churn.model.ts";
import {
  type ChurnModelRow,
  findCurrentChurnModel,
  insertChurnModel,
  insertCustomerScores,
} from "./churn.repository.ts";
import { type ChurnFitInput, type ChurnFitOutput, fitInputOf, scoreAt } from "./churn-fit.model.ts";

const DAY_MS = 86_400_000;
/** Customers per feature query: the rows reach the worker in pages, never one huge result. */
const FEATURE_PAGE = 1000;

export interface ChurnReadDeps {
  db: Kysely<Database>;
}

export interface ChurnTrainingDeps {
  db: Kysely<Database>;
  /** Only sales and refunds in the store currency count. */
  currencyCode: string;
  logger: Logger;
  /** Fits off the event loop: `runChurnFit` (a worker thread). */
  fit: (input: ChurnFitInput) => Promise<ChurnFitOutput>;
}

export type ValidTraining =
  | { ok: true; asOf: Date; horizonDays: number }
  | { ok: false; userErrors: UserError[] };

/**
 * The rules a training request must meet, checked before anything is queued: a horizon of
 * 7..365 days, an `asOf` not in the future (absent: the newest sale), and enough customers who
 * churned and who stayed in both the training and the holdout window.
 */
export async function validateChurnTraining(
  deps: Pick<ChurnTrainingDeps, "db" | "currencyCode">,
  request: ChurnTrainingRequest,
  now: Date = new Date(),
): Promise<ValidTraining> {
  const { horizonDays } = request;
  if (!Number.isInteger(horizonDays) || horizonDays < MIN_HORIZON_DAYS || horizonDays > MAX_HORIZON_DAYS) {
    return refuse(
      "HORIZON_OUT_OF_RANGE",
      `horizonDays must be between ${MIN_HORIZON_DAYS} and ${MAX_HORIZON_DAYS}.`,
      ["input", "horizonDays"],
    );
  }
  if (request.asOf !== null && request.asOf.getTime() > now.getTime()) {
    return refuse("AS_OF_IN_FUTURE", "asOf must not be in the future.", ["input", "asOf"]);
  }
  const asOf = request.asOf ?? (await findNewestSaleTime(deps.db, deps.currencyCode));
  if (asOf === null) return refuse("NOT_ENOUGH_DATA", "There are no sales to learn from yet.", null);
  const holdoutAsOf = daysBefore(asOf, horizonDays);
  const trainingAsOf = daysBefore(asOf, 2 * horizonDays);
  const [training, holdout] = await Promise.all([
    countChurnLabels(deps.db, deps.currencyCode, trainingAsOf, holdoutAsOf),
    countChurnLabels(deps.db, deps.currencyCode, holdoutAsOf, asOf),
  ]);
  const least = Math.min(training.churned, training.retained, holdout.churned, holdout.retained);
  if (least < MIN_EXAMPLES_PER_CLASS) {
    return refuse(
      "NOT_ENOUGH_DATA",
      `Training needs at least ${MIN_EXAMPLES_PER_CLASS} customers who churned and ${MIN_EXAMPLES_PER_CLASS} who ` +
        `stayed in each window; the training window has ${training.churned} and ${training.retained}, the ` +
        `holdout window ${holdout.churned} and ${holdout.retained}.`,
      null,
    );
  }
  return { ok: true, asOf, horizonDays };
}

const refuse = (code: UserErrorCode, message: string, field: string[] | null): ValidTraining => ({
  ok: false,
  userErrors: [userError(code, message, field)],
});

const daysBefore = (time: Date, days: number) => new Date(time.getTime() - days * DAY_MS);

const inProgress = () =>
  userError("TRAINING_IN_PROGRESS", "A churn model is being trained already; this is it.");

/**
 * `trainChurnModel`: validates and queues a training. While one is waiting or running, that one
 * is returned with TRAINING_IN_PROGRESS instead of queueing another.
 */
export async function requestChurnTraining(
  deps: Pick<ChurnTrainingDeps, "db" | "currencyCode"> & { training: ChurnTrainingQueue },
  request: ChurnTrainingRequest,
  now: Date = new Date(),
): Promise<{ run: ChurnTrainingRunModel | null; userErrors: UserError[] }> {
  const valid = await validateChurnTraining(deps, request, now);
  if (!valid.ok) return { run: null, userErrors: valid.userErrors };
  const pending = await deps.training.pending();
  if (pending !== null) return { run: pending, userErrors: [inProgress()] };
  const { run, created } = await deps.training.enqueue({ asOf: valid.asOf, horizonDays: valid.horizonDays });
  return { run, userErrors: created ? [] : [inProgress()] };
}

async function loadExamples(
  deps: ChurnTrainingDeps,
  asOf: Date,
  labelEnd: Date | undefined,
): Promise<CustomerFeaturesRow[]> {
  const all: CustomerFeaturesRow[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await findCustomerFeatures(deps.db, {
      asOf,
      currencyCode: deps.currencyCode,
      ...(labelEnd ? { labelEnd } : {}),
      afterCustomerId: after,
      limit: FEATURE_PAGE,
    });
    all.push(...page);
    if (page.length < FEATURE_PAGE) return all;
    after = page.at(-1)?.customerId ?? null;
  }
}

/**
 * Trains a model (README, "Churn"): loads the three feature sets page by page, fits and
 * evaluates in the worker thread, and stores the model with every customer's scores in one
 * transaction, so readers see the previous model until the new one is complete.
 */
export async function trainChurnModel(
  deps: ChurnTrainingDeps,
  request: ChurnTrainingRequest,
  now: Date = new Date(),
): Promise<{ model: ChurnModelModel | null; userErrors: UserError[] }> {
  const started = performance.now();
  const valid = await validateChurnTraining(deps, request, now);
  if (!valid.ok) return { model: null, userErrors: valid.userErrors };
  const { asOf, horizonDays } = valid;
  const holdoutAsOf = daysBefore(asOf, horizonDays);
  await refreshFactStatistics(deps.db);
  const [training, holdout, current] = [
    await loadExamples(deps, daysBefore(asOf, 2 * horizonDays), holdoutAsOf),
    await loadExamples(deps, holdoutAsOf, asOf),
    await loadExamples(deps, asOf, undefined),
  ];
  const fitted = await deps.fit(fitInputOf(training, holdout, current));
  const trainingMs = Math.round(performance.now() - started);
  const positives = (examples: readonly CustomerFeaturesRow[]) =>
    examples.filter((row) => row.laterOrders === 0).length;
  const version = await deps.db.transaction().execute(async (trx) => {
    const inserted = await insertChurnModel(trx, {
      trained_at: now,
      as_of: asOf,
      horizon_days: horizonDays,
      training_size: training.length,
      holdout_size: holdout.length,
      positives: positives(training),
      holdout_positives: positives(holdout),
      auc: fitted.auc,
      recency_auc: fitted.recencyAuc,
      brier: fitted.brier,
      calibration: JSON.stringify(fitted.calibration),
      coefficients: JSON.stringify({
        intercept: fitted.model.intercept,
        weights: MODEL_FEATURES.map((feature, j) => ({
          feature: feature.key,
          weight: fitted.model.weights[j] ?? 0,
        })),
      }),
      feature_means: JSON.stringify(fitted.standardizer.means),
      feature_stds: JSON.stringify(fitted.standardizer.stds),
      library: fitted.library,
      training_ms: trainingMs,
      scored_customers: current.length,
    });
    await insertCustomerScores(
      trx,
      current.map((row, i) => scoreRow(inserted, row, scoreAt(fitted.scores, i), deps.currencyCode)),
    );
    return inserted;
  });
  deps.logger.info("churn model trained", { version, asOf, horizonDays, auc: fitted.auc, trainingMs });
  const model = await findCurrentChurnModel(deps.db);
  return { model: model === null ? null : toChurnModel(model), userErrors: [] };
}

function scoreRow(version: number, row: CustomerFeatures, score: CustomerScore, currencyCode: string) {
  const net = Math.round(monetary(row));
  return {
    model_version: version,
    customer_id: row.customerId,
    probability: score.probability,
    band: score.band,
    drivers: JSON.stringify(score.drivers),
    recency_days: Math.floor(row.recencyDays),
    frequency: row.orders,
    monetary: net,
    currency_code: currencyCode,
    recency_score: score.recencyScore,
    frequency_score: score.frequencyScore,
    monetary_score: score.monetaryScore,
    segment: score.segment,
    value_at_risk: Math.round(score.probability * Math.max(net, 0)),
  };
}

export function toChurnModel(row: ChurnModelRow): ChurnModelModel {
  return {
    version: row.version,
    trainedAt: row.trained_at,
    asOf: row.as_of,
    horizonDays: row.horizon_days,
    trainingSize: row.training_size,
    holdoutSize: row.holdout_size,
    positives: row.positives,
    holdoutPositives: row.holdout_positives,
    auc: row.auc,
    recencyAuc: row.recency_auc,
    brier: row.brier,
    calibration: row.calibration,
    intercept: row.coefficients.intercept,
    coefficients: row.coefficients.weights.map(({ feature, weight }) => ({
      feature,
      name: featureName(feature),
      weight,
    })),
    library: row.library,
    trainingMs: row.training_ms,
    scoredCustomers: row.scored_customers,
  };
}

/** `churnModel`: the model served now, null before the first training. */
export async function currentChurnModel(deps: ChurnReadDeps): Promise<ChurnModelModel | null> {
  const row = await findCurrentChurnModel(deps.db);
  return row === null ? null : toChurnModel(row);
}
