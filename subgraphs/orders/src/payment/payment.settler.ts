import { type PeriodicSweep, startPeriodicSweep } from "@nexus/core";
import type { OutboxRelay } from "@nexus/events";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type SagaDeps, type SettleOutcome, settlePayment } from "../order/order.saga.ts";
import { findStalePaymentIntents } from "./payment.repository.ts";

export interface PaymentSettlerOptions extends SagaDeps {
  db: Kysely<Database>;
  /** Publishes what settled payments wrote (OrderConfirmed, OrderRejected). */
  relay: Pick<OutboxRelay, "flush">;
  /**
   * An intent this old is taken to be left behind by a crash (or a provider that failed) and is
   * settled again; also how often the settler looks (PAYMENT_RETRY_MS).
   */
  retryAfterMs: number;
  batchSize?: number;
}

/** `sweep()` settles every intent older than `retryAfterMs` now and returns the orders it looked at. */
export type PaymentSettler = PeriodicSweep<string>;

/**
 * Captures the payments whose first attempt did not get recorded: the consumer settles each
 * intent right after committing it, so what is left here is what a crash or a provider outage
 * interrupted. Capturing again is safe because the order id is the idempotency key, and safe in
 * every replica at once because only the attempt that removes the intent records it.
 */
export function startPaymentSettler(options: PaymentSettlerOptions): PaymentSettler {
  const { db, logger, relay } = options;
  const batchSize = options.batchSize ?? 100;

  const settleOne = async (orderId: string): Promise<SettleOutcome | "FAILED"> => {
    try {
      return await settlePayment(options, orderId);
    } catch (error) {
      logger.warn("payment could not be settled; will retry", { orderId, error });
      return "FAILED";
    }
  };

  return startPeriodicSweep({
    intervalMs: options.retryAfterMs,
    logger,
    failure: "payment settling failed; will retry",
    async drain(stopped) {
      const orderIds = await findStalePaymentIntents(db, options.retryAfterMs, batchSize);
      const settled: string[] = [];
      for (const orderId of orderIds) {
        if (stopped()) break;
        const outcome = await settleOne(orderId);
        if (outcome !== "FAILED" && outcome !== "NONE") settled.push(orderId);
      }
      if (settled.length > 0) {
        logger.info("left-behind payments settled", { orders: settled.length });
        await relay.flush();
      }
      return orderIds;
    },
  });
}
