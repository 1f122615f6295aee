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
  "0005_rollups": {
    async up(db) {
      // A product sold twice at two prices in one order is one merged line; its amount keeps the
      // exact revenue, which quantity * unit_price cannot.
      for (const table of ["order_line_facts", "refund_line_facts"]) {
        await db.schema.alterTable(table).addColumn("amount", "bigint").execute();
        await sql`UPDATE ${sql.table(table)} SET amount = quantity::bigint * unit_price`.execute(db);
        await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN amount SET NOT NULL,
          ADD CONSTRAINT ${sql.id(`${table}_amount_check`)} CHECK (amount >= 0)`.execute(db);
      }
      // Every order event locks and reads the order's outcome row, so every placed order gets one;
      // `counted` says whether the roll-ups (filled below from sale_orders) hold its sale.
      await sql`ALTER TABLE order_outcomes ADD COLUMN placed boolean NOT NULL DEFAULT false,
        ADD COLUMN counted boolean NOT NULL DEFAULT false`.execute(db);
      await sql`INSERT INTO order_outcomes (order_id) SELECT order_id FROM order_facts ON CONFLICT DO NOTHING`.execute(
        db,
      );
      await sql`UPDATE order_outcomes o SET placed = true FROM order_facts f WHERE f.order_id = o.order_id`.execute(
        db,
      );
      await sql`UPDATE order_outcomes SET counted = true
        WHERE placed AND confirmed_at IS NOT NULL AND reversed_at IS NULL`.execute(db);
      // A product's place in a category, for categoryPerformance and productPerformance(categoryId).
      await db.schema
        .createIndex("order_line_facts_category")
        .on("order_line_facts")
        .columns(["category_id", "product_id"])
        .where(sql.ref("category_id"), "is not", null)
        .execute();
      await db.schema.createIndex("refund_facts_order").on("refund_facts").column("order_id").execute();

      // Keys lead with the currency and the day: every read is one currency over a range of days.
      await db.schema
        .createTable("daily_sales")
        .addColumn("currency_code", "text", (c) => c.notNull())
        .addColumn("day", "date", (c) => c.notNull())
        .addColumn("revenue", "bigint", (c) => c.notNull())
        .addColumn("orders", "integer", (c) => c.notNull())
        .addColumn("units", "bigint", (c) => c.notNull())
        .addColumn("refunds", "integer", (c) => c.notNull())
        .addColumn("refunded_amount", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("daily_sales_pkey", ["currency_code", "day"])
        .execute();
      for (const [table, key] of [
        ["daily_product_sales", "product_id"],
        ["daily_category_sales", "category_id"],
      ] as const) {
        await db.schema
          .createTable(table)
          .addColumn("currency_code", "text", (c) => c.notNull())
          .addColumn("day", "date", (c) => c.notNull())
          .addColumn(key, "text", (c) => c.notNull())
          .addColumn("revenue", "bigint", (c) => c.notNull())
          .addColumn("units", "bigint", (c) => c.notNull())
          .addColumn("orders", "integer", (c) => c.notNull())
          .addColumn("returned_units", "bigint", (c) => c.notNull())
          .addColumn("refunded_amount", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pkey`, ["currency_code", "day", key])
          .execute();
      }
      await db.schema
        .createTable("customer_sales")
        .addColumn("customer_id", "uuid", (c) => c.notNull())
        .addColumn("currency_code", "text", (c) => c.notNull())
        .addColumn("orders", "integer", (c) => c.notNull())
        .addColumn("revenue", "bigint", (c) => c.notNull())
        .addColumn("units", "bigint", (c) => c.notNull())
        .addColumn("first_order_at", "timestamptz")
        .addColumn("last_order_at", "timestamptz")
        .addColumn("refunds", "integer", (c) => c.notNull())
        .addColumn("refunded_amount", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("customer_sales_pkey", ["customer_id", "currency_code"])
        .execute();

      // Filled from the facts already recorded. This is the same computation as the repository's
      // rebuildRollups at the time of writing; a migration keeps its own copy so it never changes.
      const day = (column: string) => sql`(${sql.ref(column)} AT TIME ZONE 'UTC')::date`;
      await sql`INSERT INTO daily_sales
        SELECT currency_code, day, sum(revenue), sum(orders), sum(units), sum(refunds), sum(refunded_amount)
        FROM (
          SELECT currency_code, ${day("placed_at")} AS day, total_amount AS revenue, 1 AS orders, units::bigint AS units,
            0 AS refunds, 0::bigint AS refunded_amount
          FROM sale_orders
          UNION ALL
          SELECT currency_code, ${day("refunded_at")}, 0, 0, 0, 1, amount FROM refund_facts
        ) t GROUP BY currency_code, day`.execute(db);
      await sql`INSERT INTO daily_product_sales
        SELECT currency_code, day, product_id, sum(revenue), sum(units), sum(orders), sum(returned_units), sum(refunded_amount)
        FROM (
          SELECT s.currency_code, ${day("s.placed_at")} AS day, l.product_id, l.amount AS revenue,
            l.quantity::bigint AS units, 1 AS orders, 0::bigint AS returned_units, 0::bigint AS refunded_amount
          FROM sale_orders s JOIN order_line_facts l ON l.order_id = s.order_id
          UNION ALL
          SELECT r.currency_code, ${day("r.refunded_at")}, rl.product_id, 0, 0, 0, rl.quantity, rl.amount
          FROM refund_facts r JOIN refund_line_facts rl ON rl.refund_id = r.refund_id
        ) t GROUP BY currency_code, day, product_id`.execute(db);
      await sql`INSERT INTO daily_category_sales
        SELECT currency_code, day, category_id, sum(revenue), sum(units), sum(orders), sum(returned_units), sum(refunded_amount)
        FROM (
          SELECT s.currency_code, ${day("s.placed_at")} AS day, l.category_id, sum(l.amount) AS revenue,
            sum(l.quantity)::bigint AS units, 1 AS orders, 0::bigint AS returned_units, 0::bigint AS refunded_amount
          FROM sale_orders s JOIN order_line_facts l ON l.order_id = s.order_id
          WHERE l.category_id IS NOT NULL
          GROUP BY s.order_id, s.currency_code, s.placed_at, l.category_id
          UNION ALL
          SELECT r.currency_code, ${day("r.refunded_at")}, l.category_id, 0, 0, 0, rl.quantity, rl.amount
          FROM refund_facts r
          JOIN refund_line_facts rl ON rl.refund_id = r.refund_id
          JOIN order_line_facts l ON l.order_id = r.order_id AND l.product_id = rl.product_id
          WHERE l.category_id IS NOT NULL
        ) t GROUP BY currency_code, day, category_id`.execute(db);
      await sql`INSERT INTO customer_sales
        SELECT customer_id, currency_code, sum(orders), sum(revenue), sum(units), min(placed_at), max(placed_at),
          sum(refunds), sum(refunded_amount)
        FROM (
          SELECT customer_id, currency_code, 1 AS orders, total_amount AS revenue, units::bigint AS units,
            placed_at, 0 AS refunds, 0::bigint AS refunded_amount
          FROM sale_orders WHERE customer_id IS NOT NULL
          UNION ALL
          SELECT customer_id, currency_code, 0, 0, 0, NULL, 1, amount FROM refund_facts WHERE customer_id IS NOT NULL
        ) t GROUP BY customer_id, currency_code`.execute(db);
    },
    async down(db) {
      for (const table of ["customer_sales", "daily_category_sales", "daily_product_sales", "daily_sales"]) {
        await db.schema.dropTable(table).execute();
      }
      await db.schema.dropIndex("refund_facts_order").execute();
      await sql`ALTER TABLE order_outcomes DROP COLUMN placed, DROP COLUMN counted`.execute(db);
      await db.schema.dropIndex("order_line_facts_category").execute();
      for (const table of ["order_line_facts", "refund_line_facts"]) {
        await db.schema.alterTable(table).dropColumn("amount").execute();
      }
    },
  },
  "0006_churn": {
    async up(db) {
      await db.schema
        .createTable("churn_models")
        .addColumn("version", "serial", (c) => c.primaryKey())
        .addColumn("trained_at", "timestamptz", (c) => c.notNull())
        .addColumn("as_of", "timestamptz", (c) => c.notNull())
        .addColumn("horizon_days", "integer", (c) => c.notNull())
        .addColumn("training_size", "integer", (c) => c.notNull())
        .addColumn("holdout_size", "integer", (c) => c.notNull())
        .addColumn("positives", "integer", (c) => c.notNull())
        .addColumn("holdout_positives", "integer", (c) => c.notNull())
        .addColumn("auc", "double precision", (c) => c.notNull())
        .addColumn("recency_auc", "double precision", (c) => c.notNull())
        .addColumn("brier", "double precision", (c) => c.notNull())
        .addColumn("calibration", "jsonb", (c) => c.notNull())
        .addColumn("coefficients", "jsonb", (c) => c.notNull())
        .addColumn("feature_means", "jsonb", (c) => c.notNull())
        .addColumn("feature_stds", "jsonb", (c) => c.notNull())
        .addColumn("library", "text", (c) => c.notNull())
        .addColumn("training_ms", "integer", (c) => c.notNull())
        .addColumn("scored_customers", "integer", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("customer_scores")
        .addColumn("model_version", "integer", (c) =>
          c.notNull().references("churn_models.version").onDelete("cascade"),
        )
        .addColumn("customer_id", "uuid", (c) => c.notNull())
        .addColumn("probability", "double precision", (c) =>
          c.notNull().check(sql`probability >= 0 AND probability <= 1`),
        )
        .addColumn("band", "text", (c) => c.notNull().check(sql`band IN ('LOW', 'MEDIUM', 'HIGH')`))
        .addColumn("drivers", "jsonb", (c) => c.notNull())
        .addColumn("recency_days", "integer", (c) => c.notNull())
        .addColumn("frequency", "integer", (c) => c.notNull())
        .addColumn("monetary", "bigint", (c) => c.notNull())
        .addColumn("currency_code", "text", (c) => c.notNull())
        .addColumn("recency_score", "smallint", (c) => c.notNull())
        .addColumn("frequency_score", "smallint", (c) => c.notNull())
        .addColumn("monetary_score", "smallint", (c) => c.notNull())
        .addColumn("segment", "text", (c) => c.notNull())
        .addColumn("value_at_risk", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("customer_scores_pkey", ["model_version", "customer_id"])
        .execute();
      // The two orderings of customerInsights, each a keyset walk within one model.
      await db.schema
        .createIndex("customer_scores_value_at_risk")
        .on("customer_scores")
        .columns(["model_version", "value_at_risk desc", "customer_id"])
        .execute();
      await db.schema
        .createIndex("customer_scores_probability")
        .on("customer_scores")
        .columns(["model_version", "probability desc", "customer_id"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("customer_scores").execute();
      await db.schema.dropTable("churn_models").execute();
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
    },
    async down(db) {
      await db.schema.dropTable("product_popularity").execute();
      await db.schema.dropTable("product_neighbours").execute();
    },
  },
};
