import {
  createEnvReader,
  DEFAULT_DATABASE_URL,
  DEFAULT_REDIS_URL,
  readServiceConfig,
  type ServiceConfig,
} from "@nexus/core";
import { databaseUrl } from "@nexus/stores";

export interface Config extends ServiceConfig {
  databaseUrl: string;
  redisUrl: string;
  /** BullMQ key prefix shared by every service, so producers and consumers meet on the same queues. */
  eventsPrefix: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "insights", 4005);
  const config: Config = {
    ...service,
    databaseUrl: read.url(
      "INSIGHTS_DATABASE_URL",
      databaseUrl(read.string("DATABASE_URL", DEFAULT_DATABASE_URL), "insights"),
      ["postgres:", "postgresql:"],
    ),
    redisUrl: read.url("REDIS_URL", DEFAULT_REDIS_URL, ["redis:", "rediss:"]),
    eventsPrefix: read.string("EVENTS_PREFIX", "nexus"),
  };
  read.done();
  return Object.freeze(config);
}
