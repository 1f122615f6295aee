import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.ts";

/** Committed totals since the first order, by currency (ISO 4217): what the business metrics report. */
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
  /** Payment captures the provider declined. */
  failedPayments: number;
}

/**
 * Reads the totals from the append-only status history and the payments table, so they count
 * only committed steps, every replica reports the same figures, and a restart loses nothing.
 * Imported orders (`channel = 'import'`) are history, not sales made here, and are left out.
 * Two scans of tables that grow with every order: callers cache the answer (order.metrics.ts).
 */
export async function readOrderTotals(db: Kysely<Database>): Promise<OrderTotals[]> {
  const { rows } = await sql<{
    currency: string;
    placed: string;
    confirmed: string;
    cancelled: string;
    rejected: string;
    confirmed_amount: string;
    failed_payments: string;
  }>`
    WITH steps AS (
      SELECT o.currency_code AS currency,
             count(*) FILTER (WHERE c.status = 'PENDING') AS placed,
             count(*) FILTER (WHERE c.status = 'CONFIRMED') AS confirmed,
             count(*) FILTER (WHERE c.status = 'CANCELLED') AS cancelled,
             count(*) FILTER (WHERE c.status = 'REJECTED') AS rejected,
             coalesce(sum(o.total_amount) FILTER (WHERE c.status = 'CONFIRMED'), 0) AS confirmed_amount
      FROM order_status_changes c JOIN orders o ON o.id = c.order_id
      WHERE o.channel <> 'import'
        AND c.status IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'REJECTED')
      GROUP BY o.currency_code
    ), declined AS (
      SELECT currency_code AS currency, count(*) AS failed_payments
      FROM payments WHERE status = 'DECLINED' GROUP BY currency_code
    )
    SELECT currency,
           coalesce(s.placed, 0)::text AS placed,
           coalesce(s.confirmed, 0)::text AS confirmed,
           coalesce(s.cancelled, 0)::text AS cancelled,
           coalesce(s.rejected, 0)::text AS rejected,
           coalesce(s.confirmed_amount, 0)::text AS confirmed_amount,
           coalesce(d.failed_payments, 0)::text AS failed_payments
    FROM steps s FULL JOIN declined d USING (currency)
    ORDER BY currency`.execute(db);
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
