import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createLogger } from "@nexus/core";
import { TEST_REDIS_URL, TEST_SUBGRAPH_SECRET, testRedisPrefix } from "@nexus/testing";
import { MongoClient } from "mongodb";
import { afterAll, describe, expect, inject, it } from "vitest";
import { startApp } from "../app.ts";
import { loadConfig } from "../config.ts";
import { createCatalogDb, missingIndexes } from "../db/collections.ts";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("migrate.ts", import.meta.url));
const logger = createLogger("catalog-migrate-test", "silent");
const database = `nexus_test_catalog_migrate_${randomBytes(4).toString("hex")}`;
const env = {
  HOST: "127.0.0.1",
  CATALOG_PORT: "0",
  LOG_LEVEL: "silent",
  MONGO_EMBEDDED: "false",
  CATALOG_MONGO_DATABASE: database,
  REDIS_URL: TEST_REDIS_URL,
  EVENTS_PREFIX: testRedisPrefix("catalog_migrate"),
  SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
  SEARCH_CATCH_UP_MS: "0",
  DATABASE_MIGRATIONS: "verify",
};

const client = new MongoClient(inject("mongoUrl"));
afterAll(async () => {
  await client
    .db(database)
    .dropDatabase()
    .catch(() => {});
  await client.close();
});

async function migrate() {
  const { stdout } = await run(process.execPath, [SCRIPT], {
    env: { PATH: process.env.PATH ?? "", MONGO_URL: inject("mongoUrl"), CATALOG_MONGO_DATABASE: database },
  });
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { msg: string; applied: string[] });
}

describe("catalog's migrate command and DATABASE_MIGRATIONS=verify", () => {
  it("refuses to start without the indexes, naming them, and builds none", async () => {
    const starting = startApp(loadConfig({ ...env, MONGO_URL: inject("mongoUrl") }), logger);
    await expect(starting).rejects.toThrow(
      new RegExp(
        `^database ${database} is missing indexes products\\.sku_unique, products\\.slug_unique, .*purchases\\.customer_product: run`,
      ),
    );
    expect(await missingIndexes(createCatalogDb(client.db(database)))).toContain("products.sku_unique");
  });

  it("builds every index once (twice at once is fine), after which a verifying catalog starts", async () => {
    const [one, two] = await Promise.all([migrate(), migrate()]);
    // Both exited 0 (execFile rejects otherwise); each may have seen an index missing and built
    // it, a no-op for the second, so between them they report at least every index once.
    const created = new Set([one?.at(-1)?.applied ?? [], two?.at(-1)?.applied ?? []].flat());
    expect(created).toContain("products.sku_unique");
    expect(created).toContain("purchases.customer_product");
    expect(await missingIndexes(createCatalogDb(client.db(database)))).toEqual([]);
    const again = await migrate();
    expect(again.at(-1)).toMatchObject({
      applied: [],
      msg: `database ${database} is up to date: no index to create`,
    });
    const app = await startApp(loadConfig({ ...env, MONGO_URL: inject("mongoUrl") }), logger);
    await app.stop();
  });
});
