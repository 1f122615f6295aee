import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type { Database, PaymentsTable } from "../db/database.ts";

export type PaymentRow = Selectable<PaymentsTable>;

export async function findPaymentsByOrderIds(
  db: Kysely<Database>,
  orderIds: readonly string[],
): Promise<PaymentRow[]> {
  if (orderIds.length === 0) return [];
  return db.selectFrom("payments").selectAll().where("order_id", "in", orderIds).execute();
}

export async function findPaymentForUpdate(
  trx: Transaction<Database>,
  orderId: string,
): Promise<PaymentRow | undefined> {
  return trx
    .selectFrom("payments")
    .selectAll()
    .where("order_id", "=", orderId)
    .forUpdate()
    .executeTakeFirst();
}

export async function insertPayment(
  trx: Transaction<Database>,
  payment: Omit<PaymentRow, "created_at" | "updated_at">,
): Promise<void> {
  await trx.insertInto("payments").values(payment).execute();
}

export async function markPaymentRefunded(trx: Transaction<Database>, orderId: string): Promise<void> {
  await trx
    .updateTable("payments")
    .set({ status: "REFUNDED", updated_at: sql<Date>`now()` })
    .where("order_id", "=", orderId)
    .execute();
}

/** Records that the order's payment is to be captured; a second call changes nothing. */
export async function insertPaymentIntent(trx: Transaction<Database>, orderId: string): Promise<void> {
  await trx
    .insertInto("payment_intents")
    .values({ order_id: orderId })
    .onConflict((oc) => oc.column("order_id").doNothing())
    .execute();
}

/** What a capture needs: the order's amount and token, while its payment is still to be captured. */
export interface PendingCapture {
  order_id: string;
  total_amount: number;
  currency_code: string;
  payment_token: string | null;
}

export async function findPendingCapture(
  db: Kysely<Database>,
  orderId: string,
): Promise<PendingCapture | undefined> {
  return db
    .selectFrom("payment_intents")
    .innerJoin("orders", "orders.id", "payment_intents.order_id")
    .select([
      "payment_intents.order_id",
      "orders.total_amount",
      "orders.currency_code",
      "orders.payment_token",
    ])
    .where("payment_intents.order_id", "=", orderId)
    .executeTakeFirst();
}

/**
 * Takes the order's intent away, under its lock: true for the one caller that records the
 * capture's answer, false when another already did (or none was pending).
 */
export async function deletePaymentIntent(trx: Transaction<Database>, orderId: string): Promise<boolean> {
  const deleted = await trx.deleteFrom("payment_intents").where("order_id", "=", orderId).executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

/** Orders whose capture was decided at least `olderThanMs` ago and is still not recorded, oldest first. */
export async function findStalePaymentIntents(
  db: Kysely<Database>,
  olderThanMs: number,
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom("payment_intents")
    .select("order_id")
    .where("requested_at", "<=", sql<Date>`now() - ${olderThanMs} * interval '1 millisecond'`)
    .orderBy("requested_at")
    .limit(limit)
    .execute();
  return rows.map((row) => row.order_id);
}
