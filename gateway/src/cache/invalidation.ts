import type { Logger } from "@nexus/core";
import type { Redis } from "ioredis";
import type { GatewayMetrics } from "../observability/metrics.ts";
import type { ResponseStore } from "./response-store.ts";

/** Every entry is filed under this tag too: a catalog reindex removes everything. */
export const ALL_TAG = "all";

/**
 * Root fields whose answers list products: the set behind them changes with any product
 * (created, archived, re-priced under a price filter or sort), so any product notice removes
 * them. Coarse on purpose: a listing holds no tag for the products it does not (yet) show.
 */
export const PRODUCT_LISTINGS = [
  "Query.products",
  "Query.productSuggestions",
  "Query.searchSuggestions",
  "Query.productFeed",
];

/** The same for categories: a new or renamed category changes the tree and lookups by slug. */
export const CATEGORY_LISTINGS = ["Query.categories", "Query.category"];

export interface NoticeChannels {
  /** Catalog's search channel: `{ ids }` of products changed in any way, or `{ reindex: true }`. */
  catalogSearch: string;
  /** Any subgraph's notice: `{ tags }` such as `Product:<id>` (inventory's stock changes). */
  invalidate: string;
}

/** The channels for a deployment's EVENTS_PREFIX, as the subgraphs publish them. */
export const noticeChannels = (eventsPrefix: string): NoticeChannels => ({
  catalogSearch: `${eventsPrefix}:catalog:search`,
  invalidate: `${eventsPrefix}:cache:invalidate`,
});

const TAG = /^[A-Za-z_][A-Za-z0-9_.]*(:[^\s]{1,128})?$/;

/**
 * The tags a notice removes, or null for a malformed one. `Type:<id>` also removes `Type:*`
 * (entries holding that type without its id).
 */
export function tagsOfNotice(channels: NoticeChannels, channel: string, text: string): string[] | null {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof message !== "object" || message === null) return null;
  const tags = new Set<string>();
  if (channel === channels.catalogSearch) {
    if ("reindex" in message && message.reindex === true) return [ALL_TAG];
    if (!("ids" in message) || !Array.isArray(message.ids)) return null;
    for (const id of message.ids)
      if (typeof id === "string" && /^[0-9a-f]{24}$/i.test(id)) tags.add(`Product:${id}`);
    if (tags.size === 0) return [];
    for (const listing of PRODUCT_LISTINGS) tags.add(listing);
  } else if (channel === channels.invalidate) {
    if (!("tags" in message) || !Array.isArray(message.tags)) return null;
    for (const tag of message.tags) if (typeof tag === "string" && TAG.test(tag)) tags.add(tag);
    if ([...tags].some((tag) => tag.startsWith("Category:")))
      for (const listing of CATEGORY_LISTINGS) tags.add(listing);
  } else {
    return null;
  }
  for (const tag of [...tags]) {
    const colon = tag.indexOf(":");
    if (colon > 0 && tag.slice(colon + 1) !== "*") tags.add(`${tag.slice(0, colon)}:*`);
  }
  return [...tags];
}

export interface InvalidationOptions {
  redis: Redis;
  store: ResponseStore;
  channels: NoticeChannels;
  metrics: Pick<GatewayMetrics, "responseCacheInvalidations" | "responseCacheInvalidatedEntries">;
  logger: Logger;
}

/**
 * Listens for change notices on its own Redis connection. Every replica hears every notice and
 * removes the tagged entries from its memory and from Redis (the Lua script is idempotent, so
 * several replicas doing it cost a little and change nothing). While the subscription is down,
 * the replica's memory layer is emptied and bypassed: it would miss notices.
 */
export function startInvalidationListener(options: InvalidationOptions) {
  const { store, channels, metrics, logger } = options;
  const subscriber = options.redis.duplicate();
  let stopped = false;
  subscriber.on("message", (channel: string, text: string) => {
    if (stopped) return;
    const tags = tagsOfNotice(channels, channel, text);
    if (tags === null) {
      logger.warn("ignored a malformed cache notice", { channel });
      return;
    }
    if (tags.length === 0) return;
    const source = channel === channels.catalogSearch ? "catalog" : "notice";
    metrics.responseCacheInvalidations.inc({ source });
    store.invalidate(tags).then(
      (removed) => {
        metrics.responseCacheInvalidatedEntries.inc({ layer: "local" }, removed.local);
        if (removed.redis !== null)
          metrics.responseCacheInvalidatedEntries.inc({ layer: "redis" }, removed.redis);
        logger.debug("response cache invalidated", { tags, ...removed });
      },
      (error: unknown) => logger.warn("response cache invalidation failed", { error }),
    );
  });
  // ioredis subscribes again after a reconnect; what was published in between is lost to us.
  let subscribedOnce = false;
  subscriber.on("ready", () => {
    if (!stopped && subscribedOnce) store.setListening(true);
  });
  subscriber.on("close", () => store.setListening(false));
  subscriber.on("error", (error: unknown) =>
    logger.debug("response cache notice connection error", { error }),
  );
  const subscribed = subscriber.subscribe(channels.catalogSearch, channels.invalidate).then(
    () => {
      subscribedOnce = true;
      if (!stopped) store.setListening(true);
    },
    (error: unknown) => logger.warn("response cache could not subscribe to change notices", { error }),
  );
  return {
    /** Resolves once subscribed (or failed and logged). */
    ready: () => subscribed,
    stop(): void {
      stopped = true;
      store.setListening(false);
      subscriber.disconnect();
    },
  };
}
