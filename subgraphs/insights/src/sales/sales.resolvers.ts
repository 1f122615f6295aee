import type { Resolvers } from "../__generated__/resolvers-types.ts";
import {
  categoryPerformance,
  productPerformance,
  salesOverview,
  salesTrend,
  topProducts,
} from "./sales.service.ts";

export const salesResolvers: Resolvers = {
  Query: {
    topProducts: (_parent, { first }, ctx) => topProducts({ db: ctx.db }, first),
    salesOverview: (_parent, args, ctx) =>
      salesOverview({ db: ctx.db, storeCurrency: ctx.storeCurrency }, args),
    salesTrend: (_parent, args, ctx) => salesTrend({ db: ctx.db, storeCurrency: ctx.storeCurrency }, args),
    productPerformance: (_parent, args, ctx) =>
      productPerformance({ db: ctx.db, storeCurrency: ctx.storeCurrency }, args),
    categoryPerformance: (_parent, args, ctx) =>
      categoryPerformance({ db: ctx.db, storeCurrency: ctx.storeCurrency }, args),
  },
  ProductSales: {
    product: (sales) => ({ id: sales.productId }),
  },
  ProductPerformance: {
    product: (row) => ({ id: row.productId }),
  },
};
