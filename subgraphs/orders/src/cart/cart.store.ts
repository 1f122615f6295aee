import type { Redis } from "ioredis";
import type { CartLineModel, CartModel, CartSettings } from "./cart.model.ts";

/**
 * Carts live in Redis, one hash per cart: a field `p:<productId>` per line holding
 * `<quantity>:<addedAt ms>`, and `updatedAt`. Every change runs as one Lua script, so limits
 * hold under concurrent requests, and refreshes the key's TTL: a cart expires after
 * `ttlSeconds` without a change. A cart id is a customer's id, or `guestCartId(tokenHash)` for
 * a visitor's cart: the key holds only the token's hash, so whoever reads Redis cannot use it.
 */
export interface CartStore {
  get(cartId: string): Promise<CartModel>;
  /**
   * Moves every line of one cart into another and deletes the first, in one script: quantities
   * add up to the per-line limit, and lines that would pass the per-cart limit are left out.
   * A source cart that is gone (merged already, expired) changes nothing.
   */
  merge(fromCartId: string, toCartId: string): Promise<CartMerge>;
  /**
   * Adds lines to a cart under the same limits, once per `onceId`: a marker set in the same
   * script says it was done, so a repeated call changes nothing and answers `alreadyDone`.
   */
  addOnce(
    cartId: string,
    onceId: string,
    lines: readonly { productId: string; quantity: number }[],
  ): Promise<CartMerge>;
  /** Adds units to a line (creating it). */
  add(cartId: string, productId: string, quantity: number): Promise<CartChange>;
  /** Sets a line's quantity; the line must exist. */
  set(cartId: string, productId: string, quantity: number): Promise<CartChange>;
  remove(cartId: string, productId: string): Promise<CartChange>;
  clear(cartId: string): Promise<void>;
  /**
   * Takes what was checked out out of the cart: each line loses the units bought and goes when
   * none are left, so anything added while the checkout ran stays.
   */
  subtract(cartId: string, lines: readonly { productId: string; quantity: number }[]): Promise<void>;
  /** Changes some of a cart's settings (null clears one), and keeps them another TTL. */
  updateSettings(cartId: string, changes: Partial<CartSettings>): Promise<void>;
  /**
   * Gives a cart the settings of another it lacks (at sign-in, from the guest cart) and deletes
   * the other's.
   */
  moveSettings(fromCartId: string, toCartId: string): Promise<void>;
}

export type CartChange =
  | { ok: true }
  | { ok: false; problem: "QUANTITY_LIMIT"; current: number }
  | { ok: false; problem: "LINE_LIMIT" }
  | { ok: false; problem: "LINE_NOT_FOUND" };

/** What a merge did. Clamped lines hold the limit instead of the sum; dropped ones did not fit. */
export interface CartMerge {
  /** False when there was nothing to merge: no such source cart, or the lines were added before. */
  applied: boolean;
  /** Only for `addOnce`: the lines were added by an earlier call. */
  alreadyDone: boolean;
  clamped: { productId: string; requested: number; kept: number }[];
  dropped: { productId: string; quantity: number }[];
}

/** The cart id of a guest cart, from the hash of its token. */
export const guestCartId = (tokenHash: string): string => `guest:${tokenHash}`;
const GUEST = "guest:";

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

/**
 * KEYS: the target cart, and the source cart ('cart' mode) or the once-marker ('lines' mode).
 * Returns {0} when there was nothing to merge, {2} when the marker was already set, and
 * otherwise {1, kind, productId, a, b, ...}: 'c' clamped (requested, kept), 'd' dropped (quantity).
 */
const MERGE = `
local target, other = KEYS[1], KEYS[2]
local mode, now = ARGV[1], ARGV[2]
local maxQuantity, maxLines, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local incoming = {}
if mode == 'cart' then
  local flat = redis.call('HGETALL', other)
  for i = 1, #flat, 2 do
    local field, value = flat[i], flat[i + 1]
    if string.sub(field, 1, ${LINE.length}) == '${LINE}' then
      local sep = string.find(value, ':')
      table.insert(incoming, {field, tonumber(string.sub(value, 1, sep - 1)), string.sub(value, sep + 1)})
    end
  end
  if #incoming == 0 then return {0} end
  -- Oldest first, so the lines left out by the line limit are the newest.
  table.sort(incoming, function(a, b)
    if a[3] == b[3] then return a[1] < b[1] end
    return tonumber(a[3]) < tonumber(b[3])
  end)
  redis.call('DEL', other)
else
  if redis.call('EXISTS', other) == 1 then return {2} end
  redis.call('SET', other, now, 'EX', ttl)
  for i = 6, #ARGV, 2 do table.insert(incoming, {ARGV[i], tonumber(ARGV[i + 1]), now}) end
end
local result = {1}
local lines = redis.call('HLEN', target) - redis.call('HEXISTS', target, '${UPDATED_AT}')
local changed = false
for _, line in ipairs(incoming) do
  local field, quantity, addedAt = line[1], line[2], line[3]
  local productId = string.sub(field, ${LINE.length + 1})
  local current = redis.call('HGET', target, field)
  if current then
    local sep = string.find(current, ':')
    local have = tonumber(string.sub(current, 1, sep - 1))
    local kept = math.min(have + quantity, maxQuantity)
    if kept < have + quantity then
      table.insert(result, 'c'); table.insert(result, productId)
      table.insert(result, have + quantity); table.insert(result, kept)
    end
    if kept ~= have then
      redis.call('HSET', target, field, kept .. string.sub(current, sep))
      changed = true
    end
  elseif lines >= maxLines then
    table.insert(result, 'd'); table.insert(result, productId)
    table.insert(result, quantity); table.insert(result, 0)
  else
    local kept = math.min(quantity, maxQuantity)
    if kept < quantity then
      table.insert(result, 'c'); table.insert(result, productId)
      table.insert(result, quantity); table.insert(result, kept)
    end
    redis.call('HSET', target, field, kept .. ':' .. addedAt)
    lines = lines + 1
    changed = true
  end
end
if changed then
  redis.call('HSET', target, '${UPDATED_AT}', now)
  redis.call('EXPIRE', target, ttl)
end
return result
`;

function readMerge(reply: (number | string)[]): CartMerge {
  const [code, ...rest] = reply;
  const merge: CartMerge = { applied: code === 1, alreadyDone: code === 2, clamped: [], dropped: [] };
  for (let i = 0; i + 3 < rest.length; i += 4) {
    const productId = String(rest[i + 1]);
    if (rest[i] === "c") {
      merge.clamped.push({ productId, requested: Number(rest[i + 2]), kept: Number(rest[i + 3]) });
    } else {
      merge.dropped.push({ productId, quantity: Number(rest[i + 2]) });
    }
  }
  return merge;
}

/**
 * A cart's settings live in a hash of their own next to the lines' (so the line scripts count
 * only lines), with the same TTL from their own last change.
 */
const SETTINGS: Record<keyof CartSettings, string> = {
  discountCode: "code",
  shippingAddress: "shipTo",
  shippingMethodId: "method",
};

function readSettings(hash: Record<string, string>): CartSettings {
  let shippingAddress: CartSettings["shippingAddress"] = null;
  try {
    shippingAddress = hash[SETTINGS.shippingAddress]
      ? JSON.parse(hash[SETTINGS.shippingAddress] ?? "")
      : null;
  } catch {
    shippingAddress = null;
  }
  return {
    discountCode: hash[SETTINGS.discountCode] ?? null,
    shippingAddress,
    shippingMethodId: hash[SETTINGS.shippingMethodId] ?? null,
  };
}

export function createCartStore(redis: Redis, prefix: string, limits: CartLimits): CartStore {
  const keyOf = (cartId: string) => `${prefix}:cart:${cartId}`;
  const settingsKeyOf = (cartId: string) => `${prefix}:cart-settings:${cartId}`;
  const onceKeyOf = (onceId: string) => `${prefix}:cart-once:${onceId}`;
  const mergeArgs = (mode: "cart" | "lines") => [
    mode,
    Date.now(),
    limits.maxQuantity,
    limits.maxLines,
    limits.ttlSeconds,
  ];

  const change = async (
    cartId: string,
    productId: string,
    quantity: number,
    mode: "add" | "set" | "remove",
  ): Promise<CartChange> => {
    const [code, current] = (await redis.eval(
      CHANGE_LINE,
      1,
      keyOf(cartId),
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
    async get(cartId) {
      const [hash, settings] = await Promise.all([
        redis.hgetall(keyOf(cartId)),
        redis.hgetall(settingsKeyOf(cartId)),
      ]);
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
        cartId,
        customerId: cartId.startsWith(GUEST) ? null : cartId,
        token: null,
        lines,
        updatedAt,
        expiresAt: updatedAt ? new Date(updatedAt.getTime() + limits.ttlSeconds * 1000) : null,
        settings: readSettings(settings),
      };
    },
    async updateSettings(cartId, changes) {
      const key = settingsKeyOf(cartId);
      const set: string[] = [];
      const unset: string[] = [];
      for (const [name, field] of Object.entries(SETTINGS) as [keyof CartSettings, string][]) {
        if (!(name in changes)) continue;
        const value = changes[name];
        if (value === null || value === undefined) unset.push(field);
        else set.push(field, typeof value === "string" ? value : JSON.stringify(value));
      }
      const multi = redis.multi();
      if (unset.length > 0) multi.hdel(key, ...unset);
      if (set.length > 0) multi.hset(key, ...set);
      multi.expire(key, limits.ttlSeconds);
      await multi.exec();
    },
    async moveSettings(fromCartId, toCartId) {
      if (fromCartId === toCartId) return;
      const from = await redis.hgetall(settingsKeyOf(fromCartId));
      if (Object.keys(from).length === 0) return;
      const multi = redis.multi();
      // HSETNX: the signed-in cart's own choices win over the guest cart's.
      for (const [field, value] of Object.entries(from)) multi.hsetnx(settingsKeyOf(toCartId), field, value);
      multi.expire(settingsKeyOf(toCartId), limits.ttlSeconds);
      multi.del(settingsKeyOf(fromCartId));
      await multi.exec();
    },
    async merge(fromCartId, toCartId) {
      if (fromCartId === toCartId) return readMerge([0]);
      const reply = await redis.eval(MERGE, 2, keyOf(toCartId), keyOf(fromCartId), ...mergeArgs("cart"));
      return readMerge(reply as (number | string)[]);
    },
    async addOnce(cartId, onceId, lines) {
      const reply = await redis.eval(
        MERGE,
        2,
        keyOf(cartId),
        onceKeyOf(onceId),
        ...mergeArgs("lines"),
        ...lines.flatMap((line) => [LINE + line.productId, line.quantity]),
      );
      return readMerge(reply as (number | string)[]);
    },
    add: (cartId, productId, quantity) => change(cartId, productId, quantity, "add"),
    set: (cartId, productId, quantity) => change(cartId, productId, quantity, "set"),
    remove: (cartId, productId) => change(cartId, productId, 0, "remove"),
    async clear(cartId) {
      await redis.del(keyOf(cartId));
    },
    async subtract(cartId, lines) {
      if (lines.length === 0) return;
      await redis.eval(
        SUBTRACT,
        1,
        keyOf(cartId),
        Date.now(),
        limits.ttlSeconds,
        ...lines.flatMap((line) => [LINE + line.productId, line.quantity]),
      );
    },
  };
}
