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

export interface CostBudget {
  /** Takes `cost` points from `client`'s bucket if it holds that many; 0 only reads it. */
  charge(client: string, cost: number): Promise<BudgetStatus>;
}

/**
 * A token bucket per client: full at first, refilled continuously at `refillPerSecond` up to
 * `capacity`, and charged by one script so the read, refill and charge are one atomic step on
 * the Redis every gateway replica shares. Time is Redis's own (`TIME`), so replicas with
 * skewed clocks agree. A bucket's key expires once it would be full again: an idle client
 * costs no memory. Tokens are kept as a decimal string because Redis truncates script
 * numbers to integers.
 */
const TOKEN_BUCKET = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
if cost <= tokens then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.3f', tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1000)
return { allowed, string.format('%.3f', tokens) }
`;

const COMMAND = "nexusChargeCostBudget";

export function createCostBudget(
  redis: Redis,
  options: { prefix: string; capacity: number; refillPerSecond: number },
): CostBudget {
  const { capacity, refillPerSecond } = options;
  // ioredis sends the script by its SHA (EVALSHA) and loads it again when Redis lost it.
  redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: TOKEN_BUCKET });
  const run = (
    redis as unknown as Record<typeof COMMAND, (...args: (string | number)[]) => Promise<unknown>>
  )[COMMAND].bind(redis);
  return {
    async charge(client, cost) {
      const [allowed, left] = (await run(`${options.prefix}:${client}`, capacity, refillPerSecond, cost)) as [
        number,
        string,
      ];
      const tokens = Number(left);
      return {
        allowed: allowed === 1,
        maximumAvailable: capacity,
        currentlyAvailable: Math.floor(tokens),
        restoreRate: refillPerSecond,
        retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil((cost - tokens) / refillPerSecond)),
      };
    },
  };
}
