import { ConfigError, createEnvReader, readServiceConfig, type ServiceConfig } from "@nexus/core";
import { type EventsConfig, readEventsConfig } from "@nexus/events";

export interface Config extends ServiceConfig, EventsConfig {
  mongoUrl: string;
  mongoDatabase: string;
  /** Start the in-memory embedded server when nothing answers at `mongoUrl`. */
  mongoEmbedded: boolean;
  seedDemoData: boolean;
  /** How long a product stays in the Redis cache; 0 switches the cache off. */
  cacheTtlSeconds: number;
}

/** MongoDB refuses these characters in database names, and names past 63 bytes. */
const DATABASE_NAME = /^[^/\\. "$*<>:|?\0]{1,63}$/;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "catalog", 4002);
  const config: Config = {
    ...service,
    ...readEventsConfig(read),
    mongoUrl: read.url("MONGO_URL", "mongodb://127.0.0.1:27017/", ["mongodb:", "mongodb+srv:"]),
    mongoDatabase: read.string("CATALOG_MONGO_DATABASE", "catalog"),
    mongoEmbedded: read.bool("MONGO_EMBEDDED", !service.production),
    seedDemoData: read.bool("SEED_DEMO_DATA", false),
    cacheTtlSeconds: read.int("CATALOG_CACHE_TTL_SECONDS", 300, { min: 0, max: 86_400 }),
  };
  read.done();
  if (!DATABASE_NAME.test(config.mongoDatabase)) {
    throw new ConfigError([
      `CATALOG_MONGO_DATABASE must be 1 to 63 characters without / \\ . " $ * < > : | ? or spaces, got "${config.mongoDatabase}"`,
    ]);
  }
  // The embedded server keeps data in memory only: a production catalog must never fall back to it.
  if (service.production && config.mongoEmbedded) {
    throw new ConfigError(["MONGO_EMBEDDED must be false when NODE_ENV=production"]);
  }
  return Object.freeze(config);
}
