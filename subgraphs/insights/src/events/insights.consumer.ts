import { isUuid, type Logger } from "@nexus/core";
import {
  type EventConsumer,
  type EventConsumerOptions,
  type EventEnvelope,
  startEventConsumer,
} from "@nexus/events";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/database.ts";
import { insertSalesFacts, recordOrderOutcome, type SalesFactInsert } from "../sales/sales.repository.ts";

export interface InsightsConsumerOptions {
  db: Kysely<Database>;
  redis: EventConsumerOptions<Database>["redis"];
  prefix: string;
  logger: Logger;
}

/**
 * One fact per product of a placed order. Repeats of a product are merged (the fact key is
 * event and product); orders snapshots one price per product, so the first line's price is
 * the price. A malformed event is a producer bug: it throws, and the job fails visibly.
 */
export function toSalesFacts(event: EventEnvelope<"OrderPlaced">): SalesFactInsert[] {
  const { orderId, currencyCode, lines } = event.payload;
  const problems: string[] = [];
  if (!isUuid(orderId)) problems.push("orderId is not a UUID");
  if (typeof currencyCode !== "string" || currencyCode === "") problems.push("currencyCode is missing");
  const byProduct = new Map<string, SalesFactInsert>();
  for (const line of lines) {
    if (typeof line.productId !== "string" || line.productId === "") {
      problems.push("a line has no productId");
    } else if (!Number.isInteger(line.quantity) || line.quantity <= 0) {
      problems.push(`quantity ${line.quantity} of ${line.productId} is not a positive integer`);
    } else if (!Number.isInteger(line.unitPrice) || line.unitPrice < 0) {
      problems.push(`unitPrice ${line.unitPrice} of ${line.productId} is not a whole amount of minor units`);
    } else {
      const fact = byProduct.get(line.productId);
      if (fact) fact.quantity += line.quantity;
      else {
        byProduct.set(line.productId, {
          event_id: event.id,
          order_id: orderId,
          product_id: line.productId,
          quantity: line.quantity,
          unit_price: line.unitPrice,
          currency_code: currencyCode,
          occurred_at: new Date(event.occurredAt),
        });
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(`OrderPlaced for order ${orderId} is malformed: ${problems.join("; ")}.`);
  }
  return [...byProduct.values()];
}

type OutcomeEvent = EventEnvelope<"OrderConfirmed" | "OrderCancelled" | "OrderRejected">;

/** A handler that records one column of the order's outcome, at the time the event happened. */
const recordAs =
  (outcome: "confirmed_at" | "reversed_at") =>
  async (trx: Transaction<Database>, event: OutcomeEvent): Promise<void> => {
    const { orderId } = event.payload;
    // A malformed event throws, like a malformed OrderPlaced, and fails visibly.
    if (!isUuid(orderId)) throw new Error(`${event.type} ${event.id} is malformed: orderId is not a UUID.`);
    await recordOrderOutcome(trx, orderId, outcome, new Date(event.occurredAt));
  };

/**
 * Consumes the `events.insights` queue; each effect and the event id commit together, so each
 * event counts once. OrderPlaced records the facts; OrderConfirmed makes them sales;
 * OrderCancelled and OrderRejected (a decline, or a refund after confirmation) take them back
 * out for good. Each event only sets its own column, so they may arrive in any order: a
 * confirmation retried until after the cancellation, or before the OrderPlaced it follows.
 */
export function startInsightsConsumer(options: InsightsConsumerOptions): EventConsumer {
  const { db, redis, prefix, logger } = options;
  return startEventConsumer({
    consumer: "insights",
    db,
    redis,
    prefix,
    logger,
    handlers: {
      OrderPlaced: async (trx, event) => {
        await insertSalesFacts(trx, toSalesFacts(event));
      },
      OrderConfirmed: recordAs("confirmed_at"),
      OrderCancelled: recordAs("reversed_at"),
      OrderRejected: recordAs("reversed_at"),
    },
  });
}
