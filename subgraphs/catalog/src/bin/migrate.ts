/**
 * Builds catalog's MongoDB indexes and brings older documents up to date, then exits (1 on
 * failure): what migrating means for catalog. Deployments that set DATABASE_MIGRATIONS=verify
 * run it before a release rolls out (the Kubernetes migrate Job); it is safe to run twice, or
 * twice at once (creating an existing identical index is a no-op). It reads only MONGO_URL,
 * CATALOG_MONGO_DATABASE and LOG_LEVEL, and never starts the embedded server: indexes built in
 * a throwaway in-memory database would help nobody.
 *
 *   node subgraphs/catalog/src/bin/migrate.ts        (in the image: node service/src/bin/migrate.ts)
 */
import { createLogger, env, loadConfigFrom } from "@nexus/core";
import { connectMongo } from "@nexus/stores";
import { z } from "zod";
import { mongoDatabaseFields } from "../config.ts";
import { createCatalogDb, ensureIndexes, upgradeDocuments } from "../db/collections.ts";

const schema = z.object({
  ...mongoDatabaseFields,
  logLevel: env.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error", "silent"]),
});

let logger = createLogger("catalog");
try {
  const config = loadConfigFrom(schema, process.env);
  logger = createLogger("catalog", config.logLevel);
  const mongo = await connectMongo({
    url: config.mongoUrl,
    database: config.mongoDatabase,
    embeddedFallback: false,
  });
  try {
    const db = createCatalogDb(mongo.db);
    const created = await ensureIndexes(db);
    await upgradeDocuments(db);
    logger.info(
      created.length > 0
        ? `migrated database ${config.mongoDatabase}: created indexes ${created.join(", ")}`
        : `database ${config.mongoDatabase} is up to date: no index to create`,
      { database: config.mongoDatabase, applied: created },
    );
  } finally {
    await mongo.close();
  }
} catch (error) {
  logger.error(`migrating failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
