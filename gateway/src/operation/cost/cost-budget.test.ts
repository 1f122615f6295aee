/** The token bucket script against a real Redis. */
import { connectRedis } from "@nexus/stores";
import { deleteRedisKeys, TEST_REDIS_URL, testRedisPrefix } from "@nexus/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCostBudget } from "./cost-budget.ts";

const prefix = testRedisPrefix("cost-budget");
let redis: Redis;

beforeAll(async () => {
  redis = await connectRedis(TEST_REDIS_URL);
});
afterAll(async () => {
  await deleteRedisKeys(redis, [prefix]);
  redis.disconnect();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("createCostBudget", () => {
  it("starts full, takes each charge, and refuses one that does not fit with the wait it needs", async () => {
    const budget = createCostBudget(redis, { prefix, capacity: 100, refillPerSecond: 10 });
    expect(await budget.charge("a", 60)).toEqual({
      allowed: true,
      maximumAvailable: 100,
      currentlyAvailable: 40,
      restoreRate: 10,
      retryAfterSeconds: 0,
    });
    const refused = await budget.charge("a", 65);
    expect(refused.allowed).toBe(false);
    expect(refused.currentlyAvailable).toBe(40);
    // 25 missing points at 10 per second (a few milliseconds of refill may have passed)
    expect(refused.retryAfterSeconds).toBe(3);
    // A refused charge takes nothing; another client has its own bucket.
    expect((await budget.charge("a", 40)).allowed).toBe(true);
    expect((await budget.charge("b", 100)).currentlyAvailable).toBe(0);
  });

  it("refills continuously up to its capacity", async () => {
    const budget = createCostBudget(redis, { prefix, capacity: 50, refillPerSecond: 40 });
    await budget.charge("refill", 50);
    await sleep(500);
    const later = await budget.charge("refill", 0);
    expect(later.currentlyAvailable).toBeGreaterThanOrEqual(20);
    expect(later.currentlyAvailable).toBeLessThanOrEqual(25);
    await sleep(1000);
    expect((await budget.charge("refill", 0)).currentlyAvailable).toBe(50);
  });

  it("is atomic: 50 concurrent charges of 10 on a bucket of 100 let exactly 10 through", async () => {
    const budget = createCostBudget(redis, { prefix, capacity: 100, refillPerSecond: 1 });
    const results = await Promise.all(Array.from({ length: 50 }, () => budget.charge("burst", 10)));
    expect(results.filter((result) => result.allowed)).toHaveLength(10);
  });

  it("forgets a bucket once it would be full again", async () => {
    const budget = createCostBudget(redis, { prefix, capacity: 100, refillPerSecond: 50 });
    await budget.charge("idle", 100);
    // Full again in 2 s, plus one second of slack.
    const ttl = await redis.pttl(`${prefix}:idle`);
    expect(ttl).toBeGreaterThan(2000);
    expect(ttl).toBeLessThanOrEqual(3000);
  });
});
