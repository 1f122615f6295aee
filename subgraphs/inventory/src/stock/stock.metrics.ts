import { type Logger, type SubgraphMetrics, sampleAtMostEvery } from "@nexus/core";
import type { Kysely } from "kysely";
import { Gauge } from "prom-client";
import type { Database } from "../db/database.ts";
import { findLedgerMismatches, type LedgerMismatch } from "./stock.repository.ts";

/**
 * The books are checked at most this often: the check sums the whole ledger (a few movements per
 * order), so it is not run on every scrape. Drift is a bug to find, not a spike to catch within
 * seconds.
 */
export const LEDGER_CHECK_MAX_AGE_MS = 5 * 60_000;

/**
 * `nexus_inventory_stock_ledger_drift_products`: how many products' levels (on hand, reserved)
 * differ from the sum of their ledger movements or from their live reservations, by what
 * differs; `..._units` the units they are off by. Both 0 while the books balance. Every replica
 * reads the same database, so they report the same figures. While the database does not answer
 * the series are left out of the scrape.
 */
export function registerStockLedgerMetrics(
  metrics: SubgraphMetrics,
  db: Kysely<Database>,
  logger: Logger,
  maxAgeMs = LEDGER_CHECK_MAX_AGE_MS,
): void {
  const { registry } = metrics;
  const sample = sampleAtMostEvery(maxAgeMs, () =>
    findLedgerMismatches(db).catch((error: unknown) => {
      logger.warn("could not check the stock ledger for /metrics", { error });
      throw error;
    }),
  );
  const read = (): Promise<LedgerMismatch[] | null> => sample().catch(() => null);
  const kinds = {
    on_hand: (row: LedgerMismatch) => Math.abs(row.on_hand - row.ledger_on_hand),
    reserved: (row: LedgerMismatch) => Math.abs(row.reserved - row.ledger_reserved),
    reservations: (row: LedgerMismatch) => Math.abs(row.reserved - row.held),
  };
  const gauge = (name: string, help: string, measure: (off: number) => number) =>
    registry.getSingleMetric(name) ??
    new Gauge({
      name,
      help,
      labelNames: ["kind"] as const,
      registers: [registry],
      async collect() {
        const rows = await read();
        this.reset();
        if (rows === null) return;
        for (const [kind, off] of Object.entries(kinds)) {
          this.set(
            { kind },
            rows.reduce((total, row) => total + measure(off(row)), 0),
          );
        }
      },
    });
  gauge(
    "nexus_inventory_stock_ledger_drift_products",
    "Products whose levels differ from their stock ledger (kind on_hand, reserved) or from their live reservations (kind reservations); 0 when the books balance.",
    (off) => (off === 0 ? 0 : 1),
  );
  gauge(
    "nexus_inventory_stock_ledger_drift_units",
    "Units by which products' levels differ from their stock ledger (kind on_hand, reserved) or from their live reservations (kind reservations).",
    (off) => off,
  );
}
