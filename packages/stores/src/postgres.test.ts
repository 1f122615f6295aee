import { randomBytes } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import { afterEach, describe, expect, test } from "vitest";
import {
  createPostgresDb,
  databaseUrl,
  dropDatabase,
  MigrationsPendingError,
  migrateToLatest,
  openPostgres,
  pendingMigrations,
} from "./postgres.ts";

// @nexus/testing depends on this package, so its helpers are not used here.
const TEST_SERVER_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const opened: Kysely<unknown>[] = [];
const databases: string[] = [];

/** A database name no other test uses; dropped after the test. */
function freshUrl(label: string): string {
  const url = databaseUrl(TEST_SERVER_URL, `nexus_test_${label}_${randomBytes(4).toString("hex")}`);
  databases.push(url);
  return url;
}

function track<DB>(db: Kysely<DB>): Kysely<DB> {
  opened.push(db as unknown as Kysely<unknown>);
  return db;
}

afterEach(async () => {
  for (const db of opened.splice(0)) await db.destroy();
  for (const url of databases.splice(0)) await dropDatabase(url);
});

const createTable = (name: string): Migration => ({
  async up(db) {
    await sql`CREATE TABLE ${sql.id(name)} (id INTEGER PRIMARY KEY)`.execute(db);
  },
});

const migrations: Record<string, Migration> = {
  "0001_first": createTable("first"),
  "0002_second": createTable("second"),
  "0003_third": createTable("third"),
};

async function tables(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%' ORDER BY table_name
  `.execute(db);
  return rows.map((row) => row.name);
}

describe("openPostgres in auto mode (the default)", () => {
  test("creates a missing database, applies every migration and reports them, then nothing the second time", async () => {
    const url = freshUrl("auto");
    const applied: string[][] = [];
    track(await openPostgres(url, migrations, { onMigrated: (names) => applied.push(names) }));
    const again = track(await openPostgres(url, migrations, { onMigrated: (names) => applied.push(names) }));
    expect(applied).toEqual([["0001_first", "0002_second", "0003_third"]]);
    expect(await tables(again)).toEqual(["first", "second", "third"]);
  });
});

describe("openPostgres in verify mode", () => {
  test("refuses a database that does not exist, naming every migration, and does not create it", async () => {
    const url = freshUrl("verify_missing");
    const opening = openPostgres(url, migrations, { migrationMode: "verify" });
    await expect(opening).rejects.toThrow(MigrationsPendingError);
    await expect(opening).rejects.toThrow(
      /^database nexus_test_verify_missing_\w+ is missing migrations 0001_first, 0002_second, 0003_third: run/,
    );
    const admin = track(createPostgresDb(databaseUrl(url, "postgres")));
    const { rows } =
      await sql`SELECT 1 FROM pg_database WHERE datname = ${new URL(url).pathname.slice(1)}`.execute(admin);
    expect(rows).toEqual([]);
  });

  test("refuses a database behind the code, naming only the missing migrations, and applies none", async () => {
    const url = freshUrl("verify_behind");
    const older = track(await openPostgres(url, { "0001_first": createTable("first") }));
    const opening = openPostgres(url, migrations, { migrationMode: "verify" });
    await expect(opening).rejects.toMatchObject({ pending: ["0002_second", "0003_third"] });
    await expect(opening).rejects.toThrow("is missing migrations 0002_second, 0003_third");
    expect(await tables(older)).toEqual(["first"]);
    expect(await pendingMigrations(older, migrations)).toEqual(["0002_second", "0003_third"]);
  });

  test("says PostgreSQL is not reachable, as auto mode does, when nothing answers", async () => {
    const url = "postgres://postgres:secret@127.0.0.1:1/nexus";
    await expect(openPostgres(url, migrations, { migrationMode: "verify" })).rejects.toThrow(
      "PostgreSQL is not reachable at postgres://postgres:***@127.0.0.1:1/nexus. Start PostgreSQL",
    );
  });

  test("opens a database that has every migration, without migrating", async () => {
    const url = freshUrl("verify_current");
    track(await openPostgres(url, migrations));
    const migrated: string[][] = [];
    const db = track(
      await openPostgres(url, migrations, {
        migrationMode: "verify",
        onMigrated: (names) => migrated.push(names),
      }),
    );
    expect(migrated).toEqual([]);
    expect(await tables(db)).toEqual(["first", "second", "third"]);
  });
});

describe("migrateToLatest", () => {
  test("serializes two migrators on one database: the second waits, then finds nothing to apply", async () => {
    const url = freshUrl("race");
    // Each run of the slow migration writes when it began and ended; two at once would overlap
    // (or, the second time, fail on the existing table).
    const slow = (name: string): Migration => ({
      async up(db) {
        await sql`CREATE TABLE IF NOT EXISTS runs (name TEXT, began TIMESTAMPTZ, ended TIMESTAMPTZ)`.execute(
          db,
        );
        await sql`CREATE TABLE ${sql.id(name)} (id INTEGER)`.execute(db);
        const { rows } = await sql<{ began: Date }>`SELECT clock_timestamp() AS began`.execute(db);
        await sql`SELECT pg_sleep(0.3)`.execute(db);
        await sql`INSERT INTO runs VALUES (${name}, ${rows[0]?.began}, clock_timestamp())`.execute(db);
      },
    });
    const racing = { "0001_slow": slow("slow_one"), "0002_slow": slow("slow_two") };
    track(await openPostgres(url, {}));
    const one = track(createPostgresDb(url));
    const two = track(createPostgresDb(url));
    const results = await Promise.all([migrateToLatest(one, racing), migrateToLatest(two, racing)]);
    expect(results.sort((a, b) => b.length - a.length)).toEqual([["0001_slow", "0002_slow"], []]);
    const { rows } = await sql<{ name: string }>`SELECT name FROM runs ORDER BY began`.execute(one);
    expect(rows.map((row) => row.name)).toEqual(["slow_one", "slow_two"]);
    const { rows: applied } = await sql<{
      name: string;
    }>`SELECT name FROM kysely_migration ORDER BY name`.execute(one);
    expect(applied.map((row) => row.name)).toEqual(["0001_slow", "0002_slow"]);
  });

  test("holds an advisory lock while it migrates and releases it after", async () => {
    const url = freshUrl("lock");
    track(await openPostgres(url, {}));
    const db = track(createPostgresDb(url));
    const observer = track(createPostgresDb(url));
    // Advisory locks held on this database (other tests' databases have their own).
    const advisoryLocks = async () => {
      const { rows } = await sql<{ count: number }>`
        SELECT count(*)::int AS count FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE l.locktype = 'advisory' AND l.granted AND d.datname = ${new URL(url).pathname.slice(1)}
      `.execute(observer);
      return rows[0]?.count ?? 0;
    };
    let heldDuringMigration = 0;
    await migrateToLatest(db, {
      "0001_look": {
        async up() {
          heldDuringMigration = await advisoryLocks();
        },
      },
    });
    expect(heldDuringMigration).toBeGreaterThan(0);
    expect(await advisoryLocks()).toBe(0);
  });

  test("fails with the failing migration's name and leaves the schema as it was", async () => {
    const url = freshUrl("failing");
    const db = track(await openPostgres(url, {}));
    const failing = {
      "0001_first": createTable("first"),
      "0002_broken": {
        async up(db: Kysely<unknown>) {
          await sql`CREATE TABLE broken (id INTEGER)`.execute(db);
          await sql`SELECT * FROM no_such_table`.execute(db);
        },
      },
    };
    await expect(migrateToLatest(db, failing)).rejects.toThrow(
      /^Migration 0002_broken failed: .*no_such_table/,
    );
    expect(await tables(db)).toEqual([]);
    expect(await pendingMigrations(db, failing)).toEqual(["0001_first", "0002_broken"]);
  });
});
