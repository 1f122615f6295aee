import { hasScope } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { ppmToPercent } from "../pricing/pricing.ts";
import { createDiscount, findDiscount, listDiscounts, updateDiscount } from "./discount.service.ts";

/** Staff's discounts; `@requiresScopes(discounts:manage)` in the SDL guards every root field. */
export const discountResolvers: Resolvers = {
  Query: {
    discounts: (_parent, args, ctx) => listDiscounts(ctx.db, args),
    discount: (_parent, { id }, ctx) => findDiscount(ctx.db, id),
  },
  Mutation: {
    createDiscount: (_parent, { input }, ctx) => createDiscount(ctx.db, input),
    updateDiscount: (_parent, { input }, ctx) => updateDiscount(ctx.db, input),
  },
  Discount: {
    // As `discount(id:)`: staff with `discounts:manage` only; anyone else gets null.
    __resolveReference: async (ref, ctx) =>
      hasScope(ctx.viewer, "discounts:manage") ? ctx.loaders.discountById.load(ref.id) : null,
    percentOff: (discount) => (discount.percentPpm === null ? null : ppmToPercent(discount.percentPpm)),
    amountOff: (discount, _args, ctx) =>
      discount.amount === null ? null : { amount: discount.amount, currencyCode: ctx.storeCurrency },
    minimumSubtotal: (discount, _args, ctx) =>
      discount.minimumSubtotal === null
        ? null
        : { amount: discount.minimumSubtotal, currencyCode: ctx.storeCurrency },
    categoryIds: (discount) => [...discount.categoryIds],
    productIds: (discount) => [...discount.productIds],
  },
};
