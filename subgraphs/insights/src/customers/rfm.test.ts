import { describe, expect, it } from "vitest";
import { quintileScores, rfmScores, SEGMENTS, segmentOf } from "./rfm.model.ts";

describe("quintileScores", () => {
  it("scores each fifth 1 to 5, higher values higher", () => {
    expect(quintileScores([10, 9, 8, 7, 6, 5, 4, 3, 2, 1])).toEqual([5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
  });

  it("gives ties the score of the first of them", () => {
    // Six of ten at 1: all take rank 0's score; 2 starts at rank 6 (score 4), 3 at rank 9 (score 5).
    expect(quintileScores([1, 1, 1, 1, 1, 1, 2, 2, 2, 3])).toEqual([1, 1, 1, 1, 1, 1, 4, 4, 4, 5]);
    expect(quintileScores([7, 7, 7])).toEqual([1, 1, 1]);
    expect(quintileScores([])).toEqual([]);
  });

  it("rfmScores rewards few days since the last order, many orders and much revenue", () => {
    const scores = rfmScores([
      { recencyDays: 1, frequency: 9, monetary: 900 },
      { recencyDays: 50, frequency: 5, monetary: 500 },
      { recencyDays: 100, frequency: 3, monetary: 300 },
      { recencyDays: 200, frequency: 2, monetary: 200 },
      { recencyDays: 400, frequency: 1, monetary: 100 },
    ]);
    expect(scores.map((s) => [s.recencyScore, s.frequencyScore, s.monetaryScore])).toEqual([
      [5, 5, 5],
      [4, 4, 4],
      [3, 3, 3],
      [2, 2, 2],
      [1, 1, 1],
    ]);
  });
});

describe("segmentOf", () => {
  const grid = (r: number) =>
    [1, 2, 3, 4, 5].map((fm) => segmentOf({ recencyScore: r, frequencyScore: fm, monetaryScore: fm }));

  it("follows the documented R by FM grid", () => {
    expect(grid(5)).toEqual(["NEW", "POTENTIAL_LOYALISTS", "POTENTIAL_LOYALISTS", "CHAMPIONS", "CHAMPIONS"]);
    expect(grid(4)).toEqual([
      "PROMISING",
      "POTENTIAL_LOYALISTS",
      "POTENTIAL_LOYALISTS",
      "LOYAL",
      "CHAMPIONS",
    ]);
    expect(grid(3)).toEqual(["NEED_ATTENTION", "NEED_ATTENTION", "NEED_ATTENTION", "LOYAL", "LOYAL"]);
    expect(grid(2)).toEqual(["HIBERNATING", "HIBERNATING", "AT_RISK", "AT_RISK", "CANNOT_LOSE_THEM"]);
    expect(grid(1)).toEqual(["LOST", "LOST", "AT_RISK", "AT_RISK", "CANNOT_LOSE_THEM"]);
  });

  it("rounds FM half up and reaches every segment", () => {
    // F 4, M 5: FM 4.5 -> 5.
    expect(segmentOf({ recencyScore: 2, frequencyScore: 4, monetaryScore: 5 })).toBe("CANNOT_LOSE_THEM");
    const reached = new Set([1, 2, 3, 4, 5].flatMap(grid));
    expect([...reached].sort()).toEqual([...SEGMENTS].sort());
  });
});
