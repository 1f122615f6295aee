import type { Redis } from "ioredis";
import type { CartLineModel, CartModel } from "./cart.model.ts";

/**
 * Carts live in Redis, one hash per customer: a field `p:<productId>` per line holding
 * `<quantity>:<addedAt ms>`, and `updatedAt`. Every change runs as one Lua script, so limits
 * hold under concurrent requests, and refreshes the key's TTL: a cart expires after
 * `ttlSeconds` without a change.
 */
export interface CartStore {
  get(customerId: string): Promise<CartModel>;
  /** Adds units to a line (creating it). */
  add(customerId: string, productId: string, quantity: number): Promise<CartChange>;
  /** Sets a line's quantity; the line must exist. */
  set(customerId: string, productId: string, quantity: number): Promise<CartChange>;
  remove(customerId: string, productId: string): Promise<CartChange>;
  clear(customerId: string): Promise<void>;
  /**
   * Takes what was checked out out of the cart: each line loses the units bought and goes when
   * none are left, so anything added while the checkout ran stays.
   */
  subtract(customerId: string, lines: readonly { productId: string; quantity: number }[]): Promise<void>;
}

export type CartChange =
  | { ok: true }
  | { ok: false; problem: "QUANTITY_LIMIT"; current: number }
  | { ok: false; problem: "LINE_LIMIT" }
  | { ok: false; problem: "LINE_NOT_FOUND" };

export interface CartLimits {
  maxQuantity: number;
  maxLines: number;
  ttlSeconds: number;
}

const UPDATED_AT = "updatedAt";
const LINE = "p:";

/** Returns {0} on success, {1, current} over the quantity limit, {2} over the line limit, {3} no such line. */
const CHANGE_LINE = `
local key, field = KEYS[1], ARGV[1]
local quantity, now, mode = tonumber(ARGV[2]), ARGV[3], ARGV[4]
local maxQuantity, maxLines, ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local current = redis.call('HGET', key, field)
local addedAt = now
if current then
  local sep = string.find(current, ':')
  addedAt = string.sub(current, sep + 1)
  if mode == 'add' then quantity = quantity + tonumber(string.sub(current, 1, sep - 1)) end
  if quantity > maxQuantity then return {1, tonumber(string.sub(current, 1, sep - 1))} end
else
  if mode == 'set' or mode == 'remove' then return {3} end
  if quantity > maxQuantity then return {1, 0} end
  local lines = redis.call('HLEN', key) - redis.call('HEXISTS', key, '${UPDATED_AT}')
  if lines >= maxLines then return {2} end
end
if mode == 'remove' then
  redis.call('HDEL', key, field)
  if redis.call('HLEN', key) - redis.call('HEXISTS', key, '${UPDATED_AT}') == 0 then
    redis.call('DEL', key)
    return {0}
  end
else
  redis.call('HSET', key, field, quantity .. ':' .. addedAt)
end
redis.call('HSET', key, '${UPDATED_AT}', now)
redis.call('EXPIRE', key, ttl)
return {0}
`;

const SUBTRACT = `
local key, now, ttl = KEYS[1], ARGV[1], tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  local current = redis.call('HGET', key, ARGV[i])
  if current then
    local sep = string.find(current, ':')
    local left = tonumber(string.sub(current, 1, sep - 1)) - tonumber(ARGV[i + 1])
    if left > 0 then
      redis.call('HSET', key, ARGV[i], left .. string.sub(current, sep))
    else
      redis.call('HDEL', key, ARGV[i])
    end
  end
end
if redis.call('HLEN', key) - redis.call('HEXISTS', key, '${UPDATED_AT}') <= 0 then
  redis.call('DEL', key)
else
  redis.call('HSET', key, '${UPDATED_AT}', now)
  redis.call('EXPIRE', key, ttl)
end
return 0
`;

export function createCartStore(redis: Redis, prefix: string, limits: CartLimits): CartStore {
  const keyOf = (customerId: string) => `${prefix}:cart:${customerId}`;

  const change = async (
    customerId: string,
    productId: string,
    quantity: number,
    mode: "add" | "set" | "remove",
  ): Promise<CartChange> => {
    const [code, current] = (await redis.eval(
      CHANGE_LINE,
      1,
      keyOf(customerId),
      LINE + productId,
      quantity,
      Date.now(),
      mode,
      limits.maxQuantity,
      limits.maxLines,
      limits.ttlSeconds,
    )) as [number, number?];
    if (code === 0) return { ok: true };
    if (code === 1) return { ok: false, problem: "QUANTITY_LIMIT", current: current ?? 0 };
    if (code === 2) return { ok: false, problem: "LINE_LIMIT" };
    return { ok: false, problem: "LINE_NOT_FOUND" };
  };

  return {
    async get(customerId) {
      const hash = await redis.hgetall(keyOf(customerId));
      const lines: CartLineModel[] = [];
      for (const [field, value] of Object.entries(hash)) {
        if (!field.startsWith(LINE)) continue;
        const [quantity, addedAt] = value.split(":").map(Number);
        if (quantity === undefined || addedAt === undefined) continue;
        lines.push({ productId: field.slice(LINE.length), quantity, addedAt: new Date(addedAt) });
      }
      lines.sort(
        (a, b) =>
          a.addedAt.getTime() - b.addedAt.getTime() ||
          (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0),
      );
      const updatedAt = lines.length > 0 && hash[UPDATED_AT] ? new Date(Number(hash[UPDATED_AT])) : null;
      return {
        customerId,
        lines,
        updatedAt,
        expiresAt: updatedAt ? new Date(updatedAt.getTime() + limits.ttlSeconds * 1000) : null,
      };
    },
    add: (customerId, productId, quantity) => change(customerId, productId, quantity, "add"),
    set: (customerId, productId, quantity) => change(customerId, productId, quantity, "set"),
    remove: (customerId, productId) => change(customerId, productId, 0, "remove"),
    async clear(customerId) {
      await redis.del(keyOf(customerId));
    },
    async subtract(customerId, lines) {
      if (lines.length === 0) return;
      await redis.eval(
        SUBTRACT,
        1,
        keyOf(customerId),
        Date.now(),
        limits.ttlSeconds,
        ...lines.flatMap((line) => [LINE + line.productId, line.quantity]),
      );
    },
  };
}
