import { unauthenticated } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { mergeGuestCart } from "../cart/cart.service.ts";
import { type Buyer, channelOf, checkout } from "./checkout.service.ts";

export const checkoutResolvers: Resolvers = {
  Mutation: {
    checkout: async (_parent, { input }, ctx) => {
      const viewer = ctx.viewer;
      let buyer: Buyer;
      if (viewer) {
        // Signed in with a guest cart's token: its lines join the customer's cart, which is what is bought.
        if (input.cartToken) {
          await mergeGuestCart(
            {
              db: ctx.db,
              relay: ctx.relay,
              carts: ctx.carts,
              loaders: ctx.loaders,
              logger: ctx.logger,
              requestId: ctx.requestId,
              storeCurrency: ctx.storeCurrency,
            },
            viewer,
            { cartToken: input.cartToken },
          );
        }
        buyer = { customerId: viewer.userId };
      } else if (ctx.guestCheckout) {
        buyer = { guest: true };
      } else {
        throw unauthenticated("Sign in to check out: this store does not take guest orders.");
      }
      const deps = {
        db: ctx.db,
        catalog: ctx.catalog,
        carts: ctx.carts,
        payments: ctx.payments,
        relay: ctx.relay,
        logger: ctx.logger,
        users: ctx.users,
        requireVerifiedEmail: ctx.requireVerifiedEmail,
        storeCurrency: ctx.storeCurrency,
        pricesIncludeTax: ctx.pricesIncludeTax,
      };
      const result = await checkout(deps, buyer, input, {
        requestId: ctx.requestId,
        authorization: ctx.authorization,
        emailVerified: viewer?.emailVerified,
        channel: channelOf(viewer),
      });
      if (!result.ok) return { order: null, userErrors: result.userErrors };
      // The payload usually asks for the new order's lines: when they are in hand, no query for them.
      ctx.loaders.orderById.prime(result.order.id, result.order);
      if (result.lines) ctx.loaders.linesByOrderId.prime(result.order.id, result.lines);
      return { order: result.order, userErrors: [] };
    },
  },
};
