import type { Resolvers } from "../__generated__/resolvers-types.ts";

export const stockResolvers: Resolvers = {
  Product: {
    // Catalog owns products; inventory knows any id, and one it never stocked has nothing available.
    __resolveReference: (ref) => ({ id: ref.id }),
    inventory: (product, _args, ctx) => ctx.loaders.stockByProductId.load(product.id),
  },
};
