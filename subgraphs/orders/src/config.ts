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
  /** BullMQ key prefix. Every service of one deployment must use the same one, or events go unheard. */
  eventsPrefix: string;
  /** The catalog subgraph's GraphQL endpoint, asked for current prices and names at checkout. */
  catalogUrl: string;
  /** How often the outbox relay looks for events that a post-commit flush did not publish. */
  outboxPollMs: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "orders", 4003);
  const config: Config = {
    ...service,
    databaseUrl: read.url(
      "ORDERS_DATABASE_URL",
      databaseUrl(read.string("DATABASE_URL", DEFAULT_DATABASE_URL), "orders"),
      ["postgres:", "postgresql:"],
    ),
    redisUrl: read.url("REDIS_URL", DEFAULT_REDIS_URL, ["redis:", "rediss:"]),
    eventsPrefix: read.string("EVENTS_PREFIX", "nexus"),
    catalogUrl: read.url("CATALOG_URL", "http://127.0.0.1:4002/graphql", ["http:", "https:"]),
    outboxPollMs: read.int("OUTBOX_POLL_MS", 500, { min: 10, max: 60_000 }),
  };
  read.done();
  return Object.freeze(config);
}
