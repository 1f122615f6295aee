import { isUuid } from "@nexus/core";
import { appendToOutbox, type EventPayloads } from "@nexus/events";
import type { Transaction } from "kysely";
import type { Database } from "../db/database.ts";
import { availableUnits } from "./stock.model.ts";
import {
  hasReservationsForOrder,
  lockStockForUpdate,
  reserveStock,
  type StockLine,
} from "./stock.repository.ts";

export type OrderToReserve = Pick<EventPayloads["OrderPlaced"], "orderId" | "lines">;
export type ShortLine = EventPayloads["InventoryRejected"]["lines"][number];

export type ReservationOutcome =
  | { status: "RESERVED"; lines: StockLine[] }
  | { status: "REJECTED"; lines: ShortLine[] }
  /** The order already holds reservations (a second OrderPlaced for it); nothing was written. */
  | { status: "ALREADY_RESERVED" };

/**
 * Validates the lines and merges repeats of a product into one line (a reservation is one
 * row per order and product). A malformed order is a producer bug, not a stock outcome:
 * it throws, so the job ends in BullMQ's failed set with the reason, where operators look.
 */
export function toStockLines(order: OrderToReserve): StockLine[] {
  const problems: string[] = [];
  if (!isUuid(order.orderId)) problems.push("orderId is not a UUID");
  if (order.lines.length === 0) problems.push("it has no lines");
  const byProduct = new Map<string, number>();
  for (const line of order.lines) {
    if (typeof line.productId !== "string" || line.productId === "") problems.push("a line has no productId");
    else if (!Number.isInteger(line.quantity) || line.quantity <= 0) {
      problems.push(`quantity ${line.quantity} of ${line.productId} is not a positive integer`);
    } else byProduct.set(line.productId, (byProduct.get(line.productId) ?? 0) + line.quantity);
  }
  if (problems.length > 0) {
    throw new Error(`OrderPlaced for order ${order.orderId} is malformed: ${problems.join("; ")}.`);
  }
  return [...byProduct].map(([productId, quantity]) => ({ productId, quantity }));
}

/**
 * Reserves every line of an order or none, inside the caller's transaction, and records the
 * decision in the outbox (InventoryReserved, or InventoryRejected listing each short line).
 * The stock rows stay locked until the caller commits, so concurrent orders for the same
 * products are decided one after the other and never both take the last units.
 */
export async function reserveOrder(
  trx: Transaction<Database>,
  order: OrderToReserve,
): Promise<ReservationOutcome> {
  const lines = toStockLines(order);
  if (await hasReservationsForOrder(trx, order.orderId)) return { status: "ALREADY_RESERVED" };

  const locked = await lockStockForUpdate(
    trx,
    lines.map((line) => line.productId),
  );
  const availableById = new Map(locked.map((row) => [row.product_id, availableUnits(row)]));
  const short = lines
    .map((line) => ({
      productId: line.productId,
      requested: line.quantity,
      available: availableById.get(line.productId) ?? 0,
    }))
    .filter((line) => line.requested > line.available);

  if (short.length > 0) {
    await appendToOutbox(trx, "InventoryRejected", order.orderId, {
      orderId: order.orderId,
      lines: short,
    });
    return { status: "REJECTED", lines: short };
  }
  await reserveStock(trx, order.orderId, lines);
  await appendToOutbox(trx, "InventoryReserved", order.orderId, { orderId: order.orderId });
  return { status: "RESERVED", lines };
}
