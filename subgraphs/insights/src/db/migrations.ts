import { createProcessedEventsMigration } from "@nexus/events";
import { sql } from "kysely";
import type { Migration } from "kysely/migration";

/** Applied in key order; never edit one that has shipped, add the next. */
export const migrations: Record<string, Migration> = {
  "0001_sales_facts": {
    async up(db) {
      await db.schema
        .createTable("sales_facts")
        .addColumn("event_id", "uuid", (c) => c.notNull())
        .addColumn("order_id", "uuid", (c) => c.notNull())
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
        .addColumn("unit_price", "integer", (c) => c.notNull().check(sql`unit_price >= 0`))
        .addColumn("currency_code", "text", (c) => c.notNull())
        .addColumn("occurred_at", "timestamptz", (c) => c.notNull())
        .addPrimaryKeyConstraint("sales_facts_pkey", ["event_id", "product_id"])
        .execute();
      await db.schema.createIndex("sales_facts_product_id").on("sales_facts").column("product_id").execute();
    },
    async down(db) {
      await db.schema.dropTable("sales_facts").execute();
    },
  },
  "0002_processed_events": createProcessedEventsMigration,
  "0003_order_outcomes": {
    async up(db) {
      await db.schema
        .createTable("order_outcomes")
        .addColumn("order_id", "uuid", (c) => c.primaryKey())
        .addColumn("confirmed_at", "timestamptz")
        .addColumn("reversed_at", "timestamptz")
        .execute();
      // Orders recorded before this migration were counted when placed, and insights never heard
      // how they ended: they keep counting as confirmed (at their placing) until insights is
      // rebuilt from orders' history. Their later OrderCancelled or OrderRejected still takes
      // them out.
      await sql`INSERT INTO order_outcomes (order_id, confirmed_at)
        SELECT order_id, min(occurred_at) FROM sales_facts GROUP BY order_id`.execute(db);
    },
    async down(db) {
      await db.schema.dropTable("order_outcomes").execute();
    },
  },
};
