import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createLogger } from "@nexus/core";
import { MigrationsPendingError, pendingMigrations } from "@nexus/stores";
import {
  createTestPostgres,
  TEST_REDIS_URL,
  TEST_SUBGRAPH_SECRET,
  type TestPostgres,
  testRedisPrefix,
} from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp } from "../app.ts";
import { loadConfig } from "../config.ts";
import { migrations } from "../db/migrations.ts";

/** A PostgreSQL subgraph deployed the Kubernetes way: the migrate command first, the service only verifies. */

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("migrate.ts", import.meta.url));
const logger = createLogger("inventory-migrate-test", "silent");
let pg: TestPostgres<unknown>;

beforeAll(async () => {
  // A database with none of inventory's migrations applied.
  pg = await createTestPostgres("inventory_verify", {});
});
afterAll(() => pg?.drop());

const config = () =>
  loadConfig({
    HOST: "127.0.0.1",
    INVENTORY_PORT: "0",
    INVENTORY_DATABASE_URL: pg.url,
    REDIS_URL: TEST_REDIS_URL,
    EVENTS_PREFIX: testRedisPrefix("inventory-verify"),
    SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
    DATABASE_MIGRATIONS: "verify",
  });

describe("inventory with DATABASE_MIGRATIONS=verify", () => {
  const names = Object.keys(migrations).sort();

  it("refuses to start on a database without its migrations, naming every one, and applies none", async () => {
    const starting = startApp(config(), logger);
    await expect(starting).rejects.toThrow(MigrationsPendingError);
    await expect(starting).rejects.toMatchObject({ pending: names });
    await expect(starting).rejects.toThrow(`is missing migrations ${names.join(", ")}: run`);
    expect(await pendingMigrations(pg.db, migrations)).toEqual(names);
  });

  it("starts and serves once its migrate command has run", async () => {
    const { stdout } = await run(process.execPath, [SCRIPT], {
      env: { PATH: process.env.PATH ?? "", INVENTORY_DATABASE_URL: pg.url },
    });
    expect(JSON.parse(stdout.trim().split("\n").at(-1) ?? "")).toMatchObject({
      level: "info",
      applied: names,
    });
    const app = await startApp(config(), logger);
    try {
      const ready = await fetch(new URL("/ready", app.url));
      expect(ready.status).toBe(200);
    } finally {
      await app.stop();
    }
  });
});
