import { createOutboxMigration, createProcessedEventsMigration } from "@nexus/events";
import { sql } from "kysely";
import type { Migration } from "kysely/migration";

/** Applied in key order; never edit one that has shipped, add the next. */
export const migrations: Record<string, Migration> = {
  "0001_orders": {
    async up(db) {
      // Millisecond precision, so a placed_at that went through a JS Date (as in a page cursor)
      // compares equal to the stored value and keyset pagination neither skips nor repeats rows.
      await db.schema
        .createTable("orders")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("customer_id", "uuid", (c) => c.notNull())
        .addColumn("status", "text", (c) =>
          c.notNull().defaultTo("PENDING").check(sql`status IN ('PENDING', 'CONFIRMED', 'REJECTED')`),
        )
        .addColumn("currency_code", "text", (c) => c.notNull().check(sql`currency_code ~ '^[A-Z]{3}$'`))
        .addColumn("total_amount", "integer", (c) => c.notNull().check(sql`total_amount >= 0`))
        .addColumn("placed_at", "timestamptz(3)", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("updated_at", "timestamptz(3)", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await sql`CREATE INDEX orders_customer_newest ON orders (customer_id, placed_at DESC, id DESC)`.execute(
        db,
      );

      await db.schema
        .createTable("order_lines")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("order_id", "uuid", (c) => c.notNull().references("orders.id").onDelete("cascade"))
        .addColumn("position", "integer", (c) => c.notNull().check(sql`position >= 0`))
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("product_name", "text", (c) => c.notNull())
        .addColumn("unit_price", "integer", (c) => c.notNull().check(sql`unit_price >= 0`))
        .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
        // Its index leads with order_id, so it also serves every lines-of-these-orders lookup.
        .addUniqueConstraint("order_lines_order_position", ["order_id", "position"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("order_lines").execute();
      await db.schema.dropTable("orders").execute();
    },
  },
  "0002_outbox": createOutboxMigration,
  "0003_processed_events": createProcessedEventsMigration,
};
