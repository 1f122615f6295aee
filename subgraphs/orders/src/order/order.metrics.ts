import { type Logger, type SubgraphMetrics, sampleAtMostEvery } from "@nexus/core";
import type { Kysely } from "kysely";
import { Counter } from "prom-client";
import type { Database } from "../db/database.ts";
import { findSettledHistoryId, type OrderTotals, readOrderTotals } from "./order-metrics.repository.ts";

/** How stale the business totals may be: one reading per this period, whatever the scrape rate. */
export const ORDER_TOTALS_MAX_AGE_MS = 15_000;
/**
 * Status history older than this is final (no transaction that writes it stays open this long:
 * the longest, a saga step, waits on one payment call), so it is summed once and kept.
 */
export const HISTORY_SETTLED_AFTER_SECONDS = 600;

/** Each business series: its name, help, and which total of `OrderTotals` it reports. */
const SERIES = [
  ["nexus_orders_placed_total", "Orders placed at checkout (imports excluded), by currency.", "placed"],
  [
    "nexus_orders_confirmed_total",
    "Orders confirmed (stock reserved, payment captured), by currency.",
    "confirmed",
  ],
  ["nexus_orders_cancelled_total", "Orders cancelled by the customer or staff, by currency.", "cancelled"],
  [
    "nexus_orders_rejected_total",
    "Orders rejected (out of stock, payment declined, reservation expired), by currency.",
    "rejected",
  ],
  [
    "nexus_orders_revenue_minor_units_total",
    "Sum of the totals of confirmed orders in the currency's minor units (refunds not taken off), by currency.",
    "confirmedAmount",
  ],
  ["nexus_payments_failed_total", "Payment captures the provider declined, by currency.", "failedPayments"],
] as const satisfies readonly (readonly [string, string, keyof Omit<OrderTotals, "currency">])[];

const TOTALS = ["placed", "confirmed", "cancelled", "rejected", "confirmedAmount", "failedPayments"] as const;

function addTotals(into: Map<string, OrderTotals>, more: readonly OrderTotals[]): Map<string, OrderTotals> {
  const sum = new Map([...into].map(([currency, totals]) => [currency, { ...totals }]));
  for (const totals of more) {
    const current = sum.get(totals.currency);
    if (!current) sum.set(totals.currency, { ...totals });
    else for (const field of TOTALS) current[field] += totals[field];
  }
  return sum;
}

/**
 * Reads the totals so that each scan is short: the settled part of the history is summed once
 * (the first reading sums everything there is) and kept, and each reading adds only what was
 * written since. After a restore the history ends before what was kept: it starts over.
 */
export function createOrderTotalsReader(
  db: Kysely<Database>,
  settledAfterSeconds = HISTORY_SETTLED_AFTER_SECONDS,
): () => Promise<OrderTotals[]> {
  let settledId = "0";
  let settled = new Map<string, OrderTotals>();
  return async () => {
    let bounds = await findSettledHistoryId(db, settledId, settledAfterSeconds);
    if (BigInt(bounds.lastId) < BigInt(settledId)) {
      settledId = "0";
      settled = new Map();
      bounds = await findSettledHistoryId(db, settledId, settledAfterSeconds);
    }
    if (bounds.settledId !== settledId) {
      const more = await readOrderTotals(db, { afterId: settledId, upToId: bounds.settledId });
      settled = addTotals(settled, more);
      settledId = bounds.settledId;
    }
    const recent = await readOrderTotals(db, { afterId: settledId });
    return [...addTotals(settled, recent).values()];
  };
}

/**
 * The business counters, read from what the orders database has committed (the status history
 * and payments) rather than counted in memory, so they count a step only once its transaction
 * commits, survive restarts, and say the same on every replica: combine replicas with `max`, not
 * `sum`. While the database does not answer the series are left out of the scrape.
 */
export function registerOrderMetrics(
  metrics: SubgraphMetrics,
  db: Kysely<Database>,
  logger: Logger,
  options: { maxAgeMs?: number; settledAfterSeconds?: number } = {},
): void {
  const { registry } = metrics;
  const readTotals = createOrderTotalsReader(db, options.settledAfterSeconds);
  // One reading serves all six series of a scrape; its failure is logged once, not per series.
  const sample = sampleAtMostEvery(options.maxAgeMs ?? ORDER_TOTALS_MAX_AGE_MS, () =>
    readTotals().catch((error: unknown) => {
      logger.warn("could not read the order totals for /metrics", { error });
      throw error;
    }),
  );
  const read = (): Promise<OrderTotals[]> => sample().catch(() => []);
  for (const [name, help, field] of SERIES) {
    if (registry.getSingleMetric(name)) continue;
    new Counter({
      name,
      help,
      labelNames: ["currency"] as const,
      registers: [registry],
      async collect() {
        const totals = await read();
        this.reset();
        for (const total of totals) this.inc({ currency: total.currency }, total[field]);
      },
    });
  }
}
