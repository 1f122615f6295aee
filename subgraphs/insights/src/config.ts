import { createEnvReader, readServiceConfig, type ServiceConfig } from "@nexus/core";
import { type EventsConfig, readEventsConfig } from "@nexus/events";
import { readDatabaseUrl } from "@nexus/stores";

export interface Config extends ServiceConfig, EventsConfig {
  databaseUrl: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "insights", 4005);
  const config: Config = {
    ...service,
    databaseUrl: readDatabaseUrl(read, "insights"),
    ...readEventsConfig(read),
  };
  read.done();
  return Object.freeze(config);
}
