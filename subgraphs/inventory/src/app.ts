import {
  createLogger,
  createShutdownStack,
  createSubgraphAuthenticator,
  createTokenVerifier,
  type Logger,
  loadSubgraphSecrets,
  requestMeta,
  startHttpServer,
} from "@nexus/core";
import { startOutboxRelay } from "@nexus/events";
import { assertRedisReady, connectRedis, openPostgres } from "@nexus/stores";
import { sql } from "kysely";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { seedDemoStock } from "./db/seed.ts";
import { startInventoryConsumer } from "./events/inventory.consumer.ts";
import { startReservationSweeper } from "./reservation/reservation.sweeper.ts";
import { createServer } from "./server.ts";

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
  const db = await openPostgres<Database>(config.databaseUrl, migrations, { onQuery: options.onQuery });
  const shutdown = createShutdownStack("inventory");
  shutdown.defer(() => db.destroy());

  try {
    if (config.seedDemoData) await seedDemoStock(db, logger);
    const redis = await connectRedis(config.redisUrl);
    shutdown.defer(() => redis.quit());
    const relay = startOutboxRelay({
      db,
      redis,
      prefix: config.eventsPrefix,
      logger,
      pollIntervalMs: config.outboxPollMs,
      retry: { attempts: config.eventAttempts, backoffMs: config.eventBackoffMs },
    });
    shutdown.defer(() => relay.stop());
    const consumer = startInventoryConsumer({
      db,
      redis,
      prefix: config.eventsPrefix,
      logger,
      relay,
      reservationTtlSeconds: config.reservationTtlSeconds,
    });
    shutdown.defer(() => consumer.stop());
    const sweeper = startReservationSweeper({ db, logger, relay, intervalMs: config.reservationSweepMs });
    shutdown.defer(() => sweeper.stop());

    const deps: Deps = {
      db,
      verify: createTokenVerifier(config.auth),
      logger,
      lowStockThreshold: config.lowStockThreshold,
    };
    const http = await startHttpServer({
      apollo: createServer(logger),
      host: config.host,
      port: config.port,
      logger,
      authenticate: createSubgraphAuthenticator(await loadSubgraphSecrets(config, logger)),
      context: (req) => createContext(deps, requestMeta(req)),
      healthCheck: async () => {
        await sql`SELECT 1`.execute(db);
        assertRedisReady(redis);
      },
    });
    shutdown.defer(() => http.close());
    logger.info("inventory subgraph ready", { url: http.url });

    return { url: http.url, db, stop: shutdown.stopAll };
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
}
