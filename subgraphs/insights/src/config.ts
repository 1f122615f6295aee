import { type ConfigOf, env, loadConfigFrom, serviceConfigSchema } from "@nexus/core";
import { eventsConfigSchema } from "@nexus/events";
import { databaseUrlField } from "@nexus/stores";

const configSchema = serviceConfigSchema("insights", 4005).safeExtend({
  databaseUrl: databaseUrlField("insights"),
  ...eventsConfigSchema.shape,
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
