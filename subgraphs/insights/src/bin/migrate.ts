/**
 * Creates the insights database when missing and applies its pending migrations, then exits (1 on
 * failure). Deployments that set DATABASE_MIGRATIONS=verify run it before a release rolls out
 * (the Kubernetes migrate Job); it is safe to run twice, or twice at once. It reads only
 * INSIGHTS_DATABASE_URL (or DATABASE_URL) and LOG_LEVEL.
 *
 *   node subgraphs/insights/src/bin/migrate.ts        (in the image: node service/src/bin/migrate.ts)
 */
import { runMigrateCommand } from "@nexus/stores";
import { migrations } from "../db/migrations.ts";

await runMigrateCommand("insights", migrations);
