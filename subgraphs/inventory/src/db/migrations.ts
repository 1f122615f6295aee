import { createOutboxMigration, createProcessedEventsMigration } from "@nexus/events";
import { sql } from "kysely";
import type { Migration } from "kysely/migration";

/** Applied in key order; never edit one that has shipped, add the next. */
export const migrations: Record<string, Migration> = {
  "0001_stock": {
    async up(db) {
      await db.schema
        .createTable("stock_levels")
        .addColumn("product_id", "text", (c) => c.primaryKey())
        .addColumn("on_hand", "integer", (c) => c.notNull().check(sql`on_hand >= 0`))
        .addColumn("reserved", "integer", (c) => c.notNull().defaultTo(0).check(sql`reserved >= 0`))
        .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        // The last line of defence against overselling, whatever the code above it does.
        .addCheckConstraint("stock_levels_reserved_within_on_hand", sql`reserved <= on_hand`)
        .execute();

      await db.schema
        .createTable("reservations")
        .addColumn("order_id", "uuid", (c) => c.notNull())
        .addColumn("product_id", "text", (c) => c.notNull().references("stock_levels.product_id"))
        .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
        .addColumn("status", "text", (c) =>
          c.notNull().defaultTo("RESERVED").check(sql`status IN ('RESERVED', 'RELEASED', 'COMMITTED')`),
        )
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint("reservations_pkey", ["order_id", "product_id"])
        .execute();

      await db.schema
        .createTable("stock_movements")
        .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn("product_id", "text", (c) => c.notNull().references("stock_levels.product_id"))
        .addColumn("delta", "integer", (c) => c.notNull().check(sql`delta <> 0`))
        .addColumn("reason", "text", (c) => c.notNull().check(sql`reason IN ('SEED', 'RESERVATION')`))
        .addColumn("order_id", "uuid")
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createIndex("stock_movements_product_id")
        .on("stock_movements")
        .columns(["product_id", "id"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("stock_movements").execute();
      await db.schema.dropTable("reservations").execute();
      await db.schema.dropTable("stock_levels").execute();
    },
  },
  "0002_outbox": createOutboxMigration,
  "0003_processed_events": createProcessedEventsMigration,
};
