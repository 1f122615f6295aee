import { createEnvReader, readServiceConfig, type ServiceConfig } from "@nexus/core";
import { type EventsConfig, readEventsConfig } from "@nexus/events";
import { readDatabaseUrl } from "@nexus/stores";

export interface Config extends ServiceConfig, EventsConfig {
  databaseUrl: string;
  /** The catalog subgraph's GraphQL endpoint, asked for current prices and names at checkout. */
  catalogUrl: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "orders", 4003);
  const config: Config = {
    ...service,
    databaseUrl: readDatabaseUrl(read, "orders"),
    ...readEventsConfig(read),
    catalogUrl: read.url("CATALOG_URL", "http://127.0.0.1:4002/graphql", ["http:", "https:"]),
  };
  read.done();
  return Object.freeze(config);
}
