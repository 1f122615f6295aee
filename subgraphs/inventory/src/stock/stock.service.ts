import { isUuid, userError } from "@nexus/core";
import { appendToOutbox, type EventPayloads } from "@nexus/events";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/database.ts";
import { takeStockForOrder } from "../reservation/reservation.repository.ts";
import type { UserError } from "../user-error.ts";
import { availableUnits } from "./stock.model.ts";
import {
  announceStockChanged,
  applyStockChanges,
  ensureStockLevel,
  IDS_PER_NOTICE,
  lockStockForUpdate,
  type MovementContext,
  STOCK_CHANGED_CHANNEL,
  type StockChange,
  type StockLine,
  type StockTransition,
  setLowStockAlerted,
  updateLowStockThreshold,
} from "./stock.repository.ts";

/** What deciding stock alerts needs from configuration. */
export interface StockAlertSettings {
  /** LOW_STOCK_THRESHOLD: the threshold of products without one of their own. */
  lowStockThreshold: number;
}

/**
 * Every stock change goes through here: the levels and ledger move (applyStockChanges), and in
 * the same transaction the outbox gets ProductBackInStock for each product whose availability
 * went from none to some, ProductOutOfStock for each whose availability went from some to none,
 * and StockLow for each whose availability fell to or below its
 * threshold and has not been announced since it last stood above it. The flag is read and written under the stock
 * row's lock, so concurrent changes of one product announce a crossing once.
 */
export async function changeStock(
  trx: Transaction<Database>,
  changes: readonly StockChange[],
  movement: MovementContext,
  settings: StockAlertSettings,
): Promise<void> {
  await announceTransitions(trx, await applyStockChanges(trx, changes, movement), settings);
}

/**
 * Appends the events `transitions` call for (see changeStock) and records which products' low
 * stock has now been announced. The caller holds the products' stock rows locked.
 */
async function announceTransitions(
  trx: Transaction<Database>,
  transitions: readonly StockTransition[],
  settings: StockAlertSettings,
): Promise<void> {
  const alerted: string[] = [];
  const cleared: string[] = [];
  for (const t of transitions) {
    if (t.availableBefore <= 0 && t.availableAfter > 0) {
      await appendToOutbox(trx, "ProductBackInStock", t.productId, {
        productId: t.productId,
        available: t.availableAfter,
      });
    } else if (t.availableBefore > 0 && t.availableAfter <= 0) {
      await appendToOutbox(trx, "ProductOutOfStock", t.productId, { productId: t.productId });
    }
    const threshold = t.lowStockThreshold ?? settings.lowStockThreshold;
    const low = t.availableAfter <= threshold;
    // Only a fall announces: a restock that still leaves the product low is not news.
    if (low && !t.lowStockAlerted && t.availableAfter < t.availableBefore) {
      // Inventory keys stock by product id and never learns skus; consumers look them up.
      await appendToOutbox(trx, "StockLow", t.productId, {
        productId: t.productId,
        sku: null,
        available: t.availableAfter,
        threshold,
      });
      alerted.push(t.productId);
    } else if (!low && t.lowStockAlerted) cleared.push(t.productId);
  }
  await setLowStockAlerted(trx, alerted, true);
  await setLowStockAlerted(trx, cleared, false);
}

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
 * Finds the lines `locked` stock rows cannot cover. The rows must be locked by the caller,
 * or the answer may be stale by the time it is acted on.
 */
export function findShortLines(
  lines: readonly StockLine[],
  locked: readonly { product_id: string; on_hand: number; reserved: number }[],
): ShortLine[] {
  const availableById = new Map(locked.map((row) => [row.product_id, availableUnits(row)]));
  return lines
    .map((line) => ({
      productId: line.productId,
      requested: line.quantity,
      available: availableById.get(line.productId) ?? 0,
    }))
    .filter((line) => line.requested > line.available);
}

/**
 * Reserves every line of an order or none, inside the caller's transaction, for `ttlSeconds`
 * unless the order is confirmed, and records the decision in the outbox (InventoryReserved, or
 * InventoryRejected listing each short line). The stock rows stay locked until the caller
 * commits, so concurrent orders for the same products are decided one after the other and
 * never both take the last units; the decision itself is one statement (takeStockForOrder), so
 * a hot product's row is held for that statement, the outbox rows and the commit.
 */
export async function reserveOrder(
  trx: Transaction<Database>,
  order: OrderToReserve,
  ttlSeconds: number,
  settings: StockAlertSettings,
): Promise<ReservationOutcome> {
  const lines = toStockLines(order);
  const notifyInStatement = lines.length <= IDS_PER_NOTICE;
  const result = await takeStockForOrder(
    trx,
    order.orderId,
    lines,
    ttlSeconds,
    notifyInStatement ? STOCK_CHANGED_CHANNEL : null,
  );
  if (result.alreadyReserved) return { status: "ALREADY_RESERVED" };
  if (result.taken.length === 0) {
    const short = findShortLines(lines, result.locked);
    await appendToOutbox(trx, "InventoryRejected", order.orderId, { orderId: order.orderId, lines: short });
    return { status: "REJECTED", lines: short };
  }
  if (!notifyInStatement) {
    await announceStockChanged(
      trx,
      result.taken.map((row) => row.productId),
    );
  }
  await announceTransitions(
    trx,
    result.taken.map(({ quantity, ...row }) => ({ ...row, availableBefore: row.availableAfter + quantity })),
    settings,
  );
  await appendToOutbox(trx, "InventoryReserved", order.orderId, { orderId: order.orderId });
  return { status: "RESERVED", lines };
}

/** Catalog product ids are MongoDB ObjectIds: 24 lower-case hex characters. */
const PRODUCT_ID = /^[0-9a-f]{24}$/;
/** Far above any warehouse, far below the 32-bit columns' limit. */
export const MAX_UNITS = 1_000_000_000;
const MAX_REASON_LENGTH = 200;

export interface SetStockInput {
  productId: string;
  onHand: number;
  lowStockThreshold?: number | null;
  reason: string;
}

export interface AdjustStockInput {
  productId: string;
  delta: number;
  reason: string;
}

export type StockChangeResult =
  | { productId: string; userErrors: [] }
  | { productId: null; userErrors: UserError[] };

const refused = (...userErrors: UserError[]): StockChangeResult => ({ productId: null, userErrors });

function validateCommon(input: { productId: string; reason: string }): UserError[] {
  const errors: UserError[] = [];
  if (!PRODUCT_ID.test(input.productId)) {
    errors.push(
      userError("INVALID_PRODUCT_ID", "productId must be a catalog product id (24 hex characters).", [
        "input",
        "productId",
      ]),
    );
  }
  const reason = input.reason.trim();
  if (reason === "")
    errors.push(userError("REASON_REQUIRED", "Say why the stock changes.", ["input", "reason"]));
  else if (reason.length > MAX_REASON_LENGTH) {
    errors.push(
      userError("INVALID_REASON", `reason must be at most ${MAX_REASON_LENGTH} characters.`, [
        "input",
        "reason",
      ]),
    );
  }
  return errors;
}

const isUnits = (n: number) => Number.isInteger(n) && n >= 0 && n <= MAX_UNITS;

/**
 * An admin's stock count: on hand becomes `onHand`, recorded as one SET movement of the
 * difference. Creates the product's stock row if inventory never stocked it (catalog is not
 * asked: inventory may stock a product before catalog publishes it).
 */
export async function setStock(
  db: Kysely<Database>,
  input: SetStockInput,
  actorId: string,
  settings: StockAlertSettings,
): Promise<StockChangeResult> {
  const errors = validateCommon(input);
  if (!isUnits(input.onHand)) {
    errors.push(
      userError("INVALID_QUANTITY", `onHand must be a whole number from 0 to ${MAX_UNITS}.`, [
        "input",
        "onHand",
      ]),
    );
  }
  const threshold = input.lowStockThreshold;
  if (threshold !== undefined && threshold !== null && !isUnits(threshold)) {
    errors.push(
      userError("INVALID_THRESHOLD", `lowStockThreshold must be a whole number from 0 to ${MAX_UNITS}.`, [
        "input",
        "lowStockThreshold",
      ]),
    );
  }
  if (errors.length > 0) return refused(...errors);

  return db.transaction().execute(async (trx) => {
    await ensureStockLevel(trx, input.productId);
    const [row] = await lockStockForUpdate(trx, [input.productId]);
    const reserved = row?.reserved ?? 0;
    if (input.onHand < reserved) {
      return refused(
        userError(
          "NEGATIVE_STOCK",
          `${reserved} units are reserved for orders, so on hand cannot be set below ${reserved}.`,
          ["input", "onHand"],
        ),
      );
    }
    // The new threshold first, so the alert this count may raise is judged against it.
    if (threshold !== undefined && threshold !== null)
      await updateLowStockThreshold(trx, input.productId, threshold);
    await changeStock(
      trx,
      [{ productId: input.productId, onHandDelta: input.onHand - (row?.on_hand ?? 0), reservedDelta: 0 }],
      { reason: "SET", note: input.reason.trim(), actorId },
      settings,
    );
    return { productId: input.productId, userErrors: [] };
  });
}

/** Receives (delta > 0) or writes off (delta < 0) units, recorded as one ADJUSTMENT movement. */
export async function adjustStock(
  db: Kysely<Database>,
  input: AdjustStockInput,
  actorId: string,
  settings: StockAlertSettings,
): Promise<StockChangeResult> {
  const errors = validateCommon(input);
  if (!Number.isInteger(input.delta) || input.delta === 0 || Math.abs(input.delta) > MAX_UNITS) {
    errors.push(
      userError(
        "INVALID_QUANTITY",
        `delta must be a whole number other than 0, at most ${MAX_UNITS} either way.`,
        ["input", "delta"],
      ),
    );
  }
  if (errors.length > 0) return refused(...errors);

  return db.transaction().execute(async (trx) => {
    // Receiving stock may create the product's row; removing stock never does.
    if (input.delta > 0) await ensureStockLevel(trx, input.productId);
    const [row] = await lockStockForUpdate(trx, [input.productId]);
    const onHand = row?.on_hand ?? 0;
    const reserved = row?.reserved ?? 0;
    const next = onHand + input.delta;
    if (next < 0 || next < reserved) {
      const message =
        next < 0
          ? `Only ${onHand} units are on hand; removing ${-input.delta} would leave fewer than none.`
          : `${reserved} of the ${onHand} units on hand are reserved for orders; at most ${onHand - reserved} can be removed.`;
      return refused(userError("NEGATIVE_STOCK", message, ["input", "delta"]));
    }
    if (next > MAX_UNITS) {
      return refused(
        userError("INVALID_QUANTITY", `On hand cannot exceed ${MAX_UNITS} units.`, ["input", "delta"]),
      );
    }
    await changeStock(
      trx,
      [{ productId: input.productId, onHandDelta: input.delta, reservedDelta: 0 }],
      { reason: "ADJUSTMENT", note: input.reason.trim(), actorId },
      settings,
    );
    return { productId: input.productId, userErrors: [] };
  });
}
