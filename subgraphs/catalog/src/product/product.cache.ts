import type { Logger } from "@nexus/core";
import type { Redis } from "ioredis";
import type { ProductModel } from "./product.model.ts";

/**
 * Read-through cache of products by id in Redis, in front of `productById`.
 *
 * Each product has a value key and a generation counter. A write bumps the generation and
 * deletes the value; a reader remembers the generation it saw before reading MongoDB and stores
 * what it read only if the generation is still the same (checked atomically in a script). So a
 * read that raced a write can never put the old product back, and TTL only bounds memory.
 */
export interface ProductCache {
  /** Cached products by id (lower-case hex) plus the generations to hand back to `fill`. */
  read(
    ids: readonly string[],
  ): Promise<{ hits: Map<string, ProductModel>; generations: Map<string, string> }>;
  fill(products: readonly ProductModel[], generations: ReadonlyMap<string, string>): Promise<void>;
  invalidate(ids: readonly string[]): Promise<void>;
  /** Counters since start-up, for benchmarks and metrics. */
  stats(): { hits: number; misses: number };
}

const FILL_SCRIPT = `
for i = 1, #KEYS, 2 do
  local current = redis.call('GET', KEYS[i + 1]) or ''
  if current == ARGV[i + 1] then
    redis.call('SET', KEYS[i], ARGV[i + 2], 'EX', ARGV[1])
  end
end
return 0`;

interface CachedProduct extends Omit<ProductModel, "createdAt" | "updatedAt"> {
  createdAt: string;
  updatedAt: string;
}

const revive = (json: string): ProductModel => {
  const cached = JSON.parse(json) as CachedProduct;
  return { ...cached, createdAt: new Date(cached.createdAt), updatedAt: new Date(cached.updatedAt) };
};

export function createProductCache(options: {
  redis: Redis;
  /** Key prefix, e.g. `nexus:catalog`. */
  prefix: string;
  ttlSeconds: number;
  logger: Logger;
}): ProductCache {
  const { redis, prefix, ttlSeconds, logger } = options;
  const valueKey = (id: string) => `${prefix}:product:${id}`;
  const generationKey = (id: string) => `${prefix}:product-gen:${id}`;
  let hits = 0;
  let misses = 0;

  return {
    async read(ids) {
      const found = new Map<string, ProductModel>();
      const generations = new Map<string, string>();
      if (ids.length === 0) return { hits: found, generations };
      const values = await redis.mget(ids.flatMap((id) => [valueKey(id), generationKey(id)]));
      ids.forEach((id, index) => {
        const value = values[index * 2];
        generations.set(id, values[index * 2 + 1] ?? "");
        if (value) found.set(id, revive(value));
      });
      hits += found.size;
      misses += ids.length - found.size;
      return { hits: found, generations };
    },
    async fill(products, generations) {
      if (products.length === 0) return;
      const keys = products.flatMap((p) => [valueKey(p.id), generationKey(p.id)]);
      const args = products.flatMap((p) => [generations.get(p.id) ?? "", JSON.stringify(p)]);
      await redis.eval(FILL_SCRIPT, keys.length, ...keys, String(ttlSeconds), ...args);
    },
    async invalidate(ids) {
      if (ids.length === 0) return;
      const pipeline = redis.multi();
      for (const id of ids) pipeline.incr(generationKey(id)).del(valueKey(id));
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (failed?.[0]) {
        logger.error("product cache invalidation failed", { ids, error: failed[0] });
        throw failed[0];
      }
    },
    stats: () => ({ hits, misses }),
  };
}
