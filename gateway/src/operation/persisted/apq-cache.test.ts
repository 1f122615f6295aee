import { createLogger } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import { deleteRedisKeys, TEST_REDIS_URL, testRedisPrefix } from "@nexus/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayMetrics } from "../../observability/metrics.ts";
import { createApqCache } from "./apq-cache.ts";

const logger = createLogger("apq-test", "silent");
const prefix = testRedisPrefix("gateway-apq");
let redis: Redis;

beforeAll(async () => {
  redis = await connectRedis(TEST_REDIS_URL);
});
afterAll(async () => {
  await deleteRedisKeys(redis, [prefix]);
  await redis.quit();
});

const lookups = async (metrics: ReturnType<typeof createGatewayMetrics>) =>
  (await metrics.cacheLookups.get()).values.map(({ labels, value }) => ({ ...labels, value }));

describe("createApqCache", () => {
  it("keeps queries under the gateway's prefix with Apollo's TTL, and counts hits and misses", async () => {
    const metrics = createGatewayMetrics();
    const cache = createApqCache({ redis, keyPrefix: prefix, metrics, logger, timeoutMs: 1000 });
    expect(await cache.get("apq:abc")).toBeUndefined();
    await cache.set("apq:abc", "{ a }", { ttl: 120 });
    expect(await redis.get(`${prefix}:apq:abc`)).toBe("{ a }");
    expect(await redis.ttl(`${prefix}:apq:abc`)).toBeGreaterThan(110);
    expect(await cache.get("apq:abc")).toBe("{ a }");
    expect(await lookups(metrics)).toEqual([
      { cache: "apq", result: "miss", value: 1 },
      { cache: "apq", result: "hit", value: 1 },
    ]);
    expect(await cache.delete("apq:abc")).toBe(true);
    expect(await cache.get("apq:abc")).toBeUndefined();
  });

  it("answers a miss, quickly, when Redis does not answer", async () => {
    // Never connected: ioredis queues the command instead of failing it, as while it reconnects.
    const offline = new Redis("redis://127.0.0.1:1", { lazyConnect: true, maxRetriesPerRequest: null });
    offline.on("error", () => {}); // Refused, and retried, until the test disconnects it.
    const metrics = createGatewayMetrics();
    const cache = createApqCache({ redis: offline, keyPrefix: prefix, metrics, logger, timeoutMs: 100 });
    const started = Date.now();
    expect(await cache.get("apq:abc")).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(cache.set("apq:abc", "{ a }", { ttl: 60 })).rejects.toThrow(
      "Redis did not answer within 100 ms",
    );
    expect(await lookups(metrics)).toEqual([{ cache: "apq", result: "error", value: 1 }]);
    offline.disconnect();
  });
});
