import type { Logger } from "@nexus/core";
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

export interface ReservationSweeper {
  /** Expires everything due now; returns the orders it expired. */
  sweep(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Releases unconfirmed reservations past their expiry, every `intervalMs`. Safe in every
 * replica: each batch locks its orders with SKIP LOCKED, so replicas split the work.
 */
export function startReservationSweeper(options: ReservationSweeperOptions): ReservationSweeper {
  const { db, logger, relay } = options;
  const batchSize = options.batchSize ?? 200;
  let running: Promise<string[]> | null = null;
  let stopped = false;

  const drain = async () => {
    const expired: string[] = [];
    for (let batch = batchSize; batch === batchSize && !stopped; ) {
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
  };

  const sweep = (): Promise<string[]> => {
    running ??= drain().finally(() => {
      running = null;
    });
    return running;
  };

  const timer = setInterval(() => {
    sweep().catch((error: unknown) => logger.warn("reservation sweep failed; will retry", { error }));
  }, options.intervalMs);

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => []);
    },
  };
}
