import { requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { checkout } from "./checkout.service.ts";

export const checkoutResolvers: Resolvers = {
  Mutation: {
    checkout: async (_parent, { input }, ctx) => {
      const viewer = requireViewer(ctx.viewer);
      const deps = {
        db: ctx.db,
        catalog: ctx.catalog,
        carts: ctx.carts,
        payments: ctx.payments,
        relay: ctx.relay,
        logger: ctx.logger,
        users: ctx.users,
        requireVerifiedEmail: ctx.requireVerifiedEmail,
      };
      const result = await checkout(deps, viewer.userId, input, {
        requestId: ctx.requestId,
        authorization: ctx.authorization,
        emailVerified: viewer.emailVerified,
      });
      if (!result.ok) return { order: null, userErrors: result.userErrors };
      // The payload usually asks for the new order's lines: when they are in hand, no query for them.
      ctx.loaders.orderById.prime(result.order.id, result.order);
      if (result.lines) ctx.loaders.linesByOrderId.prime(result.order.id, result.lines);
      return { order: result.order, userErrors: [] };
    },
  },
};
