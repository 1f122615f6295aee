import { sql, type Transaction } from "kysely";
import type { Database } from "../db/database.ts";

/**
 * Bulk writes for imports. Each function is one statement whatever the number of rows: the
 * values travel as one array per column and `unnest` turns them into rows, so a batch of
 * hundreds of invoices and thousands of lines costs a handful of round trips, and no statement
 * comes near PostgreSQL's limit of 65,535 parameters.
 */

/**
 * Rows in external-ref order: two imports of overlapping batches then take the unique index's
 * entries in the same order, so one waits for the other instead of deadlocking with it.
 */
const byExternalRef = <T extends { externalRef: string }>(rows: readonly T[]): T[] =>
  [...rows].sort((a, b) => (a.externalRef < b.externalRef ? -1 : a.externalRef > b.externalRef ? 1 : 0));

export interface ImportedOrderRow {
  id: string;
  externalRef: string;
  customerId: string | null;
  currencyCode: string;
  totalAmount: number;
  placedAt: Date;
}

/**
 * Inserts DELIVERED orders placed (and last changed) at `placedAt`; an `externalRef` already
 * imported is skipped. Returns the orders created, by external ref.
 */
export async function insertImportedOrders(
  trx: Transaction<Database>,
  given: readonly ImportedOrderRow[],
): Promise<{ id: string; external_ref: string }[]> {
  if (given.length === 0) return [];
  const orders = byExternalRef(given);
  const { rows } = await sql<{ id: string; external_ref: string }>`
    INSERT INTO orders (id, external_ref, customer_id, currency_code, total_amount, placed_at, updated_at, status, channel)
    SELECT id, external_ref, customer_id, currency_code, total_amount, placed_at, placed_at, 'DELIVERED', 'import'
    FROM unnest(
      ${orders.map((o) => o.id)}::uuid[],
      ${orders.map((o) => o.externalRef)}::text[],
      ${orders.map((o) => o.customerId)}::uuid[],
      ${orders.map((o) => o.currencyCode)}::text[],
      ${orders.map((o) => o.totalAmount)}::int[],
      ${orders.map((o) => o.placedAt)}::timestamptz[]
    ) AS k(id, external_ref, customer_id, currency_code, total_amount, placed_at)
    ON CONFLICT (external_ref) DO NOTHING
    RETURNING id, external_ref
  `.execute(trx);
  return rows;
}

export interface ImportedLineRow {
  orderId: string;
  position: number;
  productId: string;
  productName: string;
  unitPrice: number;
  quantity: number;
}

export async function insertImportedLines(
  trx: Transaction<Database>,
  lines: readonly ImportedLineRow[],
): Promise<void> {
  if (lines.length === 0) return;
  await sql`
    INSERT INTO order_lines (order_id, position, product_id, product_name, unit_price, quantity)
    SELECT * FROM unnest(
      ${lines.map((l) => l.orderId)}::uuid[],
      ${lines.map((l) => l.position)}::int[],
      ${lines.map((l) => l.productId)}::text[],
      ${lines.map((l) => l.productName)}::text[],
      ${lines.map((l) => l.unitPrice)}::int[],
      ${lines.map((l) => l.quantity)}::int[]
    )
  `.execute(trx);
}

/** Appends each step, in the order given, so an order's history reads in that order. */
export async function insertStatusChanges(
  trx: Transaction<Database>,
  changes: readonly { orderId: string; status: string; at: Date }[],
): Promise<void> {
  if (changes.length === 0) return;
  await sql`
    INSERT INTO order_status_changes (order_id, status, at)
    SELECT order_id, status, at FROM unnest(
      ${changes.map((c) => c.orderId)}::uuid[],
      ${changes.map((c) => c.status)}::text[],
      ${changes.map((c) => c.at)}::timestamptz[]
    ) WITH ORDINALITY AS k(order_id, status, at, n)
    ORDER BY n
  `.execute(trx);
}

/**
 * For each (customer, product, time): the customer's latest order placed no later than that
 * time with a line of that product, or null. One statement: a lateral scan of the customer's
 * orders newest first per request.
 */
export async function findLatestOrdersWithProduct(
  trx: Transaction<Database>,
  requests: readonly { customerId: string; productId: string; at: Date }[],
): Promise<(string | null)[]> {
  if (requests.length === 0) return [];
  const { rows } = await sql<{ request: number; order_id: string }>`
    SELECT (k.n - 1)::int AS request, o.id AS order_id
    FROM unnest(
      ${requests.map((r) => r.customerId)}::uuid[],
      ${requests.map((r) => r.productId)}::text[],
      ${requests.map((r) => r.at)}::timestamptz[]
    ) WITH ORDINALITY AS k(customer_id, product_id, at, n)
    CROSS JOIN LATERAL (
      SELECT orders.id FROM orders
      WHERE orders.customer_id = k.customer_id
        AND orders.placed_at <= k.at
        AND EXISTS (
          SELECT 1 FROM order_lines
          WHERE order_lines.order_id = orders.id AND order_lines.product_id = k.product_id
        )
      ORDER BY orders.placed_at DESC, orders.id DESC
      LIMIT 1
    ) AS o
  `.execute(trx);
  const found: (string | null)[] = requests.map(() => null);
  for (const row of rows) found[row.request] = row.order_id;
  return found;
}

export interface ImportedRefundRow {
  id: string;
  externalRef: string;
  orderId: string | null;
  customerId: string | null;
  currencyCode: string;
  amount: number;
  reason: string;
  refundedAt: Date;
}

/** Inserts historical refunds; an `externalRef` already imported is skipped. Returns those created. */
export async function insertImportedRefunds(
  trx: Transaction<Database>,
  given: readonly ImportedRefundRow[],
): Promise<{ id: string; external_ref: string }[]> {
  if (given.length === 0) return [];
  const refunds = byExternalRef(given);
  const { rows } = await sql<{ id: string; external_ref: string }>`
    INSERT INTO refunds (id, external_ref, order_id, customer_id, currency_code, amount, reason, refunded_at, historical)
    SELECT id, external_ref, order_id, customer_id, currency_code, amount, reason, refunded_at, true
    FROM unnest(
      ${refunds.map((r) => r.id)}::uuid[],
      ${refunds.map((r) => r.externalRef)}::text[],
      ${refunds.map((r) => r.orderId)}::uuid[],
      ${refunds.map((r) => r.customerId)}::uuid[],
      ${refunds.map((r) => r.currencyCode)}::text[],
      ${refunds.map((r) => r.amount)}::int[],
      ${refunds.map((r) => r.reason)}::text[],
      ${refunds.map((r) => r.refundedAt)}::timestamptz[]
    ) AS k(id, external_ref, order_id, customer_id, currency_code, amount, reason, refunded_at)
    ON CONFLICT (external_ref) DO NOTHING
    RETURNING id, external_ref
  `.execute(trx);
  return rows;
}

export async function insertRefundLines(
  trx: Transaction<Database>,
  lines: readonly {
    refundId: string;
    position: number;
    productId: string;
    quantity: number;
    unitPrice: number;
  }[],
): Promise<void> {
  if (lines.length === 0) return;
  await sql`
    INSERT INTO refund_lines (refund_id, position, product_id, quantity, unit_price)
    SELECT * FROM unnest(
      ${lines.map((l) => l.refundId)}::uuid[],
      ${lines.map((l) => l.position)}::int[],
      ${lines.map((l) => l.productId)}::text[],
      ${lines.map((l) => l.quantity)}::int[],
      ${lines.map((l) => l.unitPrice)}::int[]
    )
  `.execute(trx);
}
