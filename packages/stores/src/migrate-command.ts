import { createLogger, env, loadConfigFrom } from "@nexus/core";
import type { Migration } from "kysely/migration";
import { z } from "zod";
import { databaseUrlField, migrateDatabase } from "./postgres.ts";

const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

/**
 * Only what migrating needs: the database URL (as the service reads it) and the log level. The
 * rest of the service's settings (secrets, mail, other services' URLs) are not asked for, so
 * the migrate Job needs no Secret but its database URL.
 */
function migrateConfigSchema(service: string) {
  return z.object({
    databaseUrl: databaseUrlField(service),
    logLevel: env.oneOf("LOG_LEVEL", "info", LOG_LEVELS),
  });
}

/**
 * The whole of a PostgreSQL subgraph's `src/bin/migrate.ts`: read its database URL, create
 * its database when missing, apply pending migrations, log what was applied, and exit 0; on a
 * failure log one readable line and exit 1. Safe to run again (nothing left: it applies none)
 * and concurrently (`migrateToLatest` takes an advisory lock, so runs take turns).
 */
export async function runMigrateCommand(
  service: string,
  migrations: Record<string, Migration>,
  vars: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  let logger = createLogger(service);
  try {
    const config = loadConfigFrom(migrateConfigSchema(service), vars);
    logger = createLogger(service, config.logLevel);
    const database = decodeURIComponent(new URL(config.databaseUrl).pathname.slice(1));
    const applied = await migrateDatabase(config.databaseUrl, migrations);
    logger.info(
      applied.length > 0
        ? `migrated database ${database}: applied ${applied.join(", ")}`
        : `database ${database} is up to date: no migration to apply`,
      { database, applied, known: Object.keys(migrations).length },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.error(`migrating failed: ${message}`);
    process.exitCode = 1;
  }
}
