import { connectRedis } from "@nexus/stores";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteRedisKeys, TEST_REDIS_URL, testRedisPrefix } from "./redis.ts";

let redis: Awaited<ReturnType<typeof connectRedis>>;
const gone = [testRedisPrefix("cleanup-a"), testRedisPrefix("cleanup-b")];
const kept = testRedisPrefix("cleanup-kept");

beforeAll(async () => {
  redis = await connectRedis(TEST_REDIS_URL);
});

afterAll(async () => {
  await redis?.del(`${kept}:one`, `${gone[0]}`);
  await redis?.quit();
});

describe("deleteRedisKeys", () => {
  it("deletes every key under each prefix, over many SCAN steps, and nothing else", async () => {
    const pipeline = redis.pipeline();
    for (let n = 0; n < 2500; n++) pipeline.set(`${gone[0]}:job:${n}`, "x");
    pipeline.hset(`${gone[1]}:cart:1`, "line", "1");
    pipeline.set(`${kept}:one`, "x");
    // The prefix itself, without a colon, is another key space's name, not one of its keys.
    pipeline.set(`${gone[0]}`, "x");
    await pipeline.exec();

    await deleteRedisKeys(redis, gone);

    for (const prefix of gone) expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    expect(await redis.get(`${kept}:one`)).toBe("x");
    expect(await redis.get(`${gone[0]}`)).toBe("x");
  });
});
