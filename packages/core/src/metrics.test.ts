import { describe, expect, it } from "vitest";
import { sampleAtMostEvery } from "./metrics.ts";

describe("sampleAtMostEvery", () => {
  it("reads once per period, and concurrent callers share one reading", async () => {
    let reads = 0;
    let release: () => void = () => {};
    const sample = sampleAtMostEvery(60_000, async () => {
      reads++;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return reads;
    });
    const first = sample();
    const second = sample();
    release();
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    expect(await sample()).toBe(1);
    expect(reads).toBe(1);
  });

  it("reads again once the last reading is older than the period", async () => {
    let reads = 0;
    const sample = sampleAtMostEvery(20, async () => ++reads);
    expect(await sample()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await sample()).toBe(2);
  });

  it("keeps no failed reading: the next call reads again", async () => {
    let reads = 0;
    const sample = sampleAtMostEvery(60_000, async () => {
      reads++;
      if (reads === 1) throw new Error("database down");
      return reads;
    });
    await expect(sample()).rejects.toThrow("database down");
    expect(await sample()).toBe(2);
  });
});
