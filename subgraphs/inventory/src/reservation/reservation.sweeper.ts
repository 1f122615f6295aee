import { type Logger, type PeriodicSweep, startPeriodicSweep } from "@nexus/core";
import type { OutboxRelay } from "@nexus/events";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { StockAlertSettings } from "../stock/stock.service.ts";
import { expireReservations } from "./reservation.service.ts";

export interface ReservationSweeperOptions {
  db: Kysely<Database>;
  logger: Logger;
  /** Publishes the ReservationExpired events a sweep writes. */
  relay: Pick<OutboxRelay, "flush">;
  intervalMs: number;
  batchSize?: number;
  /** Released units can bring a product back in stock or above its low-stock threshold. */
  alerts: StockAlertSettings;
}

/** `sweep()` expires everything due now and returns the orders it expired. */
export type ReservationSweeper = PeriodicSweep<string>;

/**
 * Releases unconfirmed reservations past their expiry, every `intervalMs`. Safe in every
 * replica: each batch locks its orders with SKIP LOCKED, so replicas split the work.
 */
export function startReservationSweeper(options: ReservationSweeperOptions): ReservationSweeper {
  const { db, logger, relay } = options;
  const batchSize = options.batchSize ?? 200;

  return startPeriodicSweep({
    intervalMs: options.intervalMs,
    logger,
    failure: "reservation sweep failed; will retry",
    async drain(stopped) {
      const expired: string[] = [];
      for (let batch = batchSize; batch === batchSize && !stopped(); ) {
        const orderIds = await db
          .transaction()
          .execute((trx) => expireReservations(trx, batchSize, options.alerts));
        expired.push(...orderIds);
        batch = orderIds.length;
      }
      if (expired.length > 0) {
        logger.info("reservations expired", { orders: expired.length });
        await relay.flush();
      }
      return expired;
    },
  });
}
