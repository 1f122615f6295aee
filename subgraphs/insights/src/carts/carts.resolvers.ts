import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { abandonedCarts } from "./carts.service.ts";

export const cartsResolvers: Resolvers = {
  Query: {
    abandonedCarts: (_parent, args, ctx) =>
      abandonedCarts({ db: ctx.db, storeCurrency: ctx.storeCurrency }, args),
  },
  AbandonedCart: {
    customer: (cart) => ({ id: cart.customerId }),
  },
  AbandonedCartLine: {
    product: (line) => ({ id: line.productId }),
  },
};
