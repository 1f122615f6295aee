import { MODEL_FEATURES } from "../customers/customer-features.model.ts";
import { rfmScores, segmentOf } from "../customers/rfm.model.ts";
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

/** Examples: feature vectors (MODEL_FEATURES order, not yet standardized) and 1 = churned. */
export interface LabelledExamples {
  features: number[][];
  labels: number[];
  recencyDays: number[];
}

export interface ChurnFitInput {
  /** Features as of asOf - 2 * horizon, labels from the horizon after. */
  training: LabelledExamples;
  /** Features as of asOf - horizon, labels from (asOf - horizon, asOf]. */
  holdout: LabelledExamples;
  /** Every customer as of asOf, to score. */
  current: { features: number[][]; recencyDays: number[]; frequency: number[]; monetary: number[] };
  lambda?: number;
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
  scores: CustomerScore[];
}

function fitStandardized(examples: LabelledExamples, lambda: number) {
  const standardizer = fitStandardizer(examples.features);
  const model = fitLogistic(standardize(examples.features, standardizer), examples.labels, { lambda });
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
  const evaluated = fitStandardized(input.training, lambda);
  const holdoutProbabilities = predict(
    evaluated.model,
    standardize(input.holdout.features, evaluated.standardizer),
  );
  const serving = fitStandardized(input.holdout, lambda);
  const current = standardize(input.current.features, serving.standardizer);
  const probabilities = predict(serving.model, current);
  const rfm = rfmScores(
    input.current.features.map((_, i) => ({
      recencyDays: input.current.recencyDays[i] ?? 0,
      frequency: input.current.frequency[i] ?? 0,
      monetary: input.current.monetary[i] ?? 0,
    })),
  );
  const keys = MODEL_FEATURES.map((feature) => feature.key);
  return {
    library: FITTER,
    auc: auc(holdoutProbabilities, input.holdout.labels) ?? 0.5,
    recencyAuc: auc(input.holdout.recencyDays, input.holdout.labels) ?? 0.5,
    brier: brier(holdoutProbabilities, input.holdout.labels),
    calibration: reliability(holdoutProbabilities, input.holdout.labels),
    model: serving.model,
    standardizer: serving.standardizer,
    scores: probabilities.map((probability, i) => {
      const scores = rfm[i] ?? { recencyScore: 1, frequencyScore: 1, monetaryScore: 1 };
      return {
        probability,
        band: bandOf(probability),
        drivers: driversOf(current[i] ?? [], serving.model.weights, keys),
        ...scores,
        segment: segmentOf(scores),
      };
    }),
  };
}
