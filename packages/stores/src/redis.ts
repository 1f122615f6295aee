import { Redis } from "ioredis";
import { redactUrl, StoreUnavailableError } from "./errors.ts";

/**
 * An ioredis client that BullMQ can share: `maxRetriesPerRequest: null` is what its
 * blocking workers require. `connect()` is awaited so a missing Redis fails start-up clearly.
 */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: 5000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new StoreUnavailableError(
      "Redis",
      redactUrl(url),
      "Start Redis (e.g. `redis-server --daemonize yes` or `docker compose up redis`) or set REDIS_URL.",
      { cause: error },
    );
  }
  return redis;
}

/**
 * Readiness of a Redis connection for health checks. Not a PING: with Redis gone, ioredis
 * queues commands until it is back, and the probe would hang instead of failing.
 */
export function assertRedisReady(redis: Redis): void {
  if (redis.status !== "ready") throw new Error(`Redis connection is ${redis.status}`);
}
