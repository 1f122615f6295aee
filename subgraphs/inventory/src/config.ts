import { createEnvReader, readServiceConfig, type ServiceConfig } from "@nexus/core";
import { type EventsConfig, readEventsConfig } from "@nexus/events";
import { readDatabaseUrl } from "@nexus/stores";

export interface Config extends ServiceConfig, EventsConfig {
  databaseUrl: string;
  /** Fill an empty stock_levels table with the demo products' stock. */
  seedDemoData: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "inventory", 4004);
  const config: Config = {
    ...service,
    databaseUrl: readDatabaseUrl(read, "inventory"),
    ...readEventsConfig(read),
    seedDemoData: read.bool("SEED_DEMO_DATA", false),
  };
  read.done();
  return Object.freeze(config);
}
