import type { Redis } from "ioredis";

export interface RateLimitDecision {
  allowed: boolean;
  /** Attempts counted in the current window, this one included. */
  count: number;
  /** Seconds until the window resets; 0 when allowed. */
  retryAfterSeconds: number;
}

export interface FixedWindowLimiter {
  /** Counts an attempt against `key` and says whether it is within the limit. */
  consume(key: string): Promise<RateLimitDecision>;
  /** Gives back one attempt, e.g. after it succeeded. */
  refund(key: string): Promise<void>;
  /** Forgets every attempt of `key`. */
  reset(key: string): Promise<void>;
}

/**
 * A fixed-window counter in Redis, shared by every replica. Attempts are counted before the
 * guarded work runs, not after it fails, so a burst of concurrent attempts cannot slip past
 * the limit while the first ones are still running. The window starts at the first attempt
 * and is not extended by later ones, so a client that keeps trying is not locked out forever.
 */
export function createFixedWindowLimiter(
  redis: Redis,
  options: { prefix: string; limit: number; windowSeconds: number },
): FixedWindowLimiter {
  const keyOf = (key: string) => `${options.prefix}:${key}`;
  return {
    async consume(key) {
      const redisKey = keyOf(key);
      const replies = await redis
        .multi()
        .set(redisKey, 0, "EX", options.windowSeconds, "NX")
        .incr(redisKey)
        .pttl(redisKey)
        .exec();
      const count = Number(replies?.[1]?.[1] ?? 0);
      const ttlMs = Number(replies?.[2]?.[1] ?? 0);
      const allowed = count <= options.limit;
      return {
        allowed,
        count,
        retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(ttlMs / 1000)),
      };
    },
    async refund(key) {
      const redisKey = keyOf(key);
      // DECR on a key that expired meanwhile would create it at -1 without a TTL.
      await redis.eval(
        "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0",
        1,
        redisKey,
      );
    },
    async reset(key) {
      await redis.del(keyOf(key));
    },
  };
}
