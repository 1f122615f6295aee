import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createPostgresDb, databaseUrl, dropDatabase, pendingMigrations } from "@nexus/stores";
import { TEST_SERVER_URL } from "@nexus/testing";
import { afterAll, describe, expect, it } from "vitest";
import { migrations } from "../db/migrations.ts";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("migrate.ts", import.meta.url));
const url = databaseUrl(TEST_SERVER_URL, `nexus_test_migrate_cmd_${randomBytes(4).toString("hex")}`);
afterAll(() => dropDatabase(url));

/** Runs the command; resolves with its exit code and log lines, whether it succeeded or not. */
async function migrate(env: Record<string, string>) {
  try {
    const { stdout } = await run(process.execPath, [SCRIPT], {
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    return { code: 0, lines: logLines(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, lines: logLines(failed.stdout) };
  }
}

function logLines(stdout: string): { level: string; msg: string; applied?: string[] }[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe("node subgraphs/users/src/bin/migrate.ts", () => {
  const names = Object.keys(migrations).sort();

  it("creates and migrates the database once when two run at the same moment, and exits 0 both times", async () => {
    const env = { USERS_DATABASE_URL: url };
    const [one, two] = await Promise.all([migrate(env), migrate(env)]);
    expect([one?.code, two?.code]).toEqual([0, 0]);
    const applied = [one, two].map((result) => result?.lines.at(-1)?.applied ?? null);
    // One applied everything; the other waited for it and found nothing left.
    expect(applied.sort((a, b) => (b?.length ?? 0) - (a?.length ?? 0))).toEqual([names, []]);
    const db = createPostgresDb(url);
    try {
      expect(await pendingMigrations(db, migrations)).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it("says the database is up to date when run again", async () => {
    const { code, lines } = await migrate({ USERS_DATABASE_URL: url, LOG_LEVEL: "info" });
    expect(code).toBe(0);
    expect(lines.at(-1)).toMatchObject({ level: "info", applied: [] });
    expect(lines.at(-1)?.msg).toMatch(/^database nexus_test_migrate_cmd_\w+ is up to date/);
  });

  it("exits 1 with one readable line when the setting is bad or PostgreSQL does not answer", async () => {
    const bad = await migrate({ USERS_DATABASE_URL: "mysql://localhost/users" });
    expect(bad.code).toBe(1);
    expect(bad.lines).toHaveLength(1);
    expect(bad.lines[0]?.msg).toMatch(
      /^migrating failed: Invalid configuration:.*USERS_DATABASE_URL must use postgres:/s,
    );
    const down = await migrate({ USERS_DATABASE_URL: "postgres://postgres@127.0.0.1:1/users" });
    expect(down.code).toBe(1);
    expect(down.lines[0]?.msg).toMatch(/^migrating failed: .*PostgreSQL/s);
  });
});
