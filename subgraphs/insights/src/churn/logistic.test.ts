import { describe, expect, it } from "vitest";
import { bandOf, driversOf } from "./churn.model.ts";
import {
  auc,
  brier,
  fitLogistic,
  fitStandardizer,
  predict,
  reliability,
  solveSymmetric,
  standardize,
} from "./logistic.model.ts";

describe("auc", () => {
  it("is the share of positive-negative pairs ranked right", () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(auc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(auc([4, 3, 2, 1], [0, 0, 1, 1])).toBe(0);
  });

  it("counts a tie between a positive and a negative as one half", () => {
    // pairs: (2 vs 1) 1, (2 vs 2) 0.5, (3 vs 1) 1, (3 vs 2) 1 => 3.5 / 4
    expect(auc([1, 2, 2, 3], [0, 0, 1, 1])).toBeCloseTo(0.875, 12);
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
  });

  it("is null without both classes", () => {
    expect(auc([0.2, 0.3], [1, 1])).toBeNull();
    expect(auc([], [])).toBeNull();
  });
});

describe("brier and reliability", () => {
  it("brier is the mean squared error of the probabilities", () => {
    expect(brier([0.1, 0.9, 0.8], [0, 1, 0])).toBeCloseTo((0.01 + 0.01 + 0.64) / 3, 12);
    expect(brier([1, 0], [1, 0])).toBe(0);
  });

  it("reliability bins predictions by tenths, the last bin closed, empty bins left out", () => {
    const table = reliability([0.05, 0.15, 0.12, 0.95, 1], [0, 1, 0, 1, 1]);
    expect(table).toHaveLength(3);
    expect(table[0]).toMatchObject({ lower: 0, upper: 0.1, count: 1, observedRate: 0 });
    expect(table[0]?.meanPredicted).toBeCloseTo(0.05, 12);
    expect(table[1]).toMatchObject({ lower: 0.1, upper: 0.2, count: 2, observedRate: 0.5 });
    expect(table[1]?.meanPredicted).toBeCloseTo(0.135, 12);
    expect(table[2]).toMatchObject({ lower: 0.9, upper: 1, count: 2, observedRate: 1 });
    expect(table[2]?.meanPredicted).toBeCloseTo(0.975, 12);
  });
});

describe("fitLogistic", () => {
  // x = 0: 2 of 10 positive; x = 1: 7 of 10 positive. The maximum-likelihood fit is known in
  // closed form: intercept logit(0.2), weight logit(0.7) - logit(0.2).
  const rows = [...Array.from({ length: 10 }, () => [0]), ...Array.from({ length: 10 }, () => [1])];
  const labels = [...[1, 1, 0, 0, 0, 0, 0, 0, 0, 0], ...[1, 1, 1, 1, 1, 1, 1, 0, 0, 0]];
  const logit = (p: number) => Math.log(p / (1 - p));

  it("finds the maximum-likelihood coefficients without a penalty", () => {
    const model = fitLogistic(rows, labels, { lambda: 0 });
    expect(model.intercept).toBeCloseTo(logit(0.2), 8);
    expect(model.weights[0]).toBeCloseTo(logit(0.7) - logit(0.2), 8);
    expect(model.iterations).toBeLessThan(15);
    const [p0, p1] = predict(model, [[0], [1]]);
    expect(p0).toBeCloseTo(0.2, 8);
    expect(p1).toBeCloseTo(0.7, 8);
  });

  it("shrinks the weights as the penalty grows, never the intercept's freedom", () => {
    const weak = fitLogistic(rows, labels, { lambda: 1 });
    const strong = fitLogistic(rows, labels, { lambda: 100 });
    const free = logit(0.7) - logit(0.2);
    expect(Math.abs(weak.weights[0] ?? 0)).toBeLessThan(free);
    expect(Math.abs(strong.weights[0] ?? 0)).toBeLessThan(Math.abs(weak.weights[0] ?? 0));
    // With the weight near 0 the intercept fits the overall rate, 9 of 20.
    expect(strong.intercept).toBeCloseTo(logit(9 / 20), 1);
  });

  it("stays finite on separable data thanks to the penalty", () => {
    const model = fitLogistic([[-2], [-1], [1], [2]], [0, 0, 1, 1], { lambda: 1 });
    expect(Number.isFinite(model.weights[0])).toBe(true);
    expect(model.weights[0]).toBeGreaterThan(0);
  });

  it("refuses mismatched rows and labels", () => {
    expect(() => fitLogistic([[1]], [1, 0])).toThrow(/as many labels as rows/);
  });
});

describe("linear algebra and standardization", () => {
  it("solves a symmetric positive definite system from its lower triangle", () => {
    // [[4, 2], [2, 3]] x = [2, 1] => x = [0.5, 0]
    expect(solveSymmetric([[4], [2, 3]], [2, 1]).map((v) => Number(v.toFixed(12)))).toEqual([0.5, 0]);
    expect(() => solveSymmetric([[0], [0, 0]], [1, 1])).toThrow(/positive definite/);
  });

  it("standardizes to mean 0 and standard deviation 1; a constant column to 0", () => {
    const rows = [
      [1, 5],
      [3, 5],
    ];
    const s = fitStandardizer(rows);
    expect(s).toEqual({ means: [2, 5], stds: [1, 1] });
    expect(standardize(rows, s)).toEqual([
      [-1, 0],
      [1, 0],
    ]);
  });
});

describe("bands and drivers", () => {
  it("bands at 0.3 and 0.6", () => {
    expect([0, 0.29, 0.3, 0.59, 0.6, 1].map(bandOf)).toEqual([
      "LOW",
      "LOW",
      "MEDIUM",
      "MEDIUM",
      "HIGH",
      "HIGH",
    ]);
  });

  it("drivers are the largest positive contributions, strongest first, at most three", () => {
    const keys = ["a", "b", "c", "d", "e"];
    expect(driversOf([1, -2, 0.5, 3, 1], [0.5, -1, 1, 0.1, -1], keys)).toEqual(["b", "a", "c"]);
    expect(driversOf([1, 1], [-1, -2], ["a", "b"])).toEqual([]);
  });
});
