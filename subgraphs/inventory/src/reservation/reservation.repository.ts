import { type Kysely, type Selectable, sql } from "kysely";
import type { Database, OrderReservationsTable, ReservationStatus } from "../db/database.ts";
import type { StockLine } from "../stock/stock.repository.ts";

export type OrderReservationRow = Selectable<OrderReservationsTable>;

/** A reserved order line: `quantity` is what it still holds, the units not shipped yet. */
export interface ReservationLineRow {
  order_id: string;
  product_id: string;
  quantity: number;
}

/** Locks an order's reservation, the point every transition of that order serializes on. */
export async function lockOrderReservation(
  trx: Kysely<Database>,
  orderId: string,
): Promise<OrderReservationRow | undefined> {
  return trx
    .selectFrom("order_reservations")
    .selectAll()
    .where("order_id", "=", orderId)
    .forUpdate()
    .executeTakeFirst();
}

/**
 * RESERVED -> CONFIRMED for the order and its lines in one statement, the usual OrderConfirmed;
 * false (and nothing changed) when the order's reservation is in any other state. The UPDATE
 * takes the row's lock, so a sweeper expiring it at the same moment goes first or not at all.
 */
export async function confirmReservedOrder(trx: Kysely<Database>, orderId: string): Promise<boolean> {
  const { rows } = await sql<{ confirmed: number }>`
    WITH confirmed AS (
      UPDATE order_reservations SET status = 'CONFIRMED', expires_at = NULL, updated_at = now()
      WHERE order_id = ${orderId} AND status = 'RESERVED'
      RETURNING order_id
    ),
    confirmed_lines AS (
      UPDATE reservations SET status = 'CONFIRMED' WHERE order_id IN (SELECT order_id FROM confirmed)
    )
    SELECT count(*)::int AS confirmed FROM confirmed`.execute(trx);
  return (rows[0]?.confirmed ?? 0) > 0;
}

/**
 * Locks up to `limit` unconfirmed reservations past their expiry, oldest first. SKIP LOCKED:
 * sweepers in several replicas take different orders, and an order a consumer is confirming or
 * releasing right now is left to that consumer (the next sweep sees what it decided).
 */
export async function lockExpiredReservations(trx: Kysely<Database>, limit: number): Promise<string[]> {
  const rows = await trx
    .selectFrom("order_reservations")
    .select("order_id")
    .where("status", "=", "RESERVED")
    .where("expires_at", "<=", sql<Date>`now()`)
    .orderBy("expires_at")
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  return rows.map((row) => row.order_id);
}

export async function findReservationLines(
  db: Kysely<Database>,
  orderIds: readonly string[],
): Promise<ReservationLineRow[]> {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom("reservations")
    .select(["order_id", "product_id", sql<number>`quantity - shipped`.as("quantity")])
    .where("order_id", "in", orderIds)
    .where(sql<boolean>`quantity > shipped`)
    .orderBy("order_id")
    .orderBy("product_id")
    .execute();
}

/** Moves orders and their lines to `status`; only RESERVED keeps an expiry. */
export async function updateReservationStatus(
  trx: Kysely<Database>,
  orderIds: readonly string[],
  status: Exclude<ReservationStatus, "RESERVED">,
): Promise<void> {
  if (orderIds.length === 0) return;
  await trx
    .updateTable("order_reservations")
    .set({ status, expires_at: null, updated_at: new Date() })
    .where("order_id", "in", orderIds)
    .execute();
  await trx.updateTable("reservations").set({ status }).where("order_id", "in", orderIds).execute();
}

/** Counts `lines` of one order as shipped (the CHECK refuses more than was reserved). */
export async function addShipped(
  trx: Kysely<Database>,
  orderId: string,
  lines: readonly StockLine[],
): Promise<void> {
  if (lines.length === 0) return;
  await sql`UPDATE reservations AS r SET shipped = r.shipped + v.quantity
    FROM unnest(${lines.map((l) => l.productId)}::text[], ${lines.map((l) => l.quantity)}::int[])
      AS v(product_id, quantity)
    WHERE r.order_id = ${orderId} AND r.product_id = v.product_id`.execute(trx);
}

/** A product's availability after a reservation took `quantity` of it, read under its row lock. */
export interface TakenStock {
  productId: string;
  quantity: number;
  availableAfter: number;
  lowStockThreshold: number | null;
  lowStockAlerted: boolean;
}

/** What one reservation attempt found and did; `taken` is empty unless it reserved. */
export interface TakeStockResult {
  /** The order already had a reservation (a repeated OrderPlaced): nothing was written. */
  alreadyReserved: boolean;
  /** Each line's stock row as it was before, read under the lock (absent: no stock row). */
  locked: { product_id: string; on_hand: number; reserved: number }[];
  taken: TakenStock[];
}

/**
 * Reserves every line of an order or none, in one statement: it locks the lines' stock rows in
 * product_id order (FOR NO KEY UPDATE, so ledger and reservation inserts elsewhere, which only
 * key-share the row, do not wait), and only when the order has no reservation yet and every
 * line is available does it insert the order's reservation and lines, add the units to
 * `reserved`, write one RESERVATION ledger movement per line and announce the products on
 * STOCK_CHANGED_CHANNEL. One round trip instead of one per step keeps the time a hot product's
 * row stays locked short; the row lock and the stock_levels CHECK still forbid an oversell.
 */
export async function takeStockForOrder(
  trx: Kysely<Database>,
  orderId: string,
  lines: readonly StockLine[],
  ttlSeconds: number,
  /** Where to announce the products, or null when the caller announces them itself. */
  channel: string | null,
): Promise<TakeStockResult> {
  const { rows } = await sql<{
    already: boolean;
    locked: TakeStockResult["locked"];
    taken: TakenStock[];
  }>`
    WITH wanted AS (
      SELECT * FROM unnest(${lines.map((l) => l.productId)}::text[], ${lines.map((l) => l.quantity)}::int[])
        AS w(product_id, quantity)
    ),
    existing AS (SELECT EXISTS (SELECT 1 FROM order_reservations WHERE order_id = ${orderId}) AS found),
    locked AS MATERIALIZED (
      SELECT product_id, on_hand, reserved FROM stock_levels
      WHERE product_id IN (SELECT product_id FROM wanted)
      ORDER BY product_id FOR NO KEY UPDATE
    ),
    decision AS (
      SELECT NOT (SELECT found FROM existing)
        AND (SELECT count(*) FROM wanted w JOIN locked l USING (product_id)
             WHERE l.on_hand - l.reserved >= w.quantity)
          = (SELECT count(*) FROM wanted) AS take
    ),
    held AS (
      INSERT INTO order_reservations (order_id, status, expires_at)
      SELECT ${orderId}, 'RESERVED', now() + ${ttlSeconds} * interval '1 second' FROM decision WHERE take
      ON CONFLICT (order_id) DO NOTHING
      RETURNING order_id
    ),
    taken AS (
      UPDATE stock_levels AS s SET reserved = s.reserved + w.quantity, updated_at = now()
      FROM wanted w
      WHERE s.product_id = w.product_id AND EXISTS (SELECT 1 FROM held)
      RETURNING s.product_id, w.quantity, s.on_hand - s.reserved AS available_after,
        s.low_stock_threshold, s.low_stock_alerted
    ),
    reserved_lines AS (
      INSERT INTO reservations (order_id, product_id, quantity)
      SELECT ${orderId}, product_id, quantity FROM taken
    ),
    ledger AS (
      INSERT INTO stock_movements (product_id, on_hand_delta, reserved_delta, reason, order_id)
      SELECT product_id, 0, quantity, 'RESERVATION', ${orderId} FROM taken
    ),
    notice AS (
      SELECT pg_notify(${channel}, string_agg(product_id, ',' ORDER BY product_id)) FROM taken
      HAVING count(*) > 0 AND ${channel}::text IS NOT NULL
    )
    SELECT
      (SELECT found FROM existing) OR ((SELECT take FROM decision) AND NOT EXISTS (SELECT 1 FROM held))
        AS already,
      coalesce((SELECT json_agg(json_build_object('product_id', product_id, 'on_hand', on_hand,
          'reserved', reserved)) FROM locked), '[]') AS locked,
      coalesce((SELECT json_agg(json_build_object('productId', product_id, 'quantity', quantity,
          'availableAfter', available_after, 'lowStockThreshold', low_stock_threshold,
          'lowStockAlerted', low_stock_alerted) ORDER BY product_id)
        FROM taken), '[]') AS taken,
      (SELECT count(*) FROM notice) AS noticed`.execute(trx);
  const row = rows[0];
  if (!row) throw new Error(`reserving stock for order ${orderId} returned no row`);
  return { alreadyReserved: row.already, locked: row.locked, taken: row.taken };
}
