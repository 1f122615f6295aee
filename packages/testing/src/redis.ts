import { randomBytes } from "node:crypto";
import type { connectRedis } from "@nexus/stores";

export const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A BullMQ/Redis key prefix unique to one test file, so parallel files never share queues. */
export const testRedisPrefix = (label: string): string =>
  `nexus-test-${label}-${randomBytes(4).toString("hex")}`;

/**
 * Deletes every key under `<prefix>:` for each prefix (a test's or a stack's queues, carts,
 * caches). SCAN in steps rather than KEYS, so a benchmark's hundreds of thousands of keys never
 * block Redis for the tests running beside it.
 */
export async function deleteRedisKeys(
  redis: Awaited<ReturnType<typeof connectRedis>>,
  prefixes: readonly string[],
): Promise<void> {
  for (const prefix of prefixes) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
  }
}
