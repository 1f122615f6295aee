import { pageSize } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { toProductSalesModel } from "./sales.model.ts";
import { findTopProducts } from "./sales.repository.ts";

export const salesResolvers: Resolvers = {
  Query: {
    topProducts: async (_parent, { first }, ctx) =>
      (await findTopProducts(ctx.db, pageSize(first, 10))).map(toProductSalesModel),
  },
  ProductSales: {
    product: (sales) => ({ id: sales.productId }),
  },
};
