import { type ConfigOf, env, loadConfigFrom, serviceConfigSchema, storeCurrencyField } from "@nexus/core";
import { eventsConfigSchema } from "@nexus/events";
import { databaseUrlField } from "@nexus/stores";

const configSchema = serviceConfigSchema("insights", 4005).safeExtend({
  databaseUrl: databaseUrlField("insights"),
  ...eventsConfigSchema.shape,
  /** The currency figures are reported in when a query names none: the store's own. */
  storeCurrency: storeCurrencyField(),
  /**
   * Events the consumer applies at once. Each is a short transaction, mostly waiting on
   * PostgreSQL, so several in flight keep an import's backfill moving; locks per order and
   * customer keep them from counting anything twice.
   */
  eventConcurrency: env.int("INSIGHTS_EVENT_CONCURRENCY", 16, { min: 1, max: 256 }),
  /** When the churn model retrains itself (cron, UTC); "off" for manual trainings only. */
  churnTrainingCron: env.string("CHURN_TRAINING_CRON", "17 3 * * *"),
  /** The churn horizon of the scheduled trainings, in days. */
  churnHorizonDays: env.int("CHURN_HORIZON_DAYS", 90, { min: 7, max: 365 }),
  /** The catalog subgraph's GraphQL endpoint, asked which recommended products are for sale. */
  catalogUrl: env.url("CATALOG_URL", "http://127.0.0.1:4002/graphql", ["http:", "https:"]),
  /** How often co-purchase neighbours and popularity are rebuilt from the sale orders. */
  recommendationsRefreshMs: env.int("RECOMMENDATIONS_REFRESH_MS", 15 * 60_000, {
    min: 10_000,
    max: 24 * 3_600_000,
  }),
});

export type Config = ConfigOf<typeof configSchema>;

export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigFrom(configSchema, processEnv);
}
