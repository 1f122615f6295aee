import { requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { publishCommittedEvents } from "../order/order.service.ts";
import { refundOrder } from "./refund.service.ts";

/** Refunds are staff's to make; whoever sees an order (its customer, staff) sees its refunds. */
export const refundResolvers: Resolvers = {
  Mutation: {
    refundOrder: async (_parent, { input }, ctx) => {
      const result = await refundOrder(
        { db: ctx.db, payments: ctx.payments },
        requireViewer(ctx.viewer),
        input,
      );
      ctx.loaders.orderById.prime(result.order.id, result.order);
      if (result.userErrors.length === 0) {
        publishCommittedEvents({ relay: ctx.relay, logger: ctx.logger }, result.order.id);
      }
      return result;
    },
  },
  Order: {
    refunds: (order, _args, ctx) => ctx.loaders.refundsByOrderId.load(order.id),
    amountRefunded: async (order, _args, ctx) => ({
      amount: (await ctx.loaders.refundsByOrderId.load(order.id)).reduce(
        (sum, refund) => sum + refund.amount,
        0,
      ),
      currencyCode: order.currencyCode,
    }),
  },
  Refund: {
    amount: (refund) => ({ amount: refund.amount, currencyCode: refund.currencyCode }),
    lines: (refund, _args, ctx) => ctx.loaders.refundLinesByRefund.load(refund),
  },
  RefundLine: {
    product: (line) => ({ id: line.productId }),
    unitPrice: (line) => ({ amount: line.unitAmount, currencyCode: line.currencyCode }),
  },
};
