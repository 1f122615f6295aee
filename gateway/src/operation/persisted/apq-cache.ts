import type { PersistedQueryOptions } from "@apollo/server";
import type { Logger } from "@nexus/core";
import type { Redis } from "ioredis";
import type { GatewayMetrics } from "../../observability/metrics.ts";

export type ApqCache = NonNullable<PersistedQueryOptions["cache"]>;

/**
 * Apollo Server's automatic persisted queries in Redis, so every gateway replica knows a
 * query any of them registered. Apollo Server prefixes the keys it asks for with `apq:`, so
 * entries live at `<keyPrefix>:apq:<sha256>`. Redis is a cache here, never a dependency: a
 * lookup that fails or takes longer than `timeoutMs` (ioredis queues commands while it
 * reconnects) is a miss, and the client then sends the full query, which is served anyway.
 */
export function createApqCache(options: {
  redis: Redis;
  keyPrefix: string;
  metrics: GatewayMetrics;
  logger: Logger;
  timeoutMs: number;
}): ApqCache {
  const { redis, metrics, logger, timeoutMs } = options;
  const key = (hash: string) => `${options.keyPrefix}:${hash}`;
  const bounded = async <T>(command: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        command,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async get(hash) {
      try {
        const query = await bounded(redis.get(key(hash)));
        metrics.cacheLookups.inc({ cache: "apq", result: query === null ? "miss" : "hit" });
        return query ?? undefined;
      } catch (error) {
        metrics.cacheLookups.inc({ cache: "apq", result: "error" });
        logger.warn("APQ lookup failed; answered as a miss", { error });
        return undefined;
      }
    },
    async set(hash, query, setOptions) {
      const ttl = setOptions?.ttl;
      await bounded(
        ttl ? redis.set(key(hash), query, "EX", Math.max(1, Math.ceil(ttl))) : redis.set(key(hash), query),
      );
    },
    async delete(hash) {
      return (await bounded(redis.del(key(hash)))) > 0;
    },
  };
}
