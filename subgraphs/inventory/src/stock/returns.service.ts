import type { EventPayloads } from "@nexus/events";
import type { Transaction } from "kysely";
import type { Database } from "../db/database.ts";
import { lockStockForUpdate } from "./stock.repository.ts";
import { changeStock, type StockAlertSettings } from "./stock.service.ts";

export type RestockOutcome =
  | { status: "SKIPPED"; why: "not restocked" | "historical" | "no lines" }
  | { status: "RESTOCKED"; units: number; untracked: string[] };

/**
 * OrderRefunded with `restock`: the returned units are back in the warehouse, so on hand rises
 * by them, with a RETURN movement per product naming the order. Products inventory keeps no
 * stock for are left out (reported, not invented). The consumer records the event id in the
 * same transaction, so a redelivered refund restocks nothing more.
 */
export async function restockReturn(
  trx: Transaction<Database>,
  refund: EventPayloads["OrderRefunded"],
  settings: StockAlertSettings,
): Promise<RestockOutcome> {
  if (refund.restock !== true) return { status: "SKIPPED", why: "not restocked" };
  // An imported return's goods came back long ago, into the stock the import was seeded with.
  if (refund.historical === true) return { status: "SKIPPED", why: "historical" };
  if (refund.lines.length === 0) return { status: "SKIPPED", why: "no lines" };
  const tracked = new Set(
    (
      await lockStockForUpdate(
        trx,
        refund.lines.map((line) => line.productId),
      )
    ).map((row) => row.product_id),
  );
  const lines = refund.lines.filter((line) => tracked.has(line.productId));
  await changeStock(
    trx,
    lines.map((line) => ({
      productId: line.productId,
      onHandDelta: line.quantity,
      reservedDelta: 0,
      orderId: refund.orderId,
    })),
    { reason: "RETURN", note: `refund ${refund.refundId}: ${refund.reason}`.slice(0, 500) },
    settings,
  );
  return {
    status: "RESTOCKED",
    units: lines.reduce((sum, line) => sum + line.quantity, 0),
    untracked: refund.lines.filter((line) => !tracked.has(line.productId)).map((line) => line.productId),
  };
}
