import type { Redis } from "ioredis";
import { createLocalLayer, type LocalEntry, type LocalLayer } from "./local-layer.ts";

/** What a lookup found, and what a later `set` needs to know to refuse a stale write. */
export interface Lookup {
  entry: LocalEntry | null;
  /** Which of the keys looked up held it. */
  key: string | null;
  layer: "local" | "redis" | null;
  /** The invalidation epoch in Redis when the lookup ran. */
  epoch: string;
  /** The local layer's generation when the lookup ran. */
  generation: number;
}

export interface StoredEntry {
  data: Record<string, unknown>;
  maxAge: number;
  scope: "PUBLIC" | "PRIVATE";
  tags: readonly string[];
}

export interface ResponseStoreOptions {
  redis: Redis;
  /** Prefix of every key, e.g. `nexus:gateway:response`. */
  prefix: string;
  /** Entries kept in this replica's memory too; 0 for Redis only. */
  localEntries: number;
  onEvict(): void;
  onLocalBytes(bytes: number): void;
  /** Wraps every Redis round trip: null when Redis failed or was slow (fail-open.ts). */
  guard<T>(work: Promise<T>): Promise<T | null>;
}

/**
 * Stores an entry unless an invalidation ran since the lookup (the epoch moved): the answer may
 * then hold what a notice has just removed. Files the entry under each tag, and keeps each tag
 * set at least as long as its newest entry.
 * KEYS: epoch, entry, tag sets. ARGV: epoch seen, value, ttl seconds.
 */
const STORE_SCRIPT = `
local current = redis.call('GET', KEYS[1]) or '0'
if current ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ttl)
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[2])
  if redis.call('TTL', KEYS[i]) < ttl then redis.call('EXPIRE', KEYS[i], ttl) end
end
return 1`;

/**
 * Moves the epoch (so writes in flight are refused) and deletes every entry filed under one of
 * the tags, with the tag sets. KEYS: epoch, tag sets. Returns the entries deleted.
 */
const INVALIDATE_SCRIPT = `
redis.call('INCR', KEYS[1])
local removed = 0
for i = 2, #KEYS do
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[i])) do removed = removed + redis.call('DEL', key) end
  redis.call('DEL', KEYS[i])
end
return removed`;

interface RedisValue {
  data: Record<string, unknown>;
  maxAge: number;
  scope: "PUBLIC" | "PRIVATE";
  storedAt: number;
  tags: string[];
}

const isRedisValue = (value: unknown): value is RedisValue =>
  typeof value === "object" &&
  value !== null &&
  "data" in value &&
  typeof value.data === "object" &&
  value.data !== null &&
  "maxAge" in value &&
  typeof value.maxAge === "number" &&
  "storedAt" in value &&
  typeof value.storedAt === "number" &&
  "scope" in value &&
  (value.scope === "PUBLIC" || value.scope === "PRIVATE") &&
  "tags" in value &&
  Array.isArray(value.tags);

/**
 * The response cache's storage: Redis, shared by every replica, with TTL = the entry's max age,
 * and in front of it a small in-process layer (local-layer.ts). Entries are filed under tags in
 * Redis sets; `invalidate` removes them from Redis and from this replica's memory (every
 * replica runs it for every notice, invalidation.ts).
 */
export function createResponseStore(options: ResponseStoreOptions) {
  const { redis, prefix, guard } = options;
  const epochKey = `${prefix}:epoch`;
  const entryKey = (key: string) => `${prefix}:e:${key}`;
  const tagKey = (tag: string) => `${prefix}:t:${tag}`;
  const local: LocalLayer = createLocalLayer(options.localEntries, {
    onEvict: options.onEvict,
    onBytes: options.onLocalBytes,
  });
  /** Whether change notices reach this replica; memory is neither read nor filled otherwise. */
  let listening = false;

  return {
    /**
     * Looks for the first of `keys` that holds an entry, in memory, then in Redis in one round
     * trip; null when Redis did not answer (then nothing is stored either).
     */
    async get(keys: readonly string[]): Promise<Lookup | null> {
      const generation = local.generation();
      // Memory answers only while notices are arriving (`listening`): no Redis round trip then.
      if (listening) {
        const now = Date.now();
        for (const key of keys) {
          const near = local.get(key, now);
          if (near) return { entry: near, key, layer: "local", epoch: "", generation };
        }
      }
      const reply = await guard(redis.mget(epochKey, ...keys.map(entryKey)));
      if (reply === null) return null;
      const [epoch, ...texts] = reply;
      for (const [index, text] of texts.entries()) {
        let value: unknown = null;
        try {
          value = text ? JSON.parse(text) : null;
        } catch {
          value = null;
        }
        const key = keys[index];
        if (!isRedisValue(value) || key === undefined) continue;
        const entry: LocalEntry = { ...value, bytes: text?.length ?? 0 };
        if (listening) local.set(key, entry, generation);
        return { entry, key, layer: "redis", epoch: epoch ?? "0", generation };
      }
      return { entry: null, key: null, layer: null, epoch: epoch ?? "0", generation };
    },
    /** Stores unless an invalidation overtook the request; "stale" then. */
    async set(key: string, entry: StoredEntry, seen: Lookup): Promise<"stored" | "stale" | "error"> {
      const storedAt = Date.now();
      const value: RedisValue = { ...entry, tags: [...entry.tags], storedAt };
      const text = JSON.stringify(value);
      const stored = await guard(
        redis.eval(
          STORE_SCRIPT,
          2 + entry.tags.length,
          epochKey,
          entryKey(key),
          ...entry.tags.map(tagKey),
          seen.epoch,
          text,
          String(entry.maxAge),
        ),
      );
      if (stored === null) return "error";
      if (stored !== 1) return "stale";
      if (listening) local.set(key, { ...value, bytes: text.length }, seen.generation);
      return "stored";
    },
    /** Removes every entry filed under one of `tags`, here and in Redis. */
    async invalidate(tags: readonly string[]): Promise<{ local: number; redis: number | null }> {
      const removedLocally = local.invalidate(tags);
      const removed = await guard(
        redis.eval(INVALIDATE_SCRIPT, 1 + tags.length, epochKey, ...tags.map(tagKey)),
      );
      return { local: removedLocally, redis: typeof removed === "number" ? removed : null };
    },
    /**
     * Called by the notice listener: true once subscribed, false when the subscription broke.
     * Notices sent meanwhile are lost to this replica, so its memory is emptied either way.
     */
    setListening(value: boolean): void {
      listening = value;
      local.clear();
    },
    localSize: () => local.size(),
  };
}

export type ResponseStore = ReturnType<typeof createResponseStore>;
