import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type RefundLineModel, type RefundModel, toRefundLineModel, toRefundModel } from "./refund.model.ts";
import { findRefundLinesByRefundIds, findRefundsByOrderIds } from "./refund.repository.ts";

export function createRefundLoaders(db: Kysely<Database>) {
  return {
    refundsByOrderId: new DataLoader<string, RefundModel[]>(async (orderIds) => {
      const byOrder = new Map<string, RefundModel[]>(orderIds.map((id) => [id, []]));
      for (const row of await findRefundsByOrderIds(db, orderIds)) {
        if (row.order_id) byOrder.get(row.order_id)?.push(toRefundModel(row));
      }
      return orderIds.map((id) => byOrder.get(id) ?? []);
    }),

    /** Keyed by refund; the currency rides along so the lines can show Money. */
    refundLinesByRefund: new DataLoader<RefundModel, RefundLineModel[], string>(
      async (refunds) => {
        const byRefund = new Map<string, RefundLineModel[]>(refunds.map((refund) => [refund.id, []]));
        const currencies = new Map(refunds.map((refund) => [refund.id, refund.currencyCode]));
        for (const row of await findRefundLinesByRefundIds(
          db,
          refunds.map((refund) => refund.id),
        )) {
          byRefund.get(row.refund_id)?.push(toRefundLineModel(row, currencies.get(row.refund_id) ?? ""));
        }
        return refunds.map((refund) => byRefund.get(refund.id) ?? []);
      },
      { cacheKeyFn: (refund) => refund.id },
    ),
  };
}

export type RefundLoaders = ReturnType<typeof createRefundLoaders>;
