import { forbidden, hasScope, type Money, requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import type { Quote } from "../pricing/pricing.service.ts";
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
import {
  applyDiscountCode,
  type CartPricingDeps,
  quoteCart,
  removeDiscountCode,
  selectShippingMethod,
  setCartShippingAddress,
} from "./cart-pricing.service.ts";

/** A cart is its owner's; staff who read any order (support) may read it too. */
async function cartOf(customerId: string, ctx: Context): Promise<CartModel> {
  const viewer = requireViewer(ctx.viewer);
  if (viewer.userId !== customerId && !hasScope(viewer, "orders:read:any")) {
    throw forbidden("Only the account holder may see this cart.");
  }
  return getCustomerCart({ carts: ctx.carts }, customerId);
}

/** The pieces of the context the cart services take. */
const cartDeps = (ctx: Context): CartDeps & CartPricingDeps => ({
  db: ctx.db,
  relay: ctx.relay,
  carts: ctx.carts,
  loaders: ctx.loaders,
  logger: ctx.logger,
  requestId: ctx.requestId,
  storeCurrency: ctx.storeCurrency,
  pricesIncludeTax: ctx.pricesIncludeTax,
});

/** One pricing per cart read: every field of the cart and its lines shares it. */
const quotes = new WeakMap<CartModel, Promise<Quote>>();
function quoteOf(cart: CartModel, ctx: Context): Promise<Quote> {
  let quoted = quotes.get(cart);
  if (!quoted) {
    quoted = quoteCart(cartDeps(ctx), cart);
    quotes.set(cart, quoted);
  }
  return quoted;
}

const money = (amount: number, ctx: Context) => ({ amount, currencyCode: ctx.storeCurrency });

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
    applyDiscountCode: (_parent, { input }, ctx) =>
      applyDiscountCode(cartDeps(ctx), { viewer: ctx.viewer, cartToken: input.cartToken }, input),
    removeDiscountCode: (_parent, { input }, ctx) =>
      removeDiscountCode(cartDeps(ctx), { viewer: ctx.viewer, cartToken: input?.cartToken }),
    setCartShippingAddress: (_parent, { input }, ctx) =>
      setCartShippingAddress(cartDeps(ctx), { viewer: ctx.viewer, cartToken: input.cartToken }, input),
    selectShippingMethod: (_parent, { input }, ctx) =>
      selectShippingMethod(cartDeps(ctx), { viewer: ctx.viewer, cartToken: input.cartToken }, input),
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
    lines: (cart) => cart.lines.map((line) => ({ ...line, cart })),
    discountCode: (cart) => cart.settings.discountCode,
    discounts: async (cart, _args, ctx) =>
      (await quoteOf(cart, ctx)).pricing.discounts.map((discount) => ({
        code: discount.rule.code,
        title: discount.rule.title,
        kind: discount.rule.kind,
        amount: money(discount.amount + discount.shippingAmount, ctx),
        lines: discount.lines.map((line) => ({ productId: line.productId, amount: money(line.amount, ctx) })),
        shippingAmount: money(discount.shippingAmount, ctx),
      })),
    discountTotal: async (cart, _args, ctx) => money((await quoteOf(cart, ctx)).pricing.discountTotal, ctx),
    shippingAddress: (cart) => cart.settings.shippingAddress,
    shippingOptions: async (cart, _args, ctx) =>
      ((await quoteOf(cart, ctx)).shippingOptions ?? []).map(({ method, price }) => ({
        id: method.id,
        name: method.name,
        zoneName: method.zoneName,
        price: money(price, ctx),
      })),
    shippingMethod: async (cart, _args, ctx) => {
      const shipping = (await quoteOf(cart, ctx)).pricing.shipping;
      return shipping
        ? {
            id: shipping.method.id,
            name: shipping.method.name,
            zoneName: shipping.method.zoneName,
            price: money(shipping.amount, ctx),
          }
        : null;
    },
    shippingTotal: async (cart, _args, ctx) => money((await quoteOf(cart, ctx)).pricing.shippingTotal, ctx),
    taxTotal: async (cart, _args, ctx) => money((await quoteOf(cart, ctx)).pricing.taxTotal, ctx),
    pricesIncludeTax: (_cart, _args, ctx) => ctx.pricesIncludeTax,
    total: async (cart, _args, ctx) => money((await quoteOf(cart, ctx)).pricing.total, ctx),
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
    discount: async (line, _args, ctx) => {
      const priced = (await quoteOf(line.cart, ctx)).pricing.lines.find(
        (l) => l.productId === line.productId,
      );
      return priced ? money(priced.discount, ctx) : null;
    },
    tax: async (line, _args, ctx) => {
      const priced = (await quoteOf(line.cart, ctx)).pricing.lines.find(
        (l) => l.productId === line.productId,
      );
      return priced ? money(priced.tax, ctx) : null;
    },
  },
};

/** The field cart adds to User; resolvers.ts merges it with the other modules'. */
export const userCartResolvers: NonNullable<Resolvers["User"]> = {
  cart: (user, _args, ctx) => cartOf(user.id, ctx),
};
