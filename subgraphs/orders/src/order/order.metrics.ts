import { type Logger, type SubgraphMetrics, sampleAtMostEvery } from "@nexus/core";
import type { Kysely } from "kysely";
import { Counter } from "prom-client";
import type { Database } from "../db/database.ts";
import { type OrderTotals, readOrderTotals } from "./order-metrics.repository.ts";

/** How stale the business totals may be: one query per this period, whatever the scrape rate. */
export const ORDER_TOTALS_MAX_AGE_MS = 15_000;

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

/**
 * The business counters, read from what the orders database has committed (the status history
 * and payments) rather than counted in memory, so they count a step only once its transaction
 * commits, survive restarts, and say the same on every replica: sum them with `max`, not `sum`,
 * across replicas. While the database does not answer the series are left out of the scrape.
 */
export function registerOrderMetrics(
  metrics: SubgraphMetrics,
  db: Kysely<Database>,
  logger: Logger,
  maxAgeMs = ORDER_TOTALS_MAX_AGE_MS,
): void {
  const { registry } = metrics;
  // One query serves all six series of a scrape; its failure is logged once, not per series.
  const sample = sampleAtMostEvery(maxAgeMs, () =>
    readOrderTotals(db).catch((error: unknown) => {
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
