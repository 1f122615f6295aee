import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { toCategoryModel } from "./category.model.ts";
import { findAllCategories } from "./category.repository.ts";

export const categoryResolvers: Resolvers = {
  Query: {
    categories: async (_parent, _args, ctx) => (await findAllCategories(ctx.db)).map(toCategoryModel),
  },
};
