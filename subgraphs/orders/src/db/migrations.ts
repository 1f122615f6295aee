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
  "0004_checkout": {
    async up(db) {
      await sql`ALTER TABLE orders DROP CONSTRAINT orders_status_check`.execute(db);
      await sql`ALTER TABLE orders ADD CONSTRAINT orders_status_check
        CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'SHIPPED', 'DELIVERED'))`.execute(
        db,
      );
      await db.schema
        .alterTable("orders")
        .addColumn("shipping_address", "jsonb")
        .addColumn("payment_token", "text")
        .addColumn("tracking_number", "text")
        .execute();

      await db.schema
        .createTable("order_status_changes")
        .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn("order_id", "uuid", (c) => c.notNull().references("orders.id").onDelete("cascade"))
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("reason", "text")
        .addColumn("at", "timestamptz(3)", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await sql`CREATE INDEX order_status_changes_order ON order_status_changes (order_id, id)`.execute(db);
      // Orders placed before the history existed get the steps that can be told from their row.
      await sql`INSERT INTO order_status_changes (order_id, status, at)
        SELECT id, 'PENDING', placed_at FROM orders`.execute(db);
      await sql`INSERT INTO order_status_changes (order_id, status, at)
        SELECT id, status, updated_at FROM orders WHERE status <> 'PENDING'`.execute(db);

      // The order is inserted after its key in the same transaction, so the reference is
      // checked at commit; a checkout that loses the race on the key never writes its order.
      await db.schema
        .createTable("idempotency_keys")
        .addColumn("customer_id", "uuid", (c) => c.notNull())
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("input_fingerprint", "text", (c) => c.notNull())
        .addColumn("cart_fingerprint", "text", (c) => c.notNull())
        .addColumn("order_id", "uuid", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint("idempotency_keys_pkey", ["customer_id", "key"])
        .execute();
      await sql`ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_order_fkey
        FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED`.execute(
        db,
      );
      await db.schema
        .createIndex("idempotency_keys_created")
        .on("idempotency_keys")
        .column("created_at")
        .execute();

      await db.schema
        .createTable("payments")
        .addColumn("order_id", "uuid", (c) => c.primaryKey().references("orders.id").onDelete("cascade"))
        .addColumn("provider", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) =>
          c.notNull().check(sql`status IN ('CAPTURED', 'DECLINED', 'REFUNDED')`),
        )
        .addColumn("amount", "integer", (c) => c.notNull().check(sql`amount >= 0`))
        .addColumn("currency_code", "text", (c) => c.notNull())
        .addColumn("reference", "text")
        .addColumn("decline_reason", "text")
        .addColumn("created_at", "timestamptz(3)", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("updated_at", "timestamptz(3)", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("payments").execute();
      await db.schema.dropTable("idempotency_keys").execute();
      await db.schema.dropTable("order_status_changes").execute();
      await db.schema
        .alterTable("orders")
        .dropColumn("shipping_address")
        .dropColumn("payment_token")
        .dropColumn("tracking_number")
        .execute();
    },
  },
  "0005_import": {
    async up(db) {
      // Imported invoices without a customer are guest sales.
      await sql`ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL`.execute(db);
      // The invoice number of an imported order: a second run of the same file creates nothing.
      await db.schema
        .alterTable("orders")
        .addColumn("external_ref", "text", (c) => c.unique())
        .execute();

      await db.schema
        .createTable("refunds")
        .addColumn("id", "uuid", (c) => c.primaryKey())
        .addColumn("order_id", "uuid", (c) => c.references("orders.id").onDelete("set null"))
        .addColumn("customer_id", "uuid")
        .addColumn("external_ref", "text", (c) => c.unique())
        .addColumn("currency_code", "text", (c) => c.notNull().check(sql`currency_code ~ '^[A-Z]{3}$'`))
        .addColumn("amount", "integer", (c) => c.notNull().check(sql`amount >= 0`))
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("refunded_at", "timestamptz(3)", (c) => c.notNull())
        .addColumn("historical", "boolean", (c) => c.notNull().defaultTo(false))
        .execute();
      await db.schema.createIndex("refunds_order").on("refunds").column("order_id").execute();
      await db.schema
        .createTable("refund_lines")
        .addColumn("refund_id", "uuid", (c) => c.notNull().references("refunds.id").onDelete("cascade"))
        .addColumn("position", "integer", (c) => c.notNull().check(sql`position >= 0`))
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
        .addColumn("unit_price", "integer", (c) => c.notNull().check(sql`unit_price >= 0`))
        .addPrimaryKeyConstraint("refund_lines_pkey", ["refund_id", "position"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("refund_lines").execute();
      await db.schema.dropTable("refunds").execute();
      await db.schema.alterTable("orders").dropColumn("external_ref").execute();
      await sql`ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL`.execute(db);
    },
  },
  "0006_guest_orders": {
    async up(db) {
      // A guest checkout's order has no customer; this is where its confirmation goes.
      await db.schema
        .alterTable("orders")
        .addColumn("guest_email", "text", (c) => c.check(sql`guest_email IS NULL OR customer_id IS NULL`))
        .execute();
    },
    async down(db) {
      await db.schema.alterTable("orders").dropColumn("guest_email").execute();
    },
  },
  "0007_wishlist": {
    async up(db) {
      await db.schema
        .createTable("wishlist_items")
        .addColumn("customer_id", "uuid", (c) => c.notNull())
        .addColumn("product_id", "text", (c) => c.notNull().check(sql`product_id ~ '^[0-9a-f]{24}$'`))
        // Milliseconds, so a page cursor's added_at round-trips exactly through a JS Date.
        .addColumn("added_at", "timestamptz(3)", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("last_notified_at", "timestamptz(3)")
        .addPrimaryKeyConstraint("wishlist_items_pkey", ["customer_id", "product_id"])
        .execute();
      // Pages, newest first; the primary key serves counts and single items.
      await sql`CREATE INDEX wishlist_items_customer_newest
        ON wishlist_items (customer_id, added_at DESC, product_id DESC)`.execute(db);
      // Back in stock: every customer whose wishlist holds one product.
      await db.schema
        .createIndex("wishlist_items_product")
        .on("wishlist_items")
        .column("product_id")
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("wishlist_items").execute();
    },
  },
  "0008_order_desk": {
    async up(db) {
      // Which client placed the order. A partner's client name lives in its own column, so no
      // partner name (any 3 to 64 letters, digits, dots, hyphens or underscores) can pose as
      // another channel.
      await sql`ALTER TABLE orders
        ADD COLUMN channel text NOT NULL DEFAULT 'storefront'
          CHECK (channel IN ('storefront', 'partner', 'import', 'staff')),
        ADD COLUMN partner_client text,
        ADD CONSTRAINT orders_partner_client_with_partner_channel
          CHECK ((channel = 'partner') = (partner_client IS NOT NULL))`.execute(db);
      await sql`UPDATE orders SET channel = 'import' WHERE external_ref IS NOT NULL`.execute(db);

      // The staff desk: one index per sort, so every page is a keyset scan that stops after
      // `first + 1` rows. The placed_at one also serves oldest first, scanned backwards.
      await sql`CREATE INDEX orders_placed ON orders (placed_at DESC, id DESC)`.execute(db);
      await sql`CREATE INDEX orders_status_placed ON orders (status, placed_at DESC, id DESC)`.execute(db);
      await sql`CREATE INDEX orders_updated ON orders (updated_at DESC, id DESC)`.execute(db);
      await sql`CREATE INDEX orders_total ON orders (total_amount DESC, id DESC)`.execute(db);
      await sql`CREATE INDEX orders_guest_email ON orders (guest_email, placed_at DESC, id DESC)
        WHERE guest_email IS NOT NULL`.execute(db);
      // Search by product name matches anywhere in the name, which only a trigram index answers
      // without reading every line.
      await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
      await sql`CREATE INDEX order_lines_product_name_trgm ON order_lines
        USING gin (product_name gin_trgm_ops)`.execute(db);
    },
    async down(db) {
      await sql`DROP INDEX order_lines_product_name_trgm`.execute(db);
      await sql`DROP INDEX orders_guest_email`.execute(db);
      await sql`DROP INDEX orders_total`.execute(db);
      await sql`DROP INDEX orders_updated`.execute(db);
      await sql`DROP INDEX orders_status_placed`.execute(db);
      await sql`DROP INDEX orders_placed`.execute(db);
      await sql`ALTER TABLE orders DROP COLUMN partner_client, DROP COLUMN channel`.execute(db);
    },
  },
  "0009_shipments_and_refunds": {
    async up(db) {
      // Refunds staff make, next to the imported ones: the key makes a retried request a no-op,
      // and the provider's reference is what the money can be traced by.
      await sql`ALTER TABLE refunds
        ADD COLUMN idempotency_key text,
        ADD COLUMN provider_reference text,
        ADD COLUMN restock boolean NOT NULL DEFAULT false,
        ADD CONSTRAINT refunds_order_idempotency_key UNIQUE (order_id, idempotency_key)`.execute(db);

      await sql`ALTER TABLE orders DROP CONSTRAINT orders_status_check`.execute(db);
      await sql`ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN
        ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED'))`.execute(
        db,
      );
      // Orders shipped before shipments were recorded have none: they shipped whole.
      await db.schema
        .createTable("shipments")
        .addColumn("id", "uuid", (c) => c.primaryKey())
        .addColumn("order_id", "uuid", (c) => c.notNull().references("orders.id").onDelete("cascade"))
        .addColumn("carrier", "text")
        .addColumn("tracking_number", "text")
        .addColumn("shipped_at", "timestamptz(3)", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createIndex("shipments_order")
        .on("shipments")
        .columns(["order_id", "shipped_at"])
        .execute();
      await db.schema
        .createTable("shipment_lines")
        .addColumn("shipment_id", "uuid", (c) => c.notNull().references("shipments.id").onDelete("cascade"))
        .addColumn("position", "integer", (c) => c.notNull().check(sql`position >= 0`))
        .addColumn("product_id", "text", (c) => c.notNull())
        .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
        .addPrimaryKeyConstraint("shipment_lines_pkey", ["shipment_id", "position"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("shipment_lines").execute();
      await db.schema.dropTable("shipments").execute();
      await sql`UPDATE orders SET status = 'CONFIRMED' WHERE status = 'PARTIALLY_SHIPPED'`.execute(db);
      await sql`ALTER TABLE orders DROP CONSTRAINT orders_status_check`.execute(db);
      await sql`ALTER TABLE orders ADD CONSTRAINT orders_status_check
        CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'SHIPPED', 'DELIVERED'))`.execute(
        db,
      );
      await sql`ALTER TABLE refunds
        DROP COLUMN idempotency_key,
        DROP COLUMN provider_reference,
        DROP COLUMN restock`.execute(db);
    },
  },
  "0010_checkout_economics": {
    async up(db) {
      // Discounts: a code customers type, or automatic (no code). Percentages are parts per
      // million (10% = 100000), amounts minor units of the store currency. `used_count` counts
      // the orders holding a use; checkout increments it with a conditional UPDATE, so the
      // row's lock serializes redemptions and a limit is never passed.
      await sql`CREATE TABLE discounts (
        id uuid PRIMARY KEY,
        code text UNIQUE CHECK (code ~ '^[A-Z0-9_-]{1,64}$'),
        title text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('PERCENTAGE', 'FIXED_AMOUNT', 'FREE_SHIPPING')),
        percent_ppm integer CHECK (percent_ppm > 0 AND percent_ppm <= 1000000),
        amount integer CHECK (amount > 0),
        minimum_subtotal integer CHECK (minimum_subtotal >= 0),
        starts_at timestamptz(3),
        ends_at timestamptz(3),
        usage_limit integer CHECK (usage_limit > 0),
        per_customer_limit integer CHECK (per_customer_limit > 0),
        used_count integer NOT NULL DEFAULT 0 CHECK (used_count >= 0),
        scope text NOT NULL DEFAULT 'ORDER' CHECK (scope IN ('ORDER', 'CATEGORIES', 'PRODUCTS')),
        category_ids text[] NOT NULL DEFAULT '{}',
        product_ids text[] NOT NULL DEFAULT '{}',
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CHECK ((kind = 'PERCENTAGE') = (percent_ppm IS NOT NULL)),
        CHECK ((kind = 'FIXED_AMOUNT') = (amount IS NOT NULL)),
        CHECK (usage_limit IS NULL OR used_count <= usage_limit),
        CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at)
      )`.execute(db);
      await sql`CREATE INDEX discounts_automatic ON discounts (created_at) WHERE code IS NULL AND active`.execute(
        db,
      );
      // One row per (order, discount) that used it; released when the order is rejected or
      // cancelled, which gives the use back.
      await sql`CREATE TABLE discount_redemptions (
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        discount_id uuid NOT NULL REFERENCES discounts (id),
        customer_id uuid,
        email text,
        redeemed_at timestamptz(3) NOT NULL DEFAULT now(),
        released_at timestamptz(3),
        PRIMARY KEY (order_id, discount_id)
      )`.execute(db);
      await sql`CREATE INDEX discount_redemptions_customer ON discount_redemptions (discount_id, customer_id)
        WHERE released_at IS NULL`.execute(db);
      await sql`CREATE INDEX discount_redemptions_email ON discount_redemptions (discount_id, email)
        WHERE released_at IS NULL`.execute(db);

      // Shipping: zones by country (a country is in one zone at most), methods per zone.
      await sql`CREATE TABLE shipping_zones (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`.execute(db);
      await sql`CREATE TABLE shipping_zone_countries (
        country_code text PRIMARY KEY CHECK (country_code ~ '^[A-Z]{2}$'),
        zone_id uuid NOT NULL REFERENCES shipping_zones (id) ON DELETE CASCADE
      )`.execute(db);
      await sql`CREATE INDEX shipping_zone_countries_zone ON shipping_zone_countries (zone_id)`.execute(db);
      await sql`CREATE TABLE shipping_methods (
        id uuid PRIMARY KEY,
        zone_id uuid NOT NULL REFERENCES shipping_zones (id) ON DELETE CASCADE,
        name text NOT NULL,
        rate_type text NOT NULL CHECK (rate_type IN ('FLAT', 'SUBTOTAL_BANDS')),
        amount integer CHECK (amount >= 0),
        bands jsonb NOT NULL DEFAULT '[]',
        free_above integer CHECK (free_above >= 0),
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CHECK ((rate_type = 'FLAT') = (amount IS NOT NULL))
      )`.execute(db);
      await sql`CREATE INDEX shipping_methods_zone ON shipping_methods (zone_id, created_at)`.execute(db);

      // Tax: a standard rate per country (category_id NULL) and optional rates per category.
      await sql`CREATE TABLE tax_rates (
        id uuid PRIMARY KEY,
        country_code text NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
        category_id text,
        name text NOT NULL,
        rate_ppm integer NOT NULL CHECK (rate_ppm >= 0 AND rate_ppm <= 1000000),
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`.execute(db);
      await sql`CREATE UNIQUE INDEX tax_rates_country_category
        ON tax_rates (country_code, coalesce(category_id, ''))`.execute(db);

      // The order's price breakdown. Orders without one (placed before it, and imported ones)
      // have a null subtotal, which reads as their total, and nothing else.
      await sql`ALTER TABLE orders
        ADD COLUMN subtotal_amount integer CHECK (subtotal_amount >= 0),
        ADD COLUMN discount_amount integer NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
        ADD COLUMN shipping_amount integer NOT NULL DEFAULT 0 CHECK (shipping_amount >= 0),
        ADD COLUMN shipping_discount_amount integer NOT NULL DEFAULT 0 CHECK (shipping_discount_amount >= 0),
        ADD COLUMN shipping_tax_amount integer NOT NULL DEFAULT 0 CHECK (shipping_tax_amount >= 0),
        ADD COLUMN tax_amount integer NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
        ADD COLUMN prices_include_tax boolean NOT NULL DEFAULT false,
        ADD COLUMN shipping_method jsonb`.execute(db);
      await sql`ALTER TABLE order_lines
        ADD COLUMN discount_amount integer NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
        ADD COLUMN tax_amount integer NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
        ADD COLUMN tax_rate_ppm integer NOT NULL DEFAULT 0 CHECK (tax_rate_ppm >= 0)`.execute(db);
      // What each discount took off the order, as it was when the order was placed.
      await sql`CREATE TABLE order_discounts (
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        position integer NOT NULL CHECK (position >= 0),
        discount_id uuid NOT NULL,
        code text,
        title text NOT NULL,
        kind text NOT NULL,
        amount integer NOT NULL CHECK (amount >= 0),
        shipping_amount integer NOT NULL DEFAULT 0 CHECK (shipping_amount >= 0),
        lines jsonb NOT NULL DEFAULT '[]',
        PRIMARY KEY (order_id, position)
      )`.execute(db);
    },
    async down(db) {
      await sql`DROP TABLE order_discounts`.execute(db);
      await sql`ALTER TABLE order_lines DROP COLUMN discount_amount, DROP COLUMN tax_amount,
        DROP COLUMN tax_rate_ppm`.execute(db);
      await sql`ALTER TABLE orders DROP COLUMN subtotal_amount, DROP COLUMN discount_amount,
        DROP COLUMN shipping_amount, DROP COLUMN shipping_discount_amount, DROP COLUMN shipping_tax_amount,
        DROP COLUMN tax_amount, DROP COLUMN prices_include_tax, DROP COLUMN shipping_method`.execute(db);
      await sql`DROP TABLE tax_rates`.execute(db);
      await sql`DROP TABLE shipping_methods`.execute(db);
      await sql`DROP TABLE shipping_zone_countries`.execute(db);
      await sql`DROP TABLE shipping_zones`.execute(db);
      await sql`DROP TABLE discount_redemptions`.execute(db);
      await sql`DROP TABLE discounts`.execute(db);
    },
  },
  // A payment orders has decided to capture and not recorded yet: the capture runs outside any
  // transaction, and a row left here (a crash between the call and its record) is captured again
  // with the same idempotency key, which the provider answers as it did the first time.
  "0011_payment_intents": {
    async up(db) {
      await sql`CREATE TABLE payment_intents (
        order_id uuid PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
        requested_at timestamptz NOT NULL DEFAULT now()
      )`.execute(db);
      await sql`CREATE INDEX payment_intents_requested_at ON payment_intents (requested_at)`.execute(db);
    },
    async down(db) {
      await sql`DROP TABLE payment_intents`.execute(db);
    },
  },
};
