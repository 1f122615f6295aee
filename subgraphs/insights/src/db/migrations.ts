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
  "0004_order_facts": {
    async up(db) {
      await db.schema
        .createTable("order_facts")
        .addColumn("order_id", "uuid", (c) => c.primaryKey())
        .addColumn("customer_id", "uuid")
        .addColumn("currency_code", "text", (c) => c.notNull())
        .addColumn("placed_at", "timestamptz", (c) => c.notNull())
        .addColumn("country_code", "text")
        .addColumn("total_amount", "bigint", (c) => c.notNull().check(sql`total_amount >= 0`))
        .addColumn("units", "integer", (c) => c.notNull().check(sql`units >= 0`))
        .addColumn("historical", "boolean", (c) => c.notNull().defaultTo(false))
        .execute();
      await db.schema.createIndex("order_facts_placed_at").on("order_facts").column("placed_at").execute();
      await db.schema
        .createIndex("order_facts_customer")
        .on("order_facts")
        .columns(["customer_id", "placed_at"])
        .execute();
      await db.schema
        .createTable("order_line_facts")
        .addColumn("order_id", "uuid", (c) =>
          c.notNull().references("order_facts.order_id").onDelete("cascade"),
        )
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("category_id", "text")
        .addColumn("product_name", "text")
        .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
        .addColumn("unit_price", "integer", (c) => c.notNull().check(sql`unit_price >= 0`))
        .addPrimaryKeyConstraint("order_line_facts_pkey", ["order_id", "product_id"])
        .execute();
      await db.schema
        .createIndex("order_line_facts_product")
        .on("order_line_facts")
        .column("product_id")
        .execute();
      // Facts recorded per event and product move into the per-order tables. Their customer and
      // country were never recorded, so those stay unknown.
      await sql`INSERT INTO order_facts (order_id, customer_id, currency_code, placed_at, total_amount, units)
        SELECT order_id, NULL, min(currency_code), min(occurred_at), sum(quantity::bigint * unit_price), sum(quantity)
        FROM sales_facts GROUP BY order_id`.execute(db);
      await sql`INSERT INTO order_line_facts (order_id, product_id, quantity, unit_price)
        SELECT order_id, product_id, sum(quantity), min(unit_price) FROM sales_facts GROUP BY order_id, product_id`.execute(
        db,
      );
      await db.schema.dropTable("sales_facts").execute();

      await db.schema
        .alterTable("order_outcomes")
        .addColumn("reversal_kind", "text", (c) => c.check(sql`reversal_kind IN ('CANCELLED', 'REJECTED')`))
        .execute();
      await db.schema.alterTable("order_outcomes").addColumn("reversal_reason", "text").execute();
      await db.schema.alterTable("order_outcomes").addColumn("shipped_at", "timestamptz").execute();
      await db.schema.alterTable("order_outcomes").addColumn("delivered_at", "timestamptz").execute();

      await db.schema
        .createTable("refund_facts")
        .addColumn("refund_id", "uuid", (c) => c.primaryKey())
        .addColumn("order_id", "uuid")
        .addColumn("customer_id", "uuid")
        .addColumn("currency_code", "text", (c) => c.notNull())
        .addColumn("amount", "bigint", (c) => c.notNull().check(sql`amount >= 0`))
        .addColumn("refunded_at", "timestamptz", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("historical", "boolean", (c) => c.notNull().defaultTo(false))
        .execute();
      await db.schema
        .createIndex("refund_facts_refunded_at")
        .on("refund_facts")
        .column("refunded_at")
        .execute();
      await db.schema
        .createIndex("refund_facts_customer")
        .on("refund_facts")
        .columns(["customer_id", "refunded_at"])
        .execute();
      await db.schema
        .createTable("refund_line_facts")
        .addColumn("refund_id", "uuid", (c) =>
          c.notNull().references("refund_facts.refund_id").onDelete("cascade"),
        )
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
        .addColumn("unit_price", "integer", (c) => c.notNull().check(sql`unit_price >= 0`))
        .addPrimaryKeyConstraint("refund_line_facts_pkey", ["refund_id", "product_id"])
        .execute();

      await db.schema
        .createTable("cart_facts")
        .addColumn("customer_id", "uuid", (c) => c.primaryKey())
        .addColumn("currency_code", "text")
        .addColumn("line_count", "integer", (c) => c.notNull())
        .addColumn("units", "integer", (c) => c.notNull())
        .addColumn("value_amount", "bigint", (c) => c.notNull())
        .addColumn("lines", "jsonb", (c) => c.notNull())
        .addColumn("updated_at", "timestamptz", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("cart_facts_updated_at").on("cart_facts").column("updated_at").execute();

      await sql`CREATE VIEW sale_orders AS
        SELECT f.*, o.confirmed_at, o.delivered_at
        FROM order_facts f JOIN order_outcomes o ON o.order_id = f.order_id
        WHERE o.confirmed_at IS NOT NULL AND o.reversed_at IS NULL`.execute(db);
    },
    async down(db) {
      await sql`DROP VIEW sale_orders`.execute(db);
      for (const table of [
        "cart_facts",
        "refund_line_facts",
        "refund_facts",
        "order_line_facts",
        "order_facts",
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  },
  "0007_models": {
    async up(db) {
      await db.schema
        .createTable("product_neighbours")
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("neighbour_id", "text", (c) => c.notNull())
        .addColumn("co_orders", "integer", (c) => c.notNull())
        .addColumn("score", "double precision", (c) => c.notNull())
        .addPrimaryKeyConstraint("product_neighbours_pkey", ["product_id", "neighbour_id"])
        .execute();
      await db.schema
        .createTable("product_popularity")
        .addColumn("product_id", "text", (c) => c.primaryKey())
        .addColumn("orders", "integer", (c) => c.notNull())
        .addColumn("units", "integer", (c) => c.notNull())
        .addColumn("order_count", "integer", (c) => c.notNull())
        .addColumn("share", "double precision", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("product_popularity_units")
        .on("product_popularity")
        .columns(["units desc", "product_id"])
        .execute();
      // Refunds are read by product and time by the demand forecast.
      await db.schema
        .createIndex("refund_line_facts_product")
        .on("refund_line_facts")
        .column("product_id")
        .execute();
    },
    async down(db) {
      await db.schema.dropIndex("refund_line_facts_product").execute();
      await db.schema.dropTable("product_popularity").execute();
      await db.schema.dropTable("product_neighbours").execute();
    },
  },
};
