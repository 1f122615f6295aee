import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createFixedWindowLimiter } from "./rate-limit.ts";
import { connectRedis } from "./redis.ts";

// @nexus/testing depends on this package, so its helpers are not used here.
const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const testRedisPrefix = (label: string) => `nexus-test-${label}-${randomBytes(4).toString("hex")}`;

let redis: Redis;
beforeAll(async () => {
  redis = await connectRedis(TEST_REDIS_URL);
});
afterAll(() => redis.quit());

describe("createFixedWindowLimiter", () => {
  test("allows `limit` attempts per window, then says when to come back", async () => {
    const limiter = createFixedWindowLimiter(redis, {
      prefix: testRedisPrefix("limit"),
      limit: 3,
      windowSeconds: 60,
    });
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await limiter.consume("client"));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    expect(decisions[3]?.retryAfterSeconds).toBeGreaterThan(55);
    expect(decisions[3]?.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await limiter.consume("other")).allowed).toBe(true);
  });

  test("counts concurrent attempts exactly", async () => {
    const limiter = createFixedWindowLimiter(redis, {
      prefix: testRedisPrefix("burst"),
      limit: 5,
      windowSeconds: 60,
    });
    const decisions = await Promise.all(Array.from({ length: 20 }, () => limiter.consume("client")));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
  });

  test("the window expires, refunds give attempts back, reset forgets them", async () => {
    const prefix = testRedisPrefix("window");
    const limiter = createFixedWindowLimiter(redis, { prefix, limit: 1, windowSeconds: 1 });
    expect((await limiter.consume("a")).allowed).toBe(true);
    expect((await limiter.consume("a")).allowed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await limiter.consume("a")).allowed).toBe(true);

    await limiter.refund("a");
    expect((await limiter.consume("a")).allowed).toBe(true);
    await limiter.reset("a");
    expect(await redis.exists(`${prefix}:a`)).toBe(0);
    // A refund after expiry must not leave a key without a TTL behind.
    await limiter.refund("gone");
    expect(await redis.exists(`${prefix}:gone`)).toBe(0);
  });
});
