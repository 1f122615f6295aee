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
import { assertRedisReady, connectMongo, connectRedis } from "@nexus/stores";
import type { CommandStartedEvent } from "mongodb";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import { createCatalogDb, ensureIndexes } from "./db/collections.ts";
import { seedDemoData } from "./db/seed.ts";
import { startCatalogConsumer } from "./events/catalog.consumer.ts";
import { createProductCache } from "./product/product.cache.ts";
import { createServer } from "./server.ts";

export interface StartAppOptions {
  /** Receives every command the MongoDB client sends; end-to-end tests count queries with it. */
  onCommand?: (event: CommandStartedEvent) => void;
}

/**
 * Connects MongoDB and Redis, creates indexes, seeds when asked, starts the OrderDelivered
 * consumer and serves. Used by index.ts and by end-to-end tests. `stop()` closes everything in
 * reverse order.
 */
export async function startApp(
  config: Config,
  logger: Logger = createLogger("catalog", config.logLevel),
  options: StartAppOptions = {},
) {
  const { onCommand } = options;
  const mongo = await connectMongo({
    url: config.mongoUrl,
    database: config.mongoDatabase,
    embeddedFallback: config.mongoEmbedded,
    // Monitoring costs an event per command, so it is on only for a caller that listens.
    clientOptions: onCommand ? { monitorCommands: true } : {},
  });
  const shutdown = createShutdownStack("catalog");
  // An embedded server is a child process: it is stopped on every path out.
  shutdown.defer(() => mongo.close());
  if (onCommand) mongo.client.on("commandStarted", onCommand);
  if (mongo.embedded) {
    logger.warn("using the embedded in-memory MongoDB: data is lost when the process stops", {
      url: mongo.url,
    });
  }

  try {
    const db = createCatalogDb(mongo.db);
    await ensureIndexes(db);
    if (config.seedDemoData) await seedDemoData(db, logger);
    const redis = await connectRedis(config.redisUrl);
    shutdown.defer(() => redis.quit());
    const cache =
      config.cacheTtlSeconds > 0
        ? createProductCache({
            redis,
            prefix: `${config.eventsPrefix}:catalog`,
            ttlSeconds: config.cacheTtlSeconds,
            logger,
          })
        : null;
    const consumer = startCatalogConsumer({ db, redis, prefix: config.eventsPrefix, logger });
    shutdown.defer(() => consumer.stop());

    const deps: Deps = { db, verify: createTokenVerifier(config.auth), logger, cache };
    const http = await startHttpServer({
      apollo: createServer(logger),
      host: config.host,
      port: config.port,
      logger,
      authenticate: createSubgraphAuthenticator(await loadSubgraphSecrets(config, logger)),
      context: (req) => createContext(deps, requestMeta(req)),
      healthCheck: async () => {
        await mongo.db.command({ ping: 1 });
        assertRedisReady(redis);
      },
    });
    shutdown.defer(() => http.close());
    logger.info("catalog subgraph ready", { url: http.url });

    return { url: http.url, mongo, cache, stop: shutdown.stopAll };
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
}
