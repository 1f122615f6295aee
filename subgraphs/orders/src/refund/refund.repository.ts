import type { Kysely, Selectable, Transaction } from "kysely";
import type { Database, RefundLinesTable, RefundsTable } from "../db/database.ts";

export type RefundRow = Selectable<RefundsTable>;
export type RefundLineRow = Selectable<RefundLinesTable>;

export async function findRefundsByOrderIds(
  db: Kysely<Database>,
  orderIds: readonly string[],
): Promise<RefundRow[]> {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom("refunds")
    .selectAll()
    .where("order_id", "in", orderIds)
    .orderBy("refunded_at")
    .orderBy("id")
    .execute();
}

export async function findRefundLinesByRefundIds(
  db: Kysely<Database>,
  refundIds: readonly string[],
): Promise<RefundLineRow[]> {
  if (refundIds.length === 0) return [];
  return db
    .selectFrom("refund_lines")
    .selectAll()
    .where("refund_id", "in", refundIds)
    .orderBy("refund_id")
    .orderBy("position")
    .execute();
}

export async function findRefundByKey(
  trx: Transaction<Database>,
  orderId: string,
  idempotencyKey: string,
): Promise<RefundRow | undefined> {
  return trx
    .selectFrom("refunds")
    .selectAll()
    .where("order_id", "=", orderId)
    .where("idempotency_key", "=", idempotencyKey)
    .executeTakeFirst();
}

/** What has been refunded of an order so far: the money, and the units per product. */
export async function sumRefunded(
  trx: Transaction<Database>,
  orderId: string,
): Promise<{ amount: number; units: Map<string, number> }> {
  const total = await trx
    .selectFrom("refunds")
    .select((eb) => eb.fn.coalesce(eb.fn.sum<string>("amount"), eb.lit(0)).as("amount"))
    .where("order_id", "=", orderId)
    .executeTakeFirstOrThrow();
  const units = await trx
    .selectFrom("refund_lines")
    .innerJoin("refunds", "refunds.id", "refund_lines.refund_id")
    .select(["refund_lines.product_id", (eb) => eb.fn.sum<string>("refund_lines.quantity").as("quantity")])
    .where("refunds.order_id", "=", orderId)
    .groupBy("refund_lines.product_id")
    .execute();
  return {
    amount: Number(total.amount),
    units: new Map(units.map((row) => [row.product_id, Number(row.quantity)])),
  };
}

export async function insertRefund(
  trx: Transaction<Database>,
  refund: Omit<RefundRow, "restock" | "historical"> & { restock: boolean },
  lines: readonly Omit<RefundLineRow, "refund_id">[],
): Promise<RefundRow> {
  const row = await trx
    .insertInto("refunds")
    .values({ ...refund, historical: false })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (lines.length > 0) {
    await trx
      .insertInto("refund_lines")
      .values(lines.map((line) => ({ ...line, refund_id: refund.id })))
      .execute();
  }
  return row;
}
