import { createLogger, createTokenVerifier, headerValue, type Logger, startHttpServer } from "@nexus/core";
import { connectRedis, createPostgresDb, ensureDatabase, migrateToLatest } from "@nexus/stores";
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
  await ensureDatabase(config.databaseUrl);
  const db = createPostgresDb<Database>(config.databaseUrl, { onQuery: options.onQuery });
  // Whatever started is stopped again, newest first, on stop() or when a later step fails.
  const started: (() => Promise<void>)[] = [() => db.destroy()];
  const stopAll = async () => {
    const errors: unknown[] = [];
    for (let stop = started.pop(); stop; stop = started.pop()) {
      await stop().catch((error: unknown) => errors.push(error));
    }
    if (errors.length > 0) throw new AggregateError(errors, "insights did not stop cleanly");
  };

  try {
    await migrateToLatest(db, migrations);
    const redis = await connectRedis(config.redisUrl);
    started.push(async () => {
      await redis.quit();
    });
    const consumer = startInsightsConsumer({ db, redis, prefix: config.eventsPrefix, logger });
    started.push(() => consumer.stop());

    const deps: Deps = { db, verify: createTokenVerifier(config.auth), logger };
    const http = await startHttpServer({
      apollo: createServer(logger),
      host: config.host,
      port: config.port,
      logger,
      context: (req) =>
        createContext(deps, {
          authorization: headerValue(req.headers.authorization),
          requestId: headerValue(req.headers["x-request-id"]),
        }),
      healthCheck: async () => {
        await sql`SELECT 1`.execute(db);
        // Not a PING: with Redis gone, ioredis queues commands until it is back, and the probe would hang.
        if (redis.status !== "ready") throw new Error(`Redis connection is ${redis.status}`);
      },
    });
    started.push(() => http.close());
    logger.info("insights subgraph ready", { url: http.url });

    return { url: http.url, db, stop: stopAll };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
}
