import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type { Database, OrderLinesTable, OrderStatus, OrdersTable } from "../db/database.ts";

export type OrderRow = Selectable<OrdersTable>;
/** A line with its order's currency, which the line itself does not repeat. */
export type OrderLineRow = Selectable<OrderLinesTable> & { currency_code: string };

/** A position in the newest-first list of one customer's orders. */
export interface OrderKey {
  placedAt: Date;
  id: string;
}

/** One page of one customer's orders: the `limit` orders placed before `after` (or the newest). */
export interface OrderPageRequest {
  customerId: string;
  after: OrderKey | null;
  limit: number;
}

export async function findOrdersByIds(db: Kysely<Database>, ids: readonly string[]): Promise<OrderRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom("orders").selectAll().where("id", "in", ids).execute();
}

/** Every line of the given orders, in order and position order. */
export async function findLinesByOrderIds(
  db: Kysely<Database>,
  orderIds: readonly string[],
): Promise<OrderLineRow[]> {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom("order_lines")
    .innerJoin("orders", "orders.id", "order_lines.order_id")
    .selectAll("order_lines")
    .select("orders.currency_code")
    .where("order_lines.order_id", "in", orderIds)
    .orderBy("order_lines.order_id")
    .orderBy("order_lines.position")
    .execute();
}

/**
 * Several customers' pages in one statement: one keyset scan of the
 * (customer_id, placed_at desc, id desc) index per request, joined laterally.
 * Rows come back newest first, tagged with the index of the request they answer.
 */
export async function findOrderPages(
  db: Kysely<Database>,
  requests: readonly OrderPageRequest[],
): Promise<(OrderRow & { request: number })[]> {
  if (requests.length === 0) return [];
  const { rows } = await sql<OrderRow & { request: number }>`
    SELECT (k.ordinality - 1)::int AS request, o.*
    FROM unnest(
      ${requests.map((r) => r.customerId)}::uuid[],
      ${requests.map((r) => r.after?.placedAt ?? null)}::timestamptz[],
      ${requests.map((r) => r.after?.id ?? null)}::uuid[],
      ${requests.map((r) => r.limit)}::int[]
    ) WITH ORDINALITY AS k(customer_id, after_placed_at, after_id, row_limit, ordinality)
    CROSS JOIN LATERAL (
      SELECT * FROM orders
      WHERE orders.customer_id = k.customer_id
        AND (k.after_id IS NULL OR (orders.placed_at, orders.id) < (k.after_placed_at, k.after_id))
      ORDER BY orders.placed_at DESC, orders.id DESC
      LIMIT k.row_limit
    ) AS o
    ORDER BY k.ordinality, o.placed_at DESC, o.id DESC
  `.execute(db);
  return rows;
}

export async function countOrdersByCustomerIds(
  db: Kysely<Database>,
  customerIds: readonly string[],
): Promise<{ customerId: string; count: number }[]> {
  if (customerIds.length === 0) return [];
  return db
    .selectFrom("orders")
    .select(["customer_id as customerId", sql<number>`count(*)::int`.as("count")])
    .where("customer_id", "in", customerIds)
    .groupBy("customer_id")
    .execute();
}

export interface NewOrder {
  customerId: string;
  currencyCode: string;
  totalAmount: number;
  lines: { productId: string; productName: string; unitPrice: number; quantity: number }[];
}

/** Inserts a PENDING order and its lines; run it in the transaction that also records the event. */
export async function insertOrder(
  trx: Transaction<Database>,
  order: NewOrder,
): Promise<{ order: OrderRow; lines: OrderLineRow[] }> {
  const row = await trx
    .insertInto("orders")
    .values({
      customer_id: order.customerId,
      currency_code: order.currencyCode,
      total_amount: order.totalAmount,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const lines = await trx
    .insertInto("order_lines")
    .values(
      order.lines.map((line, position) => ({
        order_id: row.id,
        position,
        product_id: line.productId,
        product_name: line.productName,
        unit_price: line.unitPrice,
        quantity: line.quantity,
      })),
    )
    .returningAll()
    .execute();
  return {
    order: row,
    lines: lines
      .map((line) => ({ ...line, currency_code: row.currency_code }))
      .sort((a, b) => a.position - b.position),
  };
}

/**
 * Moves a PENDING order to `status`. Any other order is left alone: events about an
 * order that has already moved on are late or repeated, not instructions.
 * Returns whether the order changed.
 */
export async function settlePendingOrder(
  trx: Transaction<Database>,
  orderId: string,
  status: Exclude<OrderStatus, "PENDING">,
): Promise<boolean> {
  const result = await trx
    .updateTable("orders")
    .set({ status, updated_at: sql<Date>`now()` })
    .where("id", "=", orderId)
    .where("status", "=", "PENDING")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
