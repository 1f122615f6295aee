import { createTestPostgres } from "@nexus/testing";
import { Migrator } from "kysely/migration";
import { describe, expect, it } from "vitest";
import type { Database } from "./database.ts";
import { migrations } from "./migrations.ts";

describe("0006_announce_accounts", () => {
  it("announces every account that existed before users published events, once, and no deleted one", async () => {
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0006"));
    const pg = await createTestPostgres<Database>("users_announce", before);
    try {
      const [ada] = await pg.db
        .insertInto("users")
        .values([
          { email: "ada@example.com", name: "Ada", role: "ADMIN", email_verified: true },
          { email: "gone@example.com", name: "Gone", role: "CUSTOMER", deleted_at: new Date() },
        ])
        .returning("id")
        .execute();
      const migrator = new Migrator({ db: pg.db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      expect((await migrator.migrateToLatest()).results).toEqual([]);

      const rows = await pg.db.selectFrom("outbox").select(["type", "aggregate_id", "payload"]).execute();
      expect(rows).toEqual([
        {
          type: "UserRegistered",
          aggregate_id: ada?.id,
          payload: {
            user: { id: ada?.id, email: "ada@example.com", name: "Ada", role: "ADMIN", emailVerified: true },
          },
        },
      ]);
    } finally {
      await pg.drop();
    }
  });
});
