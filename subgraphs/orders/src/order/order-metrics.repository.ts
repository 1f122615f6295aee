import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.ts";

/** Committed totals by currency (ISO 4217): what the business metrics report. */
export interface OrderTotals {
  currency: string;
  /** Orders placed at checkout (their PENDING step), imported history excluded. */
  placed: number;
  /** Orders that reached CONFIRMED (stock reserved and payment captured). */
  confirmed: number;
  cancelled: number;
  rejected: number;
  /** Sum of `total_amount` (minor units) of the confirmed orders, refunds not taken off. */
  confirmedAmount: number;
  /** Payment captures the provider declined (the saga rejects the order in the same transaction). */
  failedPayments: number;
}

/** A range of the status history by id: `(afterId, upToId]`, open-ended without `upToId`. */
export interface HistoryRange {
  afterId: string;
  upToId?: string;
}

/**
 * Totals over the status history rows in `range` (the append-only `order_status_changes`),
 * imported orders (`channel = 'import'`) left out: they are history, not sales made here. A
 * declined payment is counted with its order's REJECTED step, which the saga writes in the same
 * transaction as the DECLINED payment row. The range is the primary key's, so a narrow one
 * reads only its own rows.
 */
export async function readOrderTotals(db: Kysely<Database>, range: HistoryRange): Promise<OrderTotals[]> {
  const { rows } = await sql<{
    currency: string;
    placed: string;
    confirmed: string;
    cancelled: string;
    rejected: string;
    confirmed_amount: string;
    failed_payments: string;
  }>`
    SELECT o.currency_code AS currency,
           count(*) FILTER (WHERE c.status = 'PENDING')::text AS placed,
           count(*) FILTER (WHERE c.status = 'CONFIRMED')::text AS confirmed,
           count(*) FILTER (WHERE c.status = 'CANCELLED')::text AS cancelled,
           count(*) FILTER (WHERE c.status = 'REJECTED')::text AS rejected,
           coalesce(sum(o.total_amount) FILTER (WHERE c.status = 'CONFIRMED'), 0)::text AS confirmed_amount,
           count(p.order_id)::text AS failed_payments
    FROM order_status_changes c
    JOIN orders o ON o.id = c.order_id
    LEFT JOIN payments p ON c.status = 'REJECTED' AND p.order_id = c.order_id AND p.status = 'DECLINED'
    WHERE c.id > ${range.afterId}::bigint
      ${range.upToId === undefined ? sql`` : sql`AND c.id <= ${range.upToId}::bigint`}
      AND o.channel <> 'import'
      AND c.status IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'REJECTED')
    GROUP BY o.currency_code
    ORDER BY o.currency_code`.execute(db);
  return rows.map((row) => ({
    currency: row.currency,
    placed: Number(row.placed),
    confirmed: Number(row.confirmed),
    cancelled: Number(row.cancelled),
    rejected: Number(row.rejected),
    confirmedAmount: Number(row.confirmed_amount),
    failedPayments: Number(row.failed_payments),
  }));
}

/**
 * The history's settled end: the highest id of a row written at least `settledAfterSeconds`
 * ago by a sale made here (imports write old `at` values), or `afterId` when none is newer.
 * Rows are numbered when inserted and `at` is their transaction's start, so a row numbered
 * lower that is not committed yet would belong to a transaction open that long: every id up to
 * the answer is final. Also the history's highest id, which falls after a restore.
 */
export async function findSettledHistoryId(
  db: Kysely<Database>,
  afterId: string,
  settledAfterSeconds: number,
): Promise<{ settledId: string; lastId: string }> {
  const { rows } = await sql<{ settled_id: string; last_id: string }>`
    SELECT coalesce((
             SELECT max(c.id) FROM order_status_changes c JOIN orders o ON o.id = c.order_id
             WHERE c.id > ${afterId}::bigint
               AND c.at < now() - make_interval(secs => ${settledAfterSeconds})
               AND o.channel <> 'import'
           ), ${afterId}::bigint)::text AS settled_id,
           coalesce((SELECT max(id) FROM order_status_changes), 0)::text AS last_id`.execute(db);
  const row = rows[0];
  return { settledId: row?.settled_id ?? afterId, lastId: row?.last_id ?? "0" };
}
