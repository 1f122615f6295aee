import { type ConfigOf, env, loadConfigFrom, serviceConfigSchema } from "@nexus/core";
import { eventsConfigSchema } from "@nexus/events";
import { databaseUrlField } from "@nexus/stores";

const configSchema = serviceConfigSchema("inventory", 4004).safeExtend({
  databaseUrl: databaseUrlField("inventory"),
  ...eventsConfigSchema.shape,
  /** Fill an empty stock_levels table with the demo products' stock. */
  seedDemoData: env.bool("SEED_DEMO_DATA", false),
  /** How long a reservation holds stock unless the order is confirmed (payment captured). */
  reservationTtlSeconds: env.int("RESERVATION_TTL_SECONDS", 900, { min: 1, max: 7 * 24 * 3600 }),
  /** How often the sweeper looks for reservations past their expiry. */
  reservationSweepMs: env.int("RESERVATION_SWEEP_MS", 5000, { min: 50, max: 3_600_000 }),
  /** Products without a threshold of their own are low on stock at or below this many available units. */
  lowStockThreshold: env.int("LOW_STOCK_THRESHOLD", 5, { min: 0, max: 1_000_000 }),
});

export type Config = ConfigOf<typeof configSchema>;

export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigFrom(configSchema, processEnv);
}
