import { forbidden, hasScope, type Money, requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import type { CartLineModel, CartModel } from "./cart.model.ts";
import {
  addToCart,
  type CartDeps,
  clearCart,
  getCart,
  getCustomerCart,
  mergeGuestCart,
  removeCartLine,
  updateCartLine,
} from "./cart.service.ts";

/** A cart is its owner's; staff who read any order (support) may read it too. */
async function cartOf(customerId: string, ctx: Context): Promise<CartModel> {
  const viewer = requireViewer(ctx.viewer);
  if (viewer.userId !== customerId && !hasScope(viewer, "orders:read:any")) {
    throw forbidden("Only the account holder may see this cart.");
  }
  return getCustomerCart({ carts: ctx.carts }, customerId);
}

/** The pieces of the context the cart services take. */
const cartDeps = (ctx: Context): CartDeps => ({
  db: ctx.db,
  relay: ctx.relay,
  carts: ctx.carts,
  loaders: ctx.loaders,
  logger: ctx.logger,
  requestId: ctx.requestId,
  storeCurrency: ctx.storeCurrency,
});

/** The line's product as the catalog sells it now, or null when it no longer sells it. */
const forSale = (line: CartLineModel, ctx: Context) => ctx.loaders.catalogProductById.load(line.productId);

async function unitPrice(line: CartLineModel, ctx: Context): Promise<Money | null> {
  return (await forSale(line, ctx))?.price ?? null;
}

export const cartResolvers: Resolvers = {
  Query: {
    cart: (_parent, { cartToken }, ctx) => getCart({ carts: ctx.carts }, { viewer: ctx.viewer, cartToken }),
  },
  Mutation: {
    addToCart: (_parent, { input }, ctx) =>
      addToCart(cartDeps(ctx), { viewer: ctx.viewer, cartToken: input.cartToken }, input),
    updateCartLine: (_parent, { input }, ctx) =>
      updateCartLine(cartDeps(ctx), { viewer: ctx.viewer, cartToken: input.cartToken }, input),
    removeCartLine: (_parent, { input }, ctx) =>
      removeCartLine(cartDeps(ctx), { viewer: ctx.viewer, cartToken: input.cartToken }, input),
    clearCart: (_parent, { input }, ctx) =>
      clearCart(cartDeps(ctx), { viewer: ctx.viewer, cartToken: input?.cartToken }),
    mergeGuestCart: (_parent, { input }, ctx) =>
      mergeGuestCart(cartDeps(ctx), requireViewer(ctx.viewer), input),
  },
  Cart: {
    /**
     * In the store currency, even for an empty cart. Lines no longer sold are left out, and so
     * are lines priced in another currency (from before STORE_CURRENCY changed), which checkout
     * refuses: the subtotal is what the cart would cost.
     */
    subtotal: async (cart, _args, ctx) => {
      const products = await Promise.all(cart.lines.map((line) => forSale(line, ctx)));
      let amount = 0;
      cart.lines.forEach((line, i) => {
        const price = products[i]?.price;
        if (price?.currencyCode === ctx.storeCurrency) amount += price.amount * line.quantity;
      });
      return { amount, currencyCode: ctx.storeCurrency };
    },
    totalQuantity: (cart) => cart.lines.reduce((sum, line) => sum + line.quantity, 0),
  },
  CartLine: {
    // Null rather than a reference the catalog would refuse to resolve for a shopper: the line
    // stays, with its productId, so it can be shown as unavailable and removed.
    product: async (line, _args, ctx) => ((await forSale(line, ctx)) ? { id: line.productId } : null),
    available: async (line, _args, ctx) => (await forSale(line, ctx)) !== null,
    unitPrice: (line, _args, ctx) => unitPrice(line, ctx),
    availableQuantity: (line, _args, ctx) => ctx.loaders.availableByProductId.load(line.productId),
    exceedsAvailable: async (line, _args, ctx) => {
      const available = await ctx.loaders.availableByProductId.load(line.productId);
      return available === null ? null : line.quantity > available;
    },
    lineTotal: async (line, _args, ctx) => {
      const price = await unitPrice(line, ctx);
      return price ? { amount: price.amount * line.quantity, currencyCode: price.currencyCode } : null;
    },
  },
};

/** The field cart adds to User; resolvers.ts merges it with the other modules'. */
export const userCartResolvers: NonNullable<Resolvers["User"]> = {
  cart: (user, _args, ctx) => cartOf(user.id, ctx),
};
