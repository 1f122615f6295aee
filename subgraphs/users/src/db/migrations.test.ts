import { createTestPostgres } from "@nexus/testing";
import { sql } from "kysely";
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

describe("0007_partner_keys_and_usage", () => {
  it("moves each client's one key into partner_api_keys as it was, and back on the way down", async () => {
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0007"));
    const pg = await createTestPostgres<Database>("users_partner_keys", before);
    try {
      const usedAt = new Date("2026-03-01T10:00:00.000Z");
      const revokedAt = new Date("2026-03-02T10:00:00.000Z");
      // The old shape of partner_clients, which the typed handle no longer describes.
      await sql`
        INSERT INTO partner_clients (name, key_prefix, key_hash, last_used_at, revoked_at) VALUES
          ('live', 'nxp_live0001', '\\x01', ${usedAt}, NULL),
          ('gone', 'nxp_gone0001', '\\x02', NULL, ${revokedAt})`.execute(pg.db);
      const migrator = new Migrator({ db: pg.db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateToLatest()).error).toBeUndefined();

      const keys = await pg.db
        .selectFrom("partner_api_keys as k")
        .innerJoin("partner_clients as c", "c.id", "k.client_id")
        .select([
          "c.name",
          "k.key_prefix",
          "k.key_hash",
          "k.last_used_at",
          "k.revoked_at",
          "c.revoked_at as clientRevokedAt",
        ])
        .orderBy("c.name")
        .execute();
      expect(keys).toEqual([
        {
          name: "gone",
          key_prefix: "nxp_gone0001",
          key_hash: Buffer.from([2]),
          last_used_at: null,
          revoked_at: revokedAt,
          clientRevokedAt: revokedAt,
        },
        {
          name: "live",
          key_prefix: "nxp_live0001",
          key_hash: Buffer.from([1]),
          last_used_at: usedAt,
          revoked_at: null,
          clientRevokedAt: null,
        },
      ]);

      const live = await pg.db
        .selectFrom("partner_clients")
        .select("id")
        .where("name", "=", "live")
        .executeTakeFirstOrThrow();
      // A second key, newer and working: the way down keeps it, the one model the old table can hold.
      await sql`INSERT INTO partner_api_keys (client_id, key_prefix, key_hash, created_at)
        VALUES (${live?.id}, 'nxp_live0002', '\\x03', now() + interval '1 second')`.execute(pg.db);
      expect((await migrator.migrateDown()).error).toBeUndefined();
      const { rows } = await sql<{ name: string; key_prefix: string; key_hash: Buffer }>`
        SELECT name, key_prefix, key_hash FROM partner_clients ORDER BY name`.execute(pg.db);
      expect(rows).toEqual([
        { name: "gone", key_prefix: "nxp_gone0001", key_hash: Buffer.from([2]) },
        { name: "live", key_prefix: "nxp_live0002", key_hash: Buffer.from([3]) },
      ]);
    } finally {
      await pg.drop();
    }
  });
});
