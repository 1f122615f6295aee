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
  /** How often the outbox relay looks for events that no post-commit flush published. */
  outboxPollMs: number;
  /** Fill an empty stock_levels table with the demo products' stock. */
  seedDemoData: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "inventory", 4004);
  const config: Config = {
    ...service,
    databaseUrl: read.url(
      "INVENTORY_DATABASE_URL",
      databaseUrl(read.string("DATABASE_URL", DEFAULT_DATABASE_URL), "inventory"),
      ["postgres:", "postgresql:"],
    ),
    redisUrl: read.url("REDIS_URL", DEFAULT_REDIS_URL, ["redis:", "rediss:"]),
    eventsPrefix: read.string("EVENTS_PREFIX", "nexus"),
    outboxPollMs: read.int("OUTBOX_POLL_MS", 500, { min: 10, max: 60_000 }),
    seedDemoData: read.bool("SEED_DEMO_DATA", false),
  };
  read.done();
  return Object.freeze(config);
}
