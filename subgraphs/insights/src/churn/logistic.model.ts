/**
 * Binary logistic regression with an L2 (ridge) penalty, fitted by Newton's method (iteratively
 * reweighted least squares), and the measures the churn model is judged by. Plain functions over
 * numbers: they run in the training worker and in tests alike.
 *
 * Why not a library: the maintained JavaScript package (`ml-logistic-regression`) fits by a fixed
 * number of plain gradient steps with a fixed learning rate on the summed (not averaged) gradient,
 * with no intercept, no penalty and no convergence test, so whether it converges depends on the
 * number of rows and the scale of the features. Newton's method on a dozen standardized features
 * converges in a handful of iterations to the penalised optimum, whatever the data's size.
 */

/** Rows are examples, one number per feature; all rows have the same length. */
export type Matrix = readonly (readonly number[])[];

export interface Standardizer {
  means: number[];
  stds: number[];
}

export interface LogisticModel {
  intercept: number;
  /** One weight per standardized feature. */
  weights: number[];
  iterations: number;
}

export interface FitOptions {
  /** Penalty on the weights (not the intercept): lambda / 2 * sum(w^2), on standardized features. */
  lambda?: number;
  maxIterations?: number;
  /** Stops when no coefficient moves more than this. */
  tolerance?: number;
}

/** Identifies the fitting code in stored models, so a change of method shows in their history. */
export const FITTER = "irls-ridge@1";

const get = (values: readonly number[], index: number): number => values[index] ?? 0;

/** Means and standard deviations per column; a constant column gets std 1 so it standardizes to 0. */
export function fitStandardizer(rows: Matrix): Standardizer {
  const width = rows[0]?.length ?? 0;
  const means = new Array<number>(width).fill(0);
  const stds = new Array<number>(width).fill(0);
  if (rows.length === 0) return { means, stds: stds.map(() => 1) };
  for (const row of rows) for (let j = 0; j < width; j++) means[j] = get(means, j) + get(row, j);
  for (let j = 0; j < width; j++) means[j] = get(means, j) / rows.length;
  for (const row of rows) {
    for (let j = 0; j < width; j++) stds[j] = get(stds, j) + (get(row, j) - get(means, j)) ** 2;
  }
  for (let j = 0; j < width; j++) {
    const std = Math.sqrt(get(stds, j) / rows.length);
    stds[j] = std > 1e-12 ? std : 1;
  }
  return { means, stds };
}

export function standardize(rows: Matrix, { means, stds }: Standardizer): number[][] {
  return rows.map((row) => row.map((value, j) => (value - get(means, j)) / get(stds, j)));
}

export const sigmoid = (z: number): number =>
  z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));

export function linearScore(model: LogisticModel, row: readonly number[]): number {
  let z = model.intercept;
  for (let j = 0; j < model.weights.length; j++) z += get(model.weights, j) * get(row, j);
  return z;
}

export const predict = (model: LogisticModel, rows: Matrix): number[] =>
  rows.map((row) => sigmoid(linearScore(model, row)));

/** The penalised negative log-likelihood Newton's method minimises. */
function objective(model: LogisticModel, rows: Matrix, labels: readonly number[], lambda: number): number {
  let loss = 0;
  rows.forEach((row, i) => {
    const z = linearScore(model, row);
    // log(1 + e^z) - y z, written to stay finite for large |z|.
    loss += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - get(labels, i) * z;
  });
  return loss + (lambda / 2) * model.weights.reduce((sum, w) => sum + w * w, 0);
}

/**
 * Fits by Newton's method: each step solves (X'WX + lambda I') d = X'(y - p) - lambda w' with a
 * Cholesky factorisation (the penalty makes the system positive definite, also for separable
 * data), halving the step while the objective does not decrease.
 */
export function fitLogistic(
  rows: Matrix,
  labels: readonly number[],
  options: FitOptions = {},
): LogisticModel {
  const { lambda = 1, maxIterations = 50, tolerance = 1e-8 } = options;
  if (rows.length === 0 || rows.length !== labels.length) {
    throw new Error("fitLogistic needs as many labels as rows, and at least one row.");
  }
  const width = rows[0]?.length ?? 0;
  const size = width + 1; // the intercept is coefficient 0
  let beta = new Array<number>(size).fill(0);
  const toModel = (coefficients: readonly number[], iterations: number): LogisticModel => ({
    intercept: get(coefficients, 0),
    weights: coefficients.slice(1),
    iterations,
  });
  let current = objective(toModel(beta, 0), rows, labels, lambda);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const model = toModel(beta, iteration);
    const hessian = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    const gradient = new Array<number>(size).fill(0);
    rows.forEach((row, i) => {
      const p = sigmoid(linearScore(model, row));
      const w = Math.max(p * (1 - p), 1e-10);
      const residual = get(labels, i) - p;
      for (let a = 0; a < size; a++) {
        const xa = a === 0 ? 1 : get(row, a - 1);
        gradient[a] = get(gradient, a) + xa * residual;
        const line = hessian[a] ?? [];
        for (let b = 0; b <= a; b++) line[b] = get(line, b) + w * xa * (b === 0 ? 1 : get(row, b - 1));
      }
    });
    for (let a = 1; a < size; a++) {
      gradient[a] = get(gradient, a) - lambda * get(beta, a);
      const line = hessian[a] ?? [];
      line[a] = get(line, a) + lambda;
    }
    const step = solveSymmetric(hessian, gradient);
    let scale = 1;
    let next = beta.map((value, k) => value + get(step, k));
    let nextObjective = objective(toModel(next, iteration), rows, labels, lambda);
    while (nextObjective > current + 1e-12 && scale > 1e-6) {
      scale /= 2;
      next = beta.map((value, k) => value + scale * get(step, k));
      nextObjective = objective(toModel(next, iteration), rows, labels, lambda);
    }
    const moved = Math.max(...next.map((value, k) => Math.abs(value - get(beta, k))));
    beta = next;
    current = nextObjective;
    if (moved < tolerance) return toModel(beta, iteration);
  }
  return toModel(beta, maxIterations);
}

/** Solves A x = b for a symmetric positive definite A given by its lower triangle (Cholesky). */
export function solveSymmetric(lower: Matrix, b: readonly number[]): number[] {
  const n = b.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const li = l[i] ?? [];
    for (let j = 0; j <= i; j++) {
      const lj = l[j] ?? [];
      let sum = get(lower[i] ?? [], j);
      for (let k = 0; k < j; k++) sum -= get(li, k) * get(lj, k);
      if (i === j) {
        if (sum <= 0) throw new Error("The system is not positive definite.");
        li[i] = Math.sqrt(sum);
      } else li[j] = sum / get(lj, j);
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = get(b, i);
    for (let k = 0; k < i; k++) sum -= get(l[i] ?? [], k) * get(y, k);
    y[i] = sum / get(l[i] ?? [], i);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = get(y, i);
    for (let k = i + 1; k < n; k++) sum -= get(l[k] ?? [], i) * get(x, k);
    x[i] = sum / get(l[i] ?? [], i);
  }
  return x;
}

/**
 * Area under the ROC curve from ranks (the Mann-Whitney statistic): the chance that a random
 * positive scores above a random negative, ties counting one half. Null without both classes.
 */
export function auc(scores: readonly number[], labels: readonly number[]): number | null {
  const order = scores
    .map((score, i) => ({ score, label: get(labels, i) }))
    .sort((a, b) => a.score - b.score);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]?.score === order[start]?.score) end++;
    // Ranks start..end (1-based start+1..end+1) share their mean.
    const rank = (start + end + 2) / 2;
    for (let k = start; k <= end; k++) {
      if (order[k]?.label === 1) {
        positives++;
        positiveRankSum += rank;
      }
    }
    start = end + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean squared difference between the predicted probability and the 0/1 outcome. */
export function brier(probabilities: readonly number[], labels: readonly number[]): number {
  if (probabilities.length === 0) return 0;
  const sum = probabilities.reduce((total, p, i) => total + (p - get(labels, i)) ** 2, 0);
  return sum / probabilities.length;
}

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/**
 * Reliability table: predictions in `bins` equal-width bins of [0, 1] (the last one closed),
 * with the mean prediction and the observed rate of each non-empty bin. A calibrated model has
 * the two close in every bin.
 */
export function reliability(
  probabilities: readonly number[],
  labels: readonly number[],
  bins = 10,
): ReliabilityBin[] {
  const count = new Array<number>(bins).fill(0);
  const predicted = new Array<number>(bins).fill(0);
  const observed = new Array<number>(bins).fill(0);
  probabilities.forEach((p, i) => {
    const bin = Math.min(Math.floor(p * bins), bins - 1);
    count[bin] = get(count, bin) + 1;
    predicted[bin] = get(predicted, bin) + p;
    observed[bin] = get(observed, bin) + get(labels, i);
  });
  const table: ReliabilityBin[] = [];
  for (let bin = 0; bin < bins; bin++) {
    const n = get(count, bin);
    if (n === 0) continue;
    table.push({
      lower: bin / bins,
      upper: (bin + 1) / bins,
      count: n,
      meanPredicted: get(predicted, bin) / n,
      observedRate: get(observed, bin) / n,
    });
  }
  return table;
}
