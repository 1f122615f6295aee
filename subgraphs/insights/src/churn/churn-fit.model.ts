import {
  type CustomerFeatures,
  featureVector,
  MODEL_FEATURES,
  monetary,
} from "../customers/customer-features.model.ts";
import { rfmScores, SEGMENTS, type Segment, segmentOf } from "../customers/rfm.model.ts";
import { bandOf, type CustomerScore, driversOf } from "./churn.model.ts";
import {
  auc,
  brier,
  FITTER,
  fitLogistic,
  fitStandardizer,
  type LogisticModel,
  predict,
  type ReliabilityBin,
  reliability,
  type Standardizer,
  standardize,
} from "./logistic.model.ts";

/**
 * What crosses between the subgraph's thread and the training worker is typed arrays only: they
 * are transferred, not copied, so handing thousands of customers over costs the event loop
 * nothing. Rows of features are flattened, MODEL_FEATURES.length numbers per customer.
 */

/** Labelled examples: features (not yet standardized) and 1 = churned, 0 = bought again. */
export interface LabelledExamples {
  features: Float64Array;
  labels: Uint8Array;
  recencyDays: Float64Array;
}

export interface ChurnFitInput {
  /** Features as of asOf - 2 * horizon, labels from the horizon after. */
  training: LabelledExamples;
  /** Features as of asOf - horizon, labels from (asOf - horizon, asOf]. */
  holdout: LabelledExamples;
  /** Every customer as of asOf, to score. */
  current: {
    features: Float64Array;
    recencyDays: Float64Array;
    frequency: Float64Array;
    monetary: Float64Array;
  };
  lambda?: number;
}

/** Per scored customer, in the order they were sent. */
export interface PackedScores {
  probabilities: Float64Array;
  /** DRIVERS slots per customer: indexes into MODEL_FEATURES, -1 for an empty slot. */
  drivers: Int8Array;
  /** R, F, M per customer. */
  rfm: Uint8Array;
  /** Indexes into SEGMENTS. */
  segments: Uint8Array;
}

export interface ChurnFitOutput {
  library: string;
  auc: number;
  recencyAuc: number;
  brier: number;
  calibration: ReliabilityBin[];
  /** The serving model, fitted on the holdout window, and its standardization. */
  model: LogisticModel;
  standardizer: Standardizer;
  scores: PackedScores;
}

const WIDTH = MODEL_FEATURES.length;
const DRIVERS = 3;
const KEYS = MODEL_FEATURES.map((feature) => feature.key);

/** Customers with their features and, for labelled windows, their sales after T. */
export type FeatureRow = CustomerFeatures & { laterOrders: number | null };

const flatten = (rows: readonly FeatureRow[]): Float64Array => {
  const flat = new Float64Array(rows.length * WIDTH);
  rows.forEach((row, i) => {
    flat.set(featureVector(row), i * WIDTH);
  });
  return flat;
};

const rowsOf = (flat: Float64Array): number[][] =>
  Array.from({ length: flat.length / WIDTH }, (_, i) =>
    Array.from(flat.subarray(i * WIDTH, (i + 1) * WIDTH)),
  );

export const labelledExamples = (rows: readonly FeatureRow[]): LabelledExamples => ({
  features: flatten(rows),
  labels: Uint8Array.from(rows, (row) => (row.laterOrders === 0 ? 1 : 0)),
  recencyDays: Float64Array.from(rows, (row) => row.recencyDays),
});

/** The worker's input from the three feature sets a training loads. */
export function fitInputOf(
  training: readonly FeatureRow[],
  holdout: readonly FeatureRow[],
  current: readonly FeatureRow[],
): ChurnFitInput {
  return {
    training: labelledExamples(training),
    holdout: labelledExamples(holdout),
    current: {
      features: flatten(current),
      recencyDays: Float64Array.from(current, (row) => row.recencyDays),
      frequency: Float64Array.from(current, (row) => row.orders),
      monetary: Float64Array.from(current, (row) => monetary(row)),
    },
  };
}

/** The buffers to transfer with a message carrying `input` or `output`. */
export const inputBuffers = (input: ChurnFitInput): ArrayBuffer[] =>
  [
    input.training.features,
    input.training.labels,
    input.training.recencyDays,
    input.holdout.features,
    input.holdout.labels,
    input.holdout.recencyDays,
    input.current.features,
    input.current.recencyDays,
    input.current.frequency,
    input.current.monetary,
  ].map((array) => array.buffer as ArrayBuffer);

export const outputBuffers = (output: ChurnFitOutput): ArrayBuffer[] =>
  [output.scores.probabilities, output.scores.drivers, output.scores.rfm, output.scores.segments].map(
    (array) => array.buffer as ArrayBuffer,
  );

function fitStandardized(examples: LabelledExamples, lambda: number) {
  const rows = rowsOf(examples.features);
  const standardizer = fitStandardizer(rows);
  const model = fitLogistic(standardize(rows, standardizer), Array.from(examples.labels), { lambda });
  return { standardizer, model };
}

/**
 * The whole of training: fit on the training window and judge on the holdout (the next, later
 * window, so the figures say how the model does on a future it did not see), then fit again on
 * the holdout window, the latest whose outcomes are known, and score every customer with it.
 * Pure and synchronous; it runs in a worker thread.
 */
export function fitChurn(input: ChurnFitInput): ChurnFitOutput {
  const lambda = input.lambda ?? 1;
  const holdoutLabels = Array.from(input.holdout.labels);
  const evaluated = fitStandardized(input.training, lambda);
  const holdoutProbabilities = predict(
    evaluated.model,
    standardize(rowsOf(input.holdout.features), evaluated.standardizer),
  );
  const serving = fitStandardized(input.holdout, lambda);
  const current = standardize(rowsOf(input.current.features), serving.standardizer);
  const count = current.length;
  const probabilities = Float64Array.from(predict(serving.model, current));
  const rfm = rfmScores(
    Array.from({ length: count }, (_, i) => ({
      recencyDays: input.current.recencyDays[i] ?? 0,
      frequency: input.current.frequency[i] ?? 0,
      monetary: input.current.monetary[i] ?? 0,
    })),
  );
  const scores: PackedScores = {
    probabilities,
    drivers: new Int8Array(count * DRIVERS).fill(-1),
    rfm: new Uint8Array(count * 3),
    segments: new Uint8Array(count),
  };
  current.forEach((row, i) => {
    const drivers = driversOf(row, serving.model.weights, KEYS, DRIVERS);
    drivers.forEach((key, slot) => {
      scores.drivers[i * DRIVERS + slot] = KEYS.indexOf(key);
    });
    const r = rfm[i] ?? { recencyScore: 1, frequencyScore: 1, monetaryScore: 1 };
    scores.rfm.set([r.recencyScore, r.frequencyScore, r.monetaryScore], i * 3);
    scores.segments[i] = SEGMENTS.indexOf(segmentOf(r));
  });
  return {
    library: FITTER,
    auc: auc(holdoutProbabilities, holdoutLabels) ?? 0.5,
    recencyAuc: auc(Array.from(input.holdout.recencyDays), holdoutLabels) ?? 0.5,
    brier: brier(holdoutProbabilities, holdoutLabels),
    calibration: reliability(holdoutProbabilities, holdoutLabels),
    model: serving.model,
    standardizer: serving.standardizer,
    scores,
  };
}

/** Customer `index`'s scores, read back from the packed arrays. */
export function scoreAt(scores: PackedScores, index: number): CustomerScore {
  const probability = scores.probabilities[index] ?? 0;
  const drivers = Array.from(scores.drivers.subarray(index * DRIVERS, (index + 1) * DRIVERS))
    .filter((feature) => feature >= 0)
    .map((feature) => KEYS[feature] ?? String(feature));
  const rfm = {
    recencyScore: scores.rfm[index * 3] ?? 1,
    frequencyScore: scores.rfm[index * 3 + 1] ?? 1,
    monetaryScore: scores.rfm[index * 3 + 2] ?? 1,
  };
  const segment: Segment = SEGMENTS[scores.segments[index] ?? 0] ?? "LOST";
  return { probability, band: bandOf(probability), drivers, ...rfm, segment };
}
