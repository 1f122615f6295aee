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
 * One fixed-window count, as a piece of Lua for scripts that do more in the same round trip
 * (the gateway counts a request and charges its cost budget in one script). Expects
 * `window_key` and `window_seconds` to be defined; leaves the window's count, this attempt
 * included, in `window_count` and its milliseconds to live in `window_ttl`. The window starts
 * at the first attempt (`NX`) and later attempts do not extend it.
 */
export const FIXED_WINDOW_LUA = `
redis.call('SET', window_key, 0, 'EX', window_seconds, 'NX')
local window_count = redis.call('INCR', window_key)
local window_ttl = redis.call('PTTL', window_key)
`;

const CONSUME_SCRIPT = `
local window_key = KEYS[1]
local window_seconds = tonumber(ARGV[1])
${FIXED_WINDOW_LUA}
return { window_count, window_ttl }
`;

const CONSUME = "nexusConsumeFixedWindow";

/**
 * A fixed-window counter in Redis, shared by every replica. Attempts are counted before the
 * guarded work runs, not after it fails, so a burst of concurrent attempts cannot slip past
 * the limit while the first ones are still running. The window starts at the first attempt
 * and is not extended by later ones, so a client that keeps trying is not locked out forever.
 * An attempt is one script (one command, one round trip), not a MULTI of four.
 */
export function createFixedWindowLimiter(
  redis: Redis,
  options: { prefix: string; limit: number; windowSeconds: number },
): FixedWindowLimiter {
  const keyOf = (key: string) => `${options.prefix}:${key}`;
  // ioredis sends the script by its SHA (EVALSHA) and loads it again when Redis lost it.
  redis.defineCommand(CONSUME, { numberOfKeys: 1, lua: CONSUME_SCRIPT });
  const consume = (
    redis as unknown as Record<
      typeof CONSUME,
      (key: string, windowSeconds: number) => Promise<[number, number]>
    >
  )[CONSUME].bind(redis);
  return {
    async consume(key) {
      const [count, ttlMs] = await consume(keyOf(key), options.windowSeconds);
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
