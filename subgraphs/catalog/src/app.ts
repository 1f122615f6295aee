import { createLogger, createTokenVerifier, type Logger, startSubgraph } from "@nexus/core";
import { mongoStore, redisStore } from "@nexus/stores";
import type { CommandStartedEvent } from "mongodb";
import { createCategoryNotices } from "./category/category-notices.store.ts";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import { createCatalogDb, ensureIndexes, missingIndexes, upgradeDocuments } from "./db/collections.ts";
import { seedDemoData } from "./db/seed.ts";
import { startCatalogConsumer } from "./events/catalog.consumer.ts";
import { createProductCache } from "./product/product.cache.ts";
import { resolvers } from "./resolvers.ts";
import { createEmbeddedSearchEngine } from "./search/embedded.engine.ts";
import { createSearchIndex } from "./search/search-index.ts";

export interface StartAppOptions {
  /** Receives every command the MongoDB client sends; end-to-end tests count queries with it. */
  onCommand?: (event: CommandStartedEvent) => void;
}

/**
 * Connects MongoDB and Redis, creates indexes (or, with DATABASE_MIGRATIONS=verify, refuses to
 * start without them), seeds when asked, starts the OrderDelivered
 * consumer and serves. Used by index.ts and by end-to-end tests. `stop()` closes everything in
 * reverse order.
 */
export async function startApp(
  config: Config,
  logger: Logger = createLogger("catalog", config.logLevel),
  options: StartAppOptions = {},
) {
  return startSubgraph({
    name: "catalog",
    config,
    logger,
    stores: {
      mongo: mongoStore({
        url: config.mongoUrl,
        database: config.mongoDatabase,
        embeddedFallback: config.mongoEmbedded,
        onCommand: options.onCommand,
      }),
      redis: redisStore(config.redisUrl),
    },
    resolvers,
    createContext,
    async start({ stores: { mongo, redis }, defer, metrics }) {
      const db = createCatalogDb(mongo.db);
      if (config.databaseMigrations === "auto") {
        const created = await ensureIndexes(db);
        if (created.length > 0) logger.info("indexes created", { created });
        await upgradeDocuments(db);
      } else {
        // The migrate command (src/bin/migrate.ts) builds them before a release rolls out.
        const missing = await missingIndexes(db);
        if (missing.length > 0) {
          throw new Error(
            `database ${config.mongoDatabase} is missing index${missing.length === 1 ? "" : "es"} ${missing.join(", ")}: ` +
              "run the service's migrate command (src/bin/migrate.ts, the migrate Job on Kubernetes) first, " +
              "or set DATABASE_MIGRATIONS=auto to build them at start",
          );
        }
      }
      if (config.seedDemoData) await seedDemoData(db, logger, config.storeCurrency);
      const cache =
        config.cacheTtlSeconds > 0
          ? createProductCache({
              redis,
              prefix: `${config.eventsPrefix}:catalog`,
              ttlSeconds: config.cacheTtlSeconds,
              logger,
            })
          : null;
      if (cache) metrics.addCache("product", () => cache.stats());
      // Built in the background: until it is in, searches go to MongoDB.
      const search = createSearchIndex({
        db,
        redis,
        prefix: config.eventsPrefix,
        logger,
        createEngine: createEmbeddedSearchEngine,
        catchUpMs: config.searchCatchUpMs,
      });
      defer(() => search.stop());
      const consumer = startCatalogConsumer({
        db,
        redis,
        prefix: config.eventsPrefix,
        logger,
        cache,
        search,
        autoApproveVerified: config.reviewAutoApproveVerified,
        metrics,
      });
      defer(() => consumer.stop());
      const deps: Deps = {
        db,
        verify: createTokenVerifier(config.auth),
        logger,
        cache,
        reviews: {
          autoApproveVerified: config.reviewAutoApproveVerified,
          blockedWords: config.reviewBlockedWords,
        },
        storeCurrency: config.storeCurrency,
        search,
        notices: createCategoryNotices(redis, config.eventsPrefix, logger),
      };
      return { deps, expose: { cache, search } };
    },
  });
}
