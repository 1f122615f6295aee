import { createLogger, createTokenVerifier, type Logger, startSubgraph } from "@nexus/core";
import { consumerSettings, relaySettings, startOutboxRelay } from "@nexus/events";
import { postgresStore, redisStore } from "@nexus/stores";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { seedDemoStock } from "./db/seed.ts";
import { startInventoryConsumer } from "./events/inventory.consumer.ts";
import { startReservationSweeper } from "./reservation/reservation.sweeper.ts";
import { resolvers } from "./resolvers.ts";
import { registerStockLedgerMetrics } from "./stock/stock.metrics.ts";
import { startStockNotices } from "./stock/stock-notices.store.ts";

export interface StartAppOptions {
  /** Receives every SQL statement sent to PostgreSQL; end-to-end tests count queries with it. */
  onQuery?: (sql: string) => void;
}

/**
 * Connects, migrates, seeds when asked, starts the outbox relay, the saga consumer and the
 * reservation sweeper, and serves. Used by index.ts and by end-to-end tests. `stop()` closes
 * everything in reverse order.
 */
export async function startApp(
  config: Config,
  logger: Logger = createLogger("inventory", config.logLevel),
  options: StartAppOptions = {},
) {
  return startSubgraph({
    name: "inventory",
    config,
    logger,
    stores: {
      db: postgresStore<Database>(config.databaseUrl, migrations, { onQuery: options.onQuery }),
      redis: redisStore(config.redisUrl),
    },
    resolvers,
    createContext,
    async start({ stores: { db, redis }, defer, metrics }) {
      if (config.seedDemoData) await seedDemoStock(db, logger);
      const alerts = { lowStockThreshold: config.lowStockThreshold };
      const relay = startOutboxRelay({ db, redis, logger, metrics, ...relaySettings(config) });
      defer(() => relay.stop());
      registerStockLedgerMetrics(metrics, db, logger);
      const consumer = startInventoryConsumer({
        db,
        redis,
        prefix: config.eventsPrefix,
        logger,
        relay,
        reservationTtlSeconds: config.reservationTtlSeconds,
        alerts,
        metrics,
        ...consumerSettings(config),
      });
      defer(() => consumer.stop());
      const sweeper = startReservationSweeper({
        db,
        logger,
        relay,
        intervalMs: config.reservationSweepMs,
        alerts,
      });
      defer(() => sweeper.stop());
      // Committed stock changes, told to the gateway's response cache.
      const notices = startStockNotices({
        databaseUrl: config.databaseUrl,
        redis,
        prefix: config.eventsPrefix,
        logger,
      });
      await notices.ready();
      defer(() => notices.stop());

      const deps: Deps = {
        db,
        verify: createTokenVerifier(config.auth),
        logger,
        lowStockThreshold: config.lowStockThreshold,
      };
      return { deps };
    },
  });
}
