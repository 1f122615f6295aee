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

export async function hasOrderReservation(db: Kysely<Database>, orderId: string): Promise<boolean> {
  const row = await db
    .selectFrom("order_reservations")
    .select("order_id")
    .where("order_id", "=", orderId)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Records that an order holds stock until `ttlSeconds` from now (database time, so replicas with
 * skewed clocks agree). False when the order already has a reservation: a concurrent duplicate
 * committed first, and this one must write nothing.
 */
export async function insertOrderReservation(
  trx: Kysely<Database>,
  orderId: string,
  lines: readonly StockLine[],
  ttlSeconds: number,
): Promise<boolean> {
  const inserted = await trx
    .insertInto("order_reservations")
    .values({
      order_id: orderId,
      status: "RESERVED",
      expires_at: sql<Date>`now() + ${ttlSeconds} * interval '1 second'`,
    })
    .onConflict((oc) => oc.column("order_id").doNothing())
    .returning("order_id")
    .executeTakeFirst();
  if (!inserted) return false;
  await trx
    .insertInto("reservations")
    .values(lines.map((line) => ({ order_id: orderId, product_id: line.productId, quantity: line.quantity })))
    .execute();
  return true;
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
