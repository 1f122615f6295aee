import type { Resolvers } from "../__generated__/resolvers-types.ts";
import {
  basketRecommendations,
  frequentlyBoughtTogether,
  recommendedProducts,
  trendingProducts,
} from "./recommendations.service.ts";

const stubs = (ids: string[]) => ids.map((id) => ({ id }));

export const recommendationsResolvers: Resolvers = {
  Mutation: {
    refreshRecommendations: async (_parent, _args, ctx) => {
      await ctx.recommendationsRefresh.requestNow();
      return { queued: true, userErrors: [] };
    },
  },
  Query: {
    basketRecommendations: async (_parent, { productIds, first }, ctx) =>
      stubs(await basketRecommendations({ db: ctx.db, loaders: ctx.loaders }, productIds, first)),
    trendingProducts: async (_parent, { first, window }, ctx) =>
      stubs(await trendingProducts({ db: ctx.db, loaders: ctx.loaders }, first, window)),
  },
  Product: {
    frequentlyBoughtTogether: async (product, { first }, ctx) =>
      stubs(await frequentlyBoughtTogether({ loaders: ctx.loaders }, product.id, first)),
  },
  User: {
    recommendedProducts: async (user, { first }, ctx) =>
      stubs(await recommendedProducts({ db: ctx.db, loaders: ctx.loaders }, ctx.viewer, user.id, first)),
  },
};
