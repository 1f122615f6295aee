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
};
