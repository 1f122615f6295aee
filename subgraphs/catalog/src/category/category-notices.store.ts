import type { Logger } from "@nexus/core";
import type { Redis } from "ioredis";

/** Tells the gateway's response cache which categories changed. */
export interface CategoryNotices {
  publish(categoryIds: readonly string[]): Promise<void>;
}

/**
 * Publishes `{ tags: ["Category:<id>"] }` on `<prefix>:cache:invalidate`, where every gateway
 * replica listens: cached answers holding a renamed or moved category (product pages'
 * breadcrumbs, the category tree) are removed. Product changes need no notice of their own:
 * the gateway follows catalog's search channel, which every product write already announces.
 * A notice lost to a Redis outage leaves the cached answer to its max age (Category: 300 s).
 */
export function createCategoryNotices(redis: Redis, prefix: string, logger: Logger): CategoryNotices {
  const channel = `${prefix}:cache:invalidate`;
  return {
    async publish(categoryIds) {
      if (categoryIds.length === 0) return;
      const tags = [...new Set(categoryIds)].map((id) => `Category:${id}`);
      try {
        await redis.publish(channel, JSON.stringify({ tags }));
      } catch (error) {
        logger.warn("could not announce a category change to the gateway cache", { error });
      }
    },
  };
}
