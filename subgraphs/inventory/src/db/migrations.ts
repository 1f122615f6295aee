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
  "0004_reservation_lifecycle": {
    async up(db) {
      await sql`ALTER TABLE stock_levels
        ADD COLUMN low_stock_threshold integer CHECK (low_stock_threshold >= 0)`.execute(db);

      // The order is the unit a reservation lives and dies by: one row to lock, expire and confirm.
      await db.schema
        .createTable("order_reservations")
        .addColumn("order_id", "uuid", (c) => c.primaryKey())
        .addColumn("status", "text", (c) =>
          c.notNull().check(sql`status IN ('RESERVED', 'CONFIRMED', 'RELEASED', 'EXPIRED', 'COMMITTED')`),
        )
        .addColumn("expires_at", "timestamptz")
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .addCheckConstraint(
          "order_reservations_expiry_while_reserved",
          sql`(status = 'RESERVED') = (expires_at IS NOT NULL)`,
        )
        .execute();
      await sql`CREATE INDEX order_reservations_expiring ON order_reservations (expires_at)
        WHERE status = 'RESERVED'`.execute(db);
      // Reservations made before expiry existed get the default time to live from now.
      await sql`INSERT INTO order_reservations (order_id, status, expires_at, created_at)
        SELECT order_id, min(status),
               CASE WHEN min(status) = 'RESERVED' THEN now() + interval '15 minutes' END,
               min(created_at)
        FROM reservations GROUP BY order_id`.execute(db);

      await sql`ALTER TABLE reservations DROP CONSTRAINT reservations_status_check`.execute(db);
      await sql`ALTER TABLE reservations
        ADD CONSTRAINT reservations_status_check
          CHECK (status IN ('RESERVED', 'CONFIRMED', 'RELEASED', 'EXPIRED', 'COMMITTED')),
        ADD CONSTRAINT reservations_order_fkey
          FOREIGN KEY (order_id) REFERENCES order_reservations (order_id)`.execute(db);

      // The ledger records on hand and reserved separately, so both levels can be rebuilt from it.
      await sql`ALTER TABLE stock_movements
        ADD COLUMN on_hand_delta integer NOT NULL DEFAULT 0,
        ADD COLUMN reserved_delta integer NOT NULL DEFAULT 0,
        ADD COLUMN note text,
        ADD COLUMN actor_id text`.execute(db);
      await sql`UPDATE stock_movements SET
        on_hand_delta = CASE WHEN reason = 'SEED' THEN delta ELSE 0 END,
        reserved_delta = CASE WHEN reason = 'RESERVATION' THEN -delta ELSE 0 END`.execute(db);
      await sql`ALTER TABLE stock_movements
        DROP COLUMN delta,
        DROP CONSTRAINT stock_movements_reason_check,
        ADD CONSTRAINT stock_movements_reason_check CHECK (reason IN
          ('SEED', 'SET', 'ADJUSTMENT', 'RESERVATION', 'RELEASE', 'EXPIRY', 'SHIPMENT')),
        ADD CONSTRAINT stock_movements_changes_something
          CHECK (on_hand_delta <> 0 OR reserved_delta <> 0)`.execute(db);
      await db.schema
        .createIndex("stock_movements_order_id")
        .on("stock_movements")
        .column("order_id")
        .where(sql.ref("order_id"), "is not", null)
        .execute();
    },
  },
  // Rows start unalerted: a product already low when this ships gets one StockLow at its next change.
  "0005_low_stock_alerted": {
    async up(db) {
      await sql`ALTER TABLE stock_levels
        ADD COLUMN low_stock_alerted boolean NOT NULL DEFAULT false`.execute(db);
    },
  },
  // Returned units a refund restocks come back on hand under their own reason; an order shipped
  // in several parcels commits its reservation a shipment at a time.
  "0006_returns_and_split_shipments": {
    async up(db) {
      await sql`ALTER TABLE reservations
        ADD COLUMN shipped integer NOT NULL DEFAULT 0,
        ADD CONSTRAINT reservations_shipped_within_quantity CHECK (shipped >= 0 AND shipped <= quantity)`.execute(
        db,
      );
      await sql`ALTER TABLE stock_movements
        DROP CONSTRAINT stock_movements_reason_check,
        ADD CONSTRAINT stock_movements_reason_check CHECK (reason IN
          ('SEED', 'SET', 'ADJUSTMENT', 'RESERVATION', 'RELEASE', 'EXPIRY', 'SHIPMENT', 'RETURN'))`.execute(
        db,
      );
    },
  },
};
