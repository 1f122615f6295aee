import { createLogger, createTokenVerifier, type Logger, startSubgraph } from "@nexus/core";
import { createFailedEvents } from "@nexus/events";
import { postgresStore, redisStore } from "@nexus/stores";
import { runChurnFit } from "./churn/churn-fit.runner.ts";
import { trainChurnModel } from "./churn/churn-training.service.ts";
import { startChurnTraining } from "./churn/churn-training.sweeper.ts";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { startInsightsConsumer } from "./events/insights.consumer.ts";
import { createCatalogClient } from "./recommendations/catalog.client.ts";
import { startRecommendationsRefresh } from "./recommendations/recommendations.sweeper.ts";
import { resolvers } from "./resolvers.ts";

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
  return startSubgraph({
    name: "insights",
    config,
    logger,
    stores: {
      // A connection for each event the consumer applies at once, and some for queries.
      db: postgresStore<Database>(config.databaseUrl, migrations, {
        onQuery: options.onQuery,
        maxConnections: config.eventConcurrency + 8,
      }),
      redis: redisStore(config.redisUrl),
    },
    resolvers,
    createContext,
    async start({ stores: { db, redis }, secrets, defer, metrics }) {
      const consumer = startInsightsConsumer({
        db,
        redis,
        prefix: config.eventsPrefix,
        logger,
        concurrency: config.eventConcurrency,
        batchSize: config.eventBatchSize,
        metrics,
      });
      defer(() => consumer.stop());
      const failedEvents = createFailedEvents({ redis, prefix: config.eventsPrefix });
      defer(() => failedEvents.close());
      const churnTraining = await startChurnTraining({
        redis,
        prefix: config.eventsPrefix,
        logger,
        cron: config.churnTrainingCron === "off" ? null : config.churnTrainingCron,
        horizonDays: config.churnHorizonDays,
        train: async (request) => {
          const trainingDeps = { db, currencyCode: config.storeCurrency, logger, fit: runChurnFit };
          const { userErrors } = await trainChurnModel(trainingDeps, request);
          if (userErrors.length > 0) logger.warn("churn training skipped", { userErrors });
        },
      });
      defer(() => churnTraining.stop());
      const refresh = await startRecommendationsRefresh({
        db,
        redis,
        prefix: config.eventsPrefix,
        logger,
        everyMs: config.recommendationsRefreshMs,
      });
      defer(() => refresh.stop());
      const catalog = createCatalogClient({ url: config.catalogUrl, secrets, logger });
      const deps: Deps = {
        db,
        verify: createTokenVerifier(config.auth),
        logger,
        failedEvents,
        storeCurrency: config.storeCurrency,
        churnTraining,
        catalog,
        recommendationsRefresh: refresh,
      };
      return { deps };
    },
  });
}
