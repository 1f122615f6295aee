import { type ConfigOf, env, loadConfigFrom, serviceConfigSchema } from "@nexus/core";
import { eventsConfigSchema } from "@nexus/events";
import { databaseUrlField } from "@nexus/stores";

const configSchema = serviceConfigSchema("insights", 4005).safeExtend({
  databaseUrl: databaseUrlField("insights"),
  ...eventsConfigSchema.shape,
  /** The store's currency: customer insights and churn count sales and refunds in it only. */
  storeCurrency: env.string("STORE_CURRENCY", "USD"),
  /** When the churn model retrains itself (cron, UTC); "off" for manual trainings only. */
  churnTrainingCron: env.string("CHURN_TRAINING_CRON", "17 3 * * *"),
  /** The churn horizon of the scheduled trainings, in days. */
  churnHorizonDays: env.int("CHURN_HORIZON_DAYS", 90, { min: 7, max: 365 }),
});

export type Config = ConfigOf<typeof configSchema>;

export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigFrom(configSchema, processEnv);
}
