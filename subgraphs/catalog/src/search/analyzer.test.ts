import { describe, expect, it } from "vitest";
import { boundedDistance, swaps } from "./analyzer.ts";

describe("boundedDistance", () => {
  it.each([
    ["laptop", "laptop", 1, 0],
    ["lpatop", "laptop", 1, 1],
    ["laptpo", "laptop", 1, 1],
    ["lenvo", "lenovo", 1, 1],
    ["lpatpo", "laptop", 2, 2],
    ["lpatpo", "laptop", 1, 2],
    ["ca", "abc", 3, 3],
    ["kitten", "sitting", 3, 3],
    ["kitten", "sitting", 1, 2],
    ["", "abc", 3, 3],
  ])("%s → %s within %i is %i", (a, b, max, expected) => {
    expect(boundedDistance(a, b, max)).toBe(expected);
    expect(boundedDistance(b, a, max)).toBe(expected);
  });
});

describe("swaps", () => {
  it("swaps each pair of different neighbours once", () => {
    expect(swaps("abc")).toEqual(["bac", "acb"]);
    expect(swaps("noon")).toEqual(["onon", "nono"]);
    expect(swaps("a")).toEqual([]);
  });
});
