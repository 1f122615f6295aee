import { createProcessedEventsMigration } from "@nexus/events";
import { sql } from "kysely";
import type { Migration } from "kysely/migration";

/** Applied in key order; never edit one that has shipped, add the next. */
export const migrations: Record<string, Migration> = {
  "0001_processed_events": createProcessedEventsMigration,
  "0002_notifications": {
    async up(db) {
      await db.schema
        .createTable("contacts")
        .addColumn("user_id", "uuid", (c) => c.primaryKey())
        .addColumn("email", "text")
        .addColumn("name", "text")
        .addColumn("role", "text", (c) => c.check(sql`role IN ('CUSTOMER', 'ADMIN', 'PARTNER')`))
        .addColumn("email_verified", "boolean", (c) => c.notNull().defaultTo(false))
        .addColumn("deleted", "boolean", (c) => c.notNull().defaultTo(false))
        .addColumn("version_at", "timestamptz", (c) => c.notNull())
        .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addCheckConstraint(
          "contacts_deleted_holds_nothing",
          sql`NOT deleted OR (email IS NULL AND name IS NULL)`,
        )
        .execute();
      // Staff messages go to every admin.
      await sql`CREATE INDEX contacts_admins ON contacts (user_id) WHERE role = 'ADMIN' AND NOT deleted`.execute(
        db,
      );

      await db.schema
        .createTable("deliveries")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("idempotency_key", "text", (c) => c.notNull().unique())
        .addColumn("event_id", "uuid", (c) => c.notNull())
        .addColumn("message_type", "text", (c) => c.notNull())
        .addColumn("channel", "text", (c) => c.notNull().check(sql`channel IN ('EMAIL', 'IN_APP')`))
        .addColumn("user_id", "uuid")
        .addColumn("email", "text")
        .addColumn("data", "jsonb", (c) => c.notNull())
        .addColumn("status", "text", (c) =>
          c.notNull().check(sql`status IN ('QUEUED', 'SENT', 'FAILED', 'SKIPPED')`),
        )
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0).check(sql`attempts >= 0`))
        .addColumn("next_attempt_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("last_error", "text")
        .addColumn("message_id", "text")
        .addColumn("provider_response", "text")
        .addColumn("sent_at", "timestamptz")
        .addColumn("read_at", "timestamptz")
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addCheckConstraint(
          "deliveries_email_has_address",
          sql`channel <> 'EMAIL' OR status <> 'QUEUED' OR email IS NOT NULL`,
        )
        .addCheckConstraint("deliveries_inbox_has_owner", sql`channel <> 'IN_APP' OR user_id IS NOT NULL`)
        .execute();
      // The senders' queue: only what is still to send, in the order it falls due.
      await sql`CREATE INDEX deliveries_due ON deliveries (next_attempt_at)
        WHERE status = 'QUEUED' AND channel = 'EMAIL'`.execute(db);
      // The inbox, newest first, and its unread count.
      await sql`CREATE INDEX deliveries_inbox ON deliveries (user_id, created_at DESC, id DESC)
        WHERE channel = 'IN_APP'`.execute(db);
      await sql`CREATE INDEX deliveries_unread ON deliveries (user_id)
        WHERE channel = 'IN_APP' AND read_at IS NULL`.execute(db);
      // Personal data goes when an account is deleted: every row of the account.
      await sql`CREATE INDEX deliveries_user ON deliveries (user_id)`.execute(db);

      await db.schema
        .createTable("notification_preferences")
        .addColumn("user_id", "uuid", (c) => c.notNull())
        .addColumn("message_type", "text", (c) => c.notNull())
        .addColumn("channel", "text", (c) => c.notNull().check(sql`channel IN ('EMAIL', 'IN_APP')`))
        .addColumn("enabled", "boolean", (c) => c.notNull())
        .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint("notification_preferences_pkey", ["user_id", "message_type", "channel"])
        .execute();

      await db.schema
        .createTable("failed_event_alerts")
        .addColumn("consumer", "text", (c) => c.notNull())
        .addColumn("event_id", "text", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint("failed_event_alerts_pkey", ["consumer", "event_id"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("failed_event_alerts").execute();
      await db.schema.dropTable("notification_preferences").execute();
      await db.schema.dropTable("deliveries").execute();
      await db.schema.dropTable("contacts").execute();
    },
  },
};
