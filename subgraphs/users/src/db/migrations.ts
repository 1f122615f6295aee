import { createOutboxMigration } from "@nexus/events";
import { sql } from "kysely";
import type { Migration } from "kysely/migration";

/** Applied in key order; never edit one that has shipped, add the next. */
export const migrations: Record<string, Migration> = {
  "0001_users": {
    async up(db) {
      await db.schema
        .createTable("users")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("email", "text", (c) => c.notNull().unique())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) =>
          c.notNull().defaultTo("CUSTOMER").check(sql`role IN ('CUSTOMER', 'ADMIN', 'PARTNER')`),
        )
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("users").execute();
    },
  },
  "0002_sessions_addresses_partners": {
    async up(db) {
      await db.schema
        .alterTable("users")
        .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createIndex("users_created_at_id")
        .on("users")
        .columns(["created_at desc", "id desc"])
        .execute();

      // One family per sign-in: every refresh token rotated from it shares the family, so reuse
      // of any used token can revoke all of them at once.
      await db.schema
        .createTable("refresh_token_families")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("expires_at", "timestamptz", (c) => c.notNull())
        .addColumn("revoked_at", "timestamptz")
        .addColumn("revoked_reason", "text")
        .execute();
      await db.schema
        .createIndex("refresh_token_families_user_id")
        .on("refresh_token_families")
        .column("user_id")
        .execute();
      await db.schema
        .createTable("refresh_tokens")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("family_id", "uuid", (c) =>
          c.notNull().references("refresh_token_families.id").onDelete("cascade"),
        )
        .addColumn("token_hash", "bytea", (c) => c.notNull().unique())
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("used_at", "timestamptz")
        .execute();
      await db.schema
        .createIndex("refresh_tokens_family_id")
        .on("refresh_tokens")
        .column("family_id")
        .execute();

      await db.schema
        .createTable("addresses")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("line1", "text", (c) => c.notNull())
        .addColumn("line2", "text")
        .addColumn("city", "text", (c) => c.notNull())
        .addColumn("region", "text")
        .addColumn("postal_code", "text", (c) => c.notNull())
        .addColumn("country_code", "char(2)", (c) => c.notNull())
        .addColumn("is_default", "boolean", (c) => c.notNull().defaultTo(false))
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex("addresses_user_id").on("addresses").column("user_id").execute();
      // At most one default per user, whatever the interleaving of concurrent requests.
      await db.schema
        .createIndex("addresses_one_default_per_user")
        .on("addresses")
        .column("user_id")
        .unique()
        .where(sql.ref("is_default"), "=", true)
        .execute();

      await db.schema
        .createTable("partner_clients")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("key_prefix", "text", (c) => c.notNull())
        .addColumn("key_hash", "bytea", (c) => c.notNull().unique())
        .addColumn("created_by", "uuid", (c) => c.references("users.id").onDelete("set null"))
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("revoked_at", "timestamptz")
        .addColumn("last_used_at", "timestamptz")
        .execute();
      await db.schema
        .createIndex("partner_clients_created_at_id")
        .on("partner_clients")
        .columns(["created_at desc", "id desc"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("partner_clients").execute();
      await db.schema.dropTable("addresses").execute();
      await db.schema.dropTable("refresh_tokens").execute();
      await db.schema.dropTable("refresh_token_families").execute();
      await db.schema.alterTable("users").dropColumn("updated_at").execute();
    },
  },
  "0003_imported_customers": {
    async up(db) {
      // Imported customers arrive with neither email nor password; they sign in once an email is
      // set and a password reset done. Every account stays reachable by one of its two keys.
      await db.schema
        .alterTable("users")
        .alterColumn("email", (c) => c.dropNotNull())
        .alterColumn("password_hash", (c) => c.dropNotNull())
        .addColumn("external_id", "text", (c) => c.unique())
        .addColumn("country_code", "char(2)")
        .execute();
      await db.schema
        .alterTable("users")
        .addCheckConstraint("users_email_or_external_id", sql`email IS NOT NULL OR external_id IS NOT NULL`)
        .execute();
    },
    async down(db) {
      // Accounts the old schema cannot hold go: it has no place for them.
      await sql`DELETE FROM users WHERE email IS NULL OR password_hash IS NULL`.execute(db);
      await db.schema.alterTable("users").dropConstraint("users_email_or_external_id").execute();
      await db.schema
        .alterTable("users")
        .dropColumn("country_code")
        .dropColumn("external_id")
        .alterColumn("email", (c) => c.setNotNull())
        .alterColumn("password_hash", (c) => c.setNotNull())
        .execute();
    },
  },
  "0004_outbox": createOutboxMigration,
  "0005_account_tokens": {
    async up(db) {
      await db.schema
        .alterTable("users")
        .addColumn("email_verified", "boolean", (c) => c.notNull().defaultTo(false))
        .addColumn("deleted_at", "timestamptz")
        .execute();
      // A deleted account keeps its row (orders point at it) but neither email nor external id.
      await db.schema.alterTable("users").dropConstraint("users_email_or_external_id").execute();
      await db.schema
        .alterTable("users")
        .addCheckConstraint(
          "users_email_or_external_id",
          sql`email IS NOT NULL OR external_id IS NOT NULL OR deleted_at IS NOT NULL`,
        )
        .execute();

      // Single-use tokens mailed to an account's owner: password reset, invitation, email
      // verification. Only their SHA-256 is stored, as for refresh tokens.
      await db.schema
        .createTable("account_tokens")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id").onDelete("cascade"))
        .addColumn("purpose", "text", (c) => c.notNull().check(sql`purpose IN ('reset', 'invite', 'verify')`))
        .addColumn("token_hash", "bytea", (c) => c.notNull().unique())
        // The address a verification token verifies: a token mailed before an email change must
        // not verify the new address.
        .addColumn("email", "text", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("expires_at", "timestamptz", (c) => c.notNull())
        .addColumn("used_at", "timestamptz")
        .addColumn("superseded_at", "timestamptz")
        .execute();
      await db.schema
        .createIndex("account_tokens_user_id")
        .on("account_tokens")
        .columns(["user_id", "purpose"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("account_tokens").execute();
      await sql`DELETE FROM users WHERE deleted_at IS NOT NULL AND email IS NULL AND external_id IS NULL`.execute(
        db,
      );
      await db.schema.alterTable("users").dropConstraint("users_email_or_external_id").execute();
      await db.schema
        .alterTable("users")
        .addCheckConstraint("users_email_or_external_id", sql`email IS NOT NULL OR external_id IS NOT NULL`)
        .execute();
      await db.schema.alterTable("users").dropColumn("deleted_at").dropColumn("email_verified").execute();
    },
  },
  "0006_announce_accounts": {
    // Accounts made before users published events were never announced: notifications would have
    // no contact for them and could not write to them. One UserRegistered each, as the outbox
    // relay publishes any row, in the migration's transaction.
    async up(db) {
      await sql`
        INSERT INTO outbox (id, type, aggregate_id, payload)
        SELECT gen_random_uuid(), 'UserRegistered', id::text,
               jsonb_build_object('user', jsonb_build_object(
                 'id', id::text, 'email', email, 'name', name, 'role', role,
                 'emailVerified', email_verified))
        FROM users
        WHERE deleted_at IS NULL`.execute(db);
    },
    async down() {},
  },
  "0007_partner_keys_and_usage": {
    // A partner client holds its keys in their own table, so a new key can be issued while the
    // old one still works (rotation without downtime). The client's one key moves over as is.
    async up(db) {
      await db.schema
        .createTable("partner_api_keys")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("client_id", "uuid", (c) =>
          c.notNull().references("partner_clients.id").onDelete("cascade"),
        )
        .addColumn("key_prefix", "text", (c) => c.notNull())
        .addColumn("key_hash", "bytea", (c) => c.notNull().unique())
        .addColumn("created_by", "uuid", (c) => c.references("users.id").onDelete("set null"))
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("revoked_at", "timestamptz")
        .addColumn("last_used_at", "timestamptz")
        .execute();
      await db.schema
        .createIndex("partner_api_keys_client_id")
        .on("partner_api_keys")
        .columns(["client_id", "created_at"])
        .execute();
      await sql`
        INSERT INTO partner_api_keys (client_id, key_prefix, key_hash, created_by, created_at, revoked_at, last_used_at)
        SELECT id, key_prefix, key_hash, created_by, created_at, revoked_at, last_used_at FROM partner_clients`.execute(
        db,
      );
      await db.schema
        .alterTable("partner_clients")
        .dropColumn("key_prefix")
        .dropColumn("key_hash")
        .dropColumn("last_used_at")
        .execute();

      // What the gateway reports each partner's persisted operations did, per UTC day.
      await db.schema
        .createTable("partner_operation_usage")
        .addColumn("client_id", "uuid", (c) =>
          c.notNull().references("partner_clients.id").onDelete("cascade"),
        )
        .addColumn("operation_id", "text", (c) => c.notNull())
        .addColumn("day", "date", (c) => c.notNull())
        .addColumn("requests", "bigint", (c) => c.notNull())
        .addColumn("errors", "bigint", (c) => c.notNull())
        .addColumn("last_used_at", "timestamptz", (c) => c.notNull())
        .addPrimaryKeyConstraint("partner_operation_usage_pkey", ["client_id", "operation_id", "day"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("partner_operation_usage").execute();
      await db.schema
        .alterTable("partner_clients")
        .addColumn("key_prefix", "text")
        .addColumn("key_hash", "bytea", (c) => c.unique())
        .addColumn("last_used_at", "timestamptz")
        .execute();
      // The old model holds one key: each client keeps its newest, preferring a working one.
      await sql`
        UPDATE partner_clients c SET key_prefix = k.key_prefix, key_hash = k.key_hash, last_used_at = k.last_used_at
        FROM (
          SELECT DISTINCT ON (client_id) client_id, key_prefix, key_hash, last_used_at
          FROM partner_api_keys ORDER BY client_id, revoked_at IS NULL DESC, created_at DESC
        ) k
        WHERE k.client_id = c.id`.execute(db);
      await sql`DELETE FROM partner_clients WHERE key_hash IS NULL`.execute(db);
      await db.schema
        .alterTable("partner_clients")
        .alterColumn("key_prefix", (c) => c.setNotNull())
        .alterColumn("key_hash", (c) => c.setNotNull())
        .execute();
      await db.schema.dropTable("partner_api_keys").execute();
    },
  },
};
