import { createEnvReader, readServiceConfig, type ServiceConfig } from "@nexus/core";
import { type EventsConfig, readEventsConfig } from "@nexus/events";
import { readDatabaseUrl } from "@nexus/stores";

export interface Config extends ServiceConfig, EventsConfig {
  databaseUrl: string;
  /** Fill an empty stock_levels table with the demo products' stock. */
  seedDemoData: boolean;
  /** How long a reservation holds stock unless the order is confirmed (payment captured). */
  reservationTtlSeconds: number;
  /** How often the sweeper looks for reservations past their expiry. */
  reservationSweepMs: number;
  /** Products without a threshold of their own are low on stock at or below this many available units. */
  lowStockThreshold: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const service = readServiceConfig(read, "inventory", 4004);
  const config: Config = {
    ...service,
    databaseUrl: readDatabaseUrl(read, "inventory"),
    ...readEventsConfig(read),
    seedDemoData: read.bool("SEED_DEMO_DATA", false),
    reservationTtlSeconds: read.int("RESERVATION_TTL_SECONDS", 900, { min: 1, max: 7 * 24 * 3600 }),
    reservationSweepMs: read.int("RESERVATION_SWEEP_MS", 5000, { min: 50, max: 3_600_000 }),
    lowStockThreshold: read.int("LOW_STOCK_THRESHOLD", 5, { min: 0, max: 1_000_000 }),
  };
  read.done();
  return Object.freeze(config);
}
