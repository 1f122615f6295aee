import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { topProducts } from "./sales.service.ts";

export const salesResolvers: Resolvers = {
  Query: {
    topProducts: (_parent, { first }, ctx) => topProducts({ db: ctx.db }, first),
  },
  ProductSales: {
    product: (sales) => ({ id: sales.productId }),
  },
};
