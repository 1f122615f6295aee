import { appendToOutbox } from "@nexus/events";
import { UnrecoverableError } from "bullmq";
import type { Transaction } from "kysely";
import type { Database, ReservationStatus, StockMovementReason } from "../db/database.ts";
import { lockStockForUpdate, type StockLine } from "../stock/stock.repository.ts";
import {
  changeStock,
  findShortLines,
  type ShortLine,
  type StockAlertSettings,
} from "../stock/stock.service.ts";
import {
  addShipped,
  confirmReservedOrder,
  findReservationLines,
  lockExpiredReservations,
  lockOrderReservation,
  type ReservationLineRow,
  updateReservationStatus,
} from "./reservation.repository.ts";

/**
 * An order's reservation moves RESERVED -> CONFIRMED -> COMMITTED, or to RELEASED / EXPIRED.
 * Every transition locks the order's row in order_reservations first, then stock rows in
 * product order, so a consumer and the expiry sweeper never both act on one order, and no two
 * transactions wait on each other's stock rows.
 */

/** What a transition found, for logs and tests; `from` is null when the order holds no reservation. */
export interface TransitionOutcome {
  from: ReservationStatus | null;
  to: ReservationStatus | null;
}

export type ConfirmOutcome =
  | { status: "CONFIRMED" }
  /** Confirmed after its reservation had expired, and the stock was still there: held again. */
  | { status: "RERESERVED" }
  /** Confirmed after expiry, and the stock is gone: InventoryRejected was published. */
  | { status: "UNFULFILLABLE"; lines: ShortLine[] }
  /** Nothing to do: already confirmed or committed, released, or never reserved. */
  | { status: "UNCHANGED"; reservation: ReservationStatus | null };

const HOLDING: readonly ReservationStatus[] = ["RESERVED", "CONFIRMED"];

const linesOf = (trx: Transaction<Database>, orderId: string) => findReservationLines(trx, [orderId]);

/** Deltas for `lines`, one movement per order line. */
const changesFor = (lines: readonly ReservationLineRow[], onHandSign: number, reservedSign: number) =>
  lines.map((line) => ({
    productId: line.product_id,
    onHandDelta: onHandSign * line.quantity,
    reservedDelta: reservedSign * line.quantity,
    orderId: line.order_id,
  }));

/**
 * OrderConfirmed: payment was captured, so the reservation stops expiring. When the sweeper
 * expired it first (payment took longer than RESERVATION_TTL_SECONDS), the order is reserved
 * again if every line is still available; if not, InventoryRejected names the short lines.
 * Orders only acts on InventoryRejected for PENDING orders, so for this CONFIRMED order it is a
 * signal for operators (also logged as an error by the consumer): restock or cancel and refund.
 */
export async function confirmReservation(
  trx: Transaction<Database>,
  orderId: string,
  settings: StockAlertSettings,
): Promise<ConfirmOutcome> {
  // RESERVED, even past its expiry but not swept yet (the stock was never released): confirming
  // is enough, in one statement. Any other state is read under the lock and decided below.
  if (await confirmReservedOrder(trx, orderId)) return { status: "CONFIRMED" };
  const reservation = await lockOrderReservation(trx, orderId);
  if (!reservation) return { status: "UNCHANGED", reservation: null };
  if (reservation.status !== "EXPIRED") return { status: "UNCHANGED", reservation: reservation.status };

  const lines = await linesOf(trx, orderId);
  const locked = await lockStockForUpdate(
    trx,
    lines.map((line) => line.product_id),
  );
  const short = findShortLines(
    lines.map((line) => ({ productId: line.product_id, quantity: line.quantity })),
    locked,
  );
  if (short.length > 0) {
    await appendToOutbox(trx, "InventoryRejected", orderId, { orderId, lines: short });
    return { status: "UNFULFILLABLE", lines: short };
  }
  await changeStock(
    trx,
    changesFor(lines, 0, 1),
    { reason: "RESERVATION", note: "confirmed after its reservation expired" },
    settings,
  );
  await updateReservationStatus(trx, [orderId], "CONFIRMED");
  return { status: "RERESERVED" };
}

/**
 * OrderRejected / OrderCancelled: gives the order's units back. A no-op when it holds nothing
 * (never reserved, already released, expired or shipped), so a late or repeated event is harmless.
 */
export async function releaseReservation(
  trx: Transaction<Database>,
  orderId: string,
  note: string,
  settings: StockAlertSettings,
): Promise<TransitionOutcome> {
  const reservation = await lockOrderReservation(trx, orderId);
  if (!reservation || !HOLDING.includes(reservation.status)) {
    return { from: reservation?.status ?? null, to: reservation?.status ?? null };
  }
  const lines = await linesOf(trx, orderId);
  await changeStock(trx, changesFor(lines, 0, -1), { reason: "RELEASE", note }, settings);
  await updateReservationStatus(trx, [orderId], "RELEASED");
  return { from: reservation.status, to: "RELEASED" };
}

/**
 * OrderShipped: the units left the warehouse, so on hand and reserved both drop. Without
 * `shipped` lines every unit the order still holds ships (the whole order, or the rest of one
 * shipped in parts); with them, those units only, and the reservation is COMMITTED once none is
 * left. An order whose reservation was released or expired still shipped: its units leave on
 * hand if that does not cut into other orders' reservations. Otherwise (or for an order never
 * reserved, or more units than it holds) the event cannot be applied without a person deciding,
 * so it fails for good and waits in the failed set.
 */
export async function commitReservation(
  trx: Transaction<Database>,
  orderId: string,
  settings: StockAlertSettings,
  shipped?: readonly StockLine[],
): Promise<TransitionOutcome> {
  const reservation = await lockOrderReservation(trx, orderId);
  if (!reservation) {
    throw new UnrecoverableError(`OrderShipped for order ${orderId}, which inventory never reserved.`);
  }
  if (reservation.status === "COMMITTED") return { from: "COMMITTED", to: "COMMITTED" };
  const held = await linesOf(trx, orderId);
  const lines = shipped ? shippedLines(orderId, held, shipped) : held;
  const holding = HOLDING.includes(reservation.status);
  if (!holding) {
    const locked = await lockStockForUpdate(
      trx,
      lines.map((line) => line.product_id),
    );
    const short = findShortLines(
      lines.map((line) => ({ productId: line.product_id, quantity: line.quantity })),
      locked,
    );
    if (short.length > 0) {
      throw new UnrecoverableError(
        `OrderShipped for order ${orderId}, whose reservation is ${reservation.status}: ` +
          `${short.map((line) => `${line.productId} has ${line.available} of ${line.requested} unreserved`).join("; ")}.`,
      );
    }
  }
  const reason: StockMovementReason = "SHIPMENT";
  await changeStock(
    trx,
    changesFor(lines, -1, holding ? -1 : 0),
    {
      reason,
      note: holding ? null : `shipped after its reservation was ${reservation.status.toLowerCase()}`,
    },
    settings,
  );
  await addShipped(
    trx,
    orderId,
    lines.map((line) => ({ productId: line.product_id, quantity: line.quantity })),
  );
  const unitsLeft =
    held.reduce((sum, line) => sum + line.quantity, 0) - lines.reduce((sum, l) => sum + l.quantity, 0);
  if (unitsLeft > 0) return { from: reservation.status, to: reservation.status };
  await updateReservationStatus(trx, [orderId], "COMMITTED");
  return { from: reservation.status, to: "COMMITTED" };
}

/** The reserved lines one shipment takes; more than a line still holds needs a person to decide. */
function shippedLines(
  orderId: string,
  held: readonly ReservationLineRow[],
  shipped: readonly StockLine[],
): ReservationLineRow[] {
  const holds = new Map(held.map((line) => [line.product_id, line.quantity]));
  const over = shipped.filter((line) => line.quantity > (holds.get(line.productId) ?? 0));
  if (over.length > 0) {
    throw new UnrecoverableError(
      `OrderShipped for order ${orderId} ships more than it holds: ` +
        `${over.map((line) => `${line.productId} ${line.quantity} of ${holds.get(line.productId) ?? 0}`).join("; ")}.`,
    );
  }
  return shipped
    .filter((line) => line.quantity > 0)
    .map((line) => ({ order_id: orderId, product_id: line.productId, quantity: line.quantity }));
}

/**
 * Expires up to `limit` unconfirmed reservations past their time: their units become available
 * again and each order gets a ReservationExpired event, in one transaction. Returns the orders.
 */
export async function expireReservations(
  trx: Transaction<Database>,
  limit: number,
  settings: StockAlertSettings,
): Promise<string[]> {
  const orderIds = await lockExpiredReservations(trx, limit);
  if (orderIds.length === 0) return [];
  const lines = await findReservationLines(trx, orderIds);
  await changeStock(trx, changesFor(lines, 0, -1), { reason: "EXPIRY" }, settings);
  await updateReservationStatus(trx, orderIds, "EXPIRED");
  for (const orderId of orderIds) {
    await appendToOutbox(trx, "ReservationExpired", orderId, { orderId });
  }
  return orderIds;
}
