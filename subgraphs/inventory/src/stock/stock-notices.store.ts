import type { Logger } from "@nexus/core";
import pg from "pg";
import { STOCK_CHANGED_CHANNEL } from "./stock.repository.ts";

export interface StockNoticesOptions {
  databaseUrl: string;
  /** Where to publish: the subgraph's Redis connection. */
  redis: { publish(channel: string, message: string): Promise<number> };
  /** EVENTS_PREFIX: notices go to `<prefix>:cache:invalidate`, where every gateway replica listens. */
  prefix: string;
  logger: Logger;
  /** Pause before listening again after the connection broke. */
  retryMs?: number;
}

export interface StockNotices {
  /** Resolves once listening (the first time). */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Relays committed stock changes to the gateway's response cache: LISTENs on the channel
 * `applyStockChanges` NOTIFYs in its transaction, and publishes `{ tags: ["Product:<id>"] }` on
 * `<prefix>:cache:invalidate`, so a cached `inventory { available }` is gone within milliseconds
 * of the commit. Each inventory replica relays every notification: the gateway's removal is
 * idempotent. A notice published while this connection is down is lost; the cached answer then
 * lives out its max age (60 s for InventoryLevel).
 */
export function startStockNotices(options: StockNoticesOptions): StockNotices {
  const { redis, logger } = options;
  const channel = `${options.prefix}:cache:invalidate`;
  const retryMs = options.retryMs ?? 1000;
  let client: pg.Client | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const relay = (message: pg.Notification) => {
    if (message.channel !== STOCK_CHANGED_CHANNEL || !message.payload) return;
    const tags = message.payload.split(",").map((id) => `Product:${id}`);
    redis
      .publish(channel, JSON.stringify({ tags }))
      .catch((error: unknown) =>
        logger.warn("could not announce a stock change to the gateway cache", { error }),
      );
  };

  const listen = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: options.databaseUrl });
    next.on("notification", relay);
    const broken = (error?: unknown) => {
      if (client !== next) return;
      client = null;
      next.end().catch(() => undefined);
      if (stopped) return;
      logger.warn("stock notices connection lost; listening again", { error });
      timer = setTimeout(() => listen().catch(() => undefined), retryMs);
      timer.unref();
    };
    next.on("error", broken);
    next.on("end", () => broken());
    client = next;
    try {
      await next.connect();
      await next.query(`LISTEN ${STOCK_CHANGED_CHANNEL}`);
    } catch (error) {
      broken(error);
      throw error;
    }
  };

  const first = listen().catch((error: unknown) =>
    logger.warn("could not listen for stock changes; retrying", { error }),
  );
  return {
    ready: () => first,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}
