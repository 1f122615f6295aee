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
import { createFailedEvents } from "@nexus/events";
import { assertRedisReady, connectRedis, openPostgres } from "@nexus/stores";
import { sql } from "kysely";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { startInsightsConsumer } from "./events/insights.consumer.ts";
import { createServer } from "./server.ts";

export interface StartAppOptions {
  /** Receives every SQL statement sent to PostgreSQL; end-to-end tests count queries with it. */
  onQuery?: (sql: string) => void;
}

/**
 * Connects, migrates, starts the OrderPlaced consumer, and serves. Used by index.ts and by
 * end-to-end tests. `stop()` closes everything in reverse order.
 */
export async function startApp(
  config: Config,
  logger: Logger = createLogger("insights", config.logLevel),
  options: StartAppOptions = {},
) {
  const db = await openPostgres<Database>(config.databaseUrl, migrations, { onQuery: options.onQuery });
  const shutdown = createShutdownStack("insights");
  shutdown.defer(() => db.destroy());

  try {
    const redis = await connectRedis(config.redisUrl);
    shutdown.defer(() => redis.quit());
    const consumer = startInsightsConsumer({ db, redis, prefix: config.eventsPrefix, logger });
    shutdown.defer(() => consumer.stop());

    const failedEvents = createFailedEvents({ redis, prefix: config.eventsPrefix });
    shutdown.defer(() => failedEvents.close());

    const deps: Deps = { db, verify: createTokenVerifier(config.auth), logger, failedEvents };
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
    logger.info("insights subgraph ready", { url: http.url });

    return { url: http.url, db, stop: shutdown.stopAll };
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
}
