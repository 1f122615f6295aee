import type { Resolvers } from "../__generated__/resolvers-types.ts";
import {
  basketRecommendations,
  frequentlyBoughtTogether,
  recommendedProducts,
  trendingProducts,
} from "./recommendations.service.ts";

const stubs = (ids: string[]) => ids.map((id) => ({ id }));

export const recommendationsResolvers: Resolvers = {
  Query: {
    basketRecommendations: async (_parent, { productIds, first }, ctx) =>
      stubs(await basketRecommendations({ db: ctx.db, loaders: ctx.modelLoaders }, productIds, first)),
    trendingProducts: async (_parent, { first, window }, ctx) =>
      stubs(await trendingProducts({ db: ctx.db, loaders: ctx.modelLoaders }, first, window)),
  },
  Product: {
    frequentlyBoughtTogether: async (product, { first }, ctx) =>
      stubs(await frequentlyBoughtTogether({ loaders: ctx.modelLoaders }, product.id, first)),
  },
  User: {
    recommendedProducts: async (user, { first }, ctx) =>
      stubs(await recommendedProducts({ db: ctx.db, loaders: ctx.modelLoaders }, ctx.viewer, user.id, first)),
  },
};
