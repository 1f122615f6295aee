import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestPostgres, TEST_SERVER_URL, type TestPostgres } from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("create-admin.ts", import.meta.url));

let pg: TestPostgres<Database>;
beforeAll(async () => {
  pg = await createTestPostgres<Database>("create_admin", migrations);
});
afterAll(() => pg?.drop());

const env = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? "",
  USERS_DATABASE_URL: pg.url,
  DATABASE_URL: TEST_SERVER_URL,
  ...extra,
});

describe("pnpm create-admin", () => {
  it("creates an admin with an argon2id password from NEXUS_ADMIN_PASSWORD", async () => {
    const { stdout } = await run(
      process.execPath,
      [SCRIPT, "--email", " Ops@Example.com ", "--name", "Ops"],
      {
        env: env({ NEXUS_ADMIN_PASSWORD: "a long admin password" }),
      },
    );
    expect(stdout).toMatch(/^Created admin ops@example\.com \([0-9a-f-]{36}\)\.\n$/);
    const row = await pg.db
      .selectFrom("users")
      .selectAll()
      .where("email", "=", "ops@example.com")
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ role: "ADMIN", name: "Ops" });
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    // Recorded for the running service's relay to publish: notifications learns of the admin.
    const events = await pg.db.selectFrom("outbox").select(["type", "aggregate_id", "payload"]).execute();
    expect(events).toEqual([
      {
        type: "UserRegistered",
        aggregate_id: row.id,
        payload: {
          user: { id: row.id, email: "ops@example.com", name: "Ops", role: "ADMIN", emailVerified: false },
        },
      },
    ]);
  });

  it("promotes an existing account without touching its password", async () => {
    await pg.db
      .insertInto("users")
      .values({ email: "shopper@example.com", password_hash: "kept", name: "S", role: "CUSTOMER" })
      .execute();
    const { stdout } = await run(process.execPath, [SCRIPT, "--email", "shopper@example.com"], {
      env: env(),
    });
    expect(stdout).toMatch(/^Promoted admin shopper@example\.com/);
    const row = await pg.db
      .selectFrom("users")
      .selectAll()
      .where("email", "=", "shopper@example.com")
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ role: "ADMIN", password_hash: "kept" });
    const changed = await pg.db
      .selectFrom("outbox")
      .select("payload")
      .where("type", "=", "UserChanged")
      .execute();
    expect(changed).toEqual([
      { payload: { user: expect.objectContaining({ id: row.id, role: "ADMIN" }), changed: ["role"] } },
    ]);
  });

  it("refuses a weak password and writes nothing", async () => {
    const failure = await run(process.execPath, [SCRIPT, "--email", "weak@example.com"], {
      env: env({ NEXUS_ADMIN_PASSWORD: "short" }),
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining("WEAK_PASSWORD") });
    expect(
      await pg.db.selectFrom("users").selectAll().where("email", "=", "weak@example.com").execute(),
    ).toEqual([]);
  });
});
