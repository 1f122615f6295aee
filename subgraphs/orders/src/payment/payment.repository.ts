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
