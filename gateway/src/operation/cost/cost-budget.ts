import { FIXED_WINDOW_LUA } from "@nexus/stores";
import type { Redis } from "ioredis";

/** A client's cost budget after a charge (or a refused one), in the shape clients are shown. */
export interface BudgetStatus {
  /** Whether the charge was taken. */
  allowed: boolean;
  /** The bucket's size: the most a client can spend at once. */
  maximumAvailable: number;
  /** Points left after this charge, rounded down. */
  currentlyAvailable: number;
  /** Points added back per second. */
  restoreRate: number;
  /** Whole seconds until the refused charge would fit; 0 when allowed. */
  retryAfterSeconds: number;
}

/** A fixed window of requests per client, counted in the same round trip as a charge. */
export interface RateWindow {
  /** Redis key prefix of the counters, e.g. `nexus:gateway:rate`. */
  prefix: string;
  /** Requests one client may send per window. */
  limit: number;
  windowSeconds: number;
}

/** A client's rate window after counting a request. */
export interface WindowStatus {
  /** Requests counted in the window, this one included; over the limit means refused. */
  count: number;
  /** Milliseconds until the window ends. */
  ttlMs: number;
}

export interface CostBudget {
  /**
   * Takes `cost` points from `client`'s bucket if it holds that many; 0 only reads it. With a
   * `window`, the request is first counted in the client's rate window, in the same script:
   * one round trip for both limits. A request over its window is charged nothing (the bucket
   * is only read) and its `window.count` says so.
   */
  charge(
    client: string,
    cost: number,
    window?: RateWindow,
  ): Promise<BudgetStatus & { window?: WindowStatus }>;
}

/**
 * A token bucket per client: full at first, refilled continuously at `refillPerSecond` up to
 * `capacity`, and charged by one script so the read, refill and charge are one atomic step on
 * the Redis every gateway replica shares. Time is Redis's own (`TIME`), so replicas with
 * skewed clocks agree. A bucket's key expires once it would be full again: an idle client
 * costs no memory. Tokens are kept as a decimal string because Redis truncates script
 * numbers to integers. Expects `bucket_key`, `capacity`, `rate` and `cost`; leaves `allowed`
 * and `tokens`.
 */
const TOKEN_BUCKET_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', bucket_key, 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
if cost <= tokens then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', bucket_key, 'tokens', string.format('%.3f', tokens), 'at', now)
redis.call('PEXPIRE', bucket_key, math.ceil((capacity - tokens) * 1000 / rate) + 1000)
`;

const BUDGET_ARGUMENTS = `
local bucket_key = KEYS[1]
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
`;

const CHARGE_SCRIPT = `${BUDGET_ARGUMENTS}${TOKEN_BUCKET_LUA}
return { allowed, string.format('%.3f', tokens) }
`;

/** The rate window first: a request over it is charged nothing. */
const CHARGE_REQUEST_SCRIPT = `${BUDGET_ARGUMENTS}
local window_key = KEYS[2]
local window_seconds = tonumber(ARGV[5])
${FIXED_WINDOW_LUA}
if window_count > tonumber(ARGV[4]) then cost = 0 end
${TOKEN_BUCKET_LUA}
return { allowed, string.format('%.3f', tokens), window_count, window_ttl }
`;

const CHARGE = "nexusChargeCostBudget";
const CHARGE_REQUEST = "nexusChargeRequest";

type Script = (...args: (string | number)[]) => Promise<unknown>;

export function createCostBudget(
  redis: Redis,
  options: { prefix: string; capacity: number; refillPerSecond: number },
): CostBudget {
  const { capacity, refillPerSecond } = options;
  // ioredis sends the scripts by their SHA (EVALSHA) and loads them again when Redis lost them.
  redis.defineCommand(CHARGE, { numberOfKeys: 1, lua: CHARGE_SCRIPT });
  redis.defineCommand(CHARGE_REQUEST, { numberOfKeys: 2, lua: CHARGE_REQUEST_SCRIPT });
  const scripts = redis as unknown as Record<typeof CHARGE | typeof CHARGE_REQUEST, Script>;
  const statusOf = (allowed: number, left: string, cost: number): BudgetStatus => {
    const tokens = Number(left);
    return {
      allowed: allowed === 1,
      maximumAvailable: capacity,
      currentlyAvailable: Math.floor(tokens),
      restoreRate: refillPerSecond,
      retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil((cost - tokens) / refillPerSecond)),
    };
  };
  return {
    async charge(client, cost, window) {
      const bucket = `${options.prefix}:${client}`;
      if (!window) {
        const [allowed, left] = (await scripts[CHARGE].call(
          redis,
          bucket,
          capacity,
          refillPerSecond,
          cost,
        )) as [number, string];
        return statusOf(allowed, left, cost);
      }
      const [allowed, left, count, ttlMs] = (await scripts[CHARGE_REQUEST].call(
        redis,
        bucket,
        `${window.prefix}:${client}`,
        capacity,
        refillPerSecond,
        cost,
        window.limit,
        window.windowSeconds,
      )) as [number, string, number, number];
      return { ...statusOf(allowed, left, cost), window: { count, ttlMs } };
    },
  };
}
