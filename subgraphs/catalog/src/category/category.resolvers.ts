import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { type CategoryModel, effectiveAttributes, sortAsTree } from "./category.model.ts";
import { createCategory, updateCategory } from "./category.service.ts";

const must = (category: CategoryModel | undefined, id: string): CategoryModel => {
  // Breadcrumbs pointing at a deleted category are broken data, reported as internal.
  if (!category) throw new Error(`Category ${id} is missing.`);
  return category;
};

export const categoryResolvers: Resolvers = {
  Query: {
    categories: async (_parent, _args, ctx) => sortAsTree(await ctx.loaders.allCategories()),
    category: async (_parent, { slug }, ctx) =>
      (await ctx.loaders.allCategories()).find((c) => c.slug === slug) ?? null,
  },
  Mutation: {
    createCategory: (_parent, { input }, ctx) =>
      createCategory({ db: ctx.db, loaders: ctx.loaders, notices: ctx.notices }, input),
    updateCategory: (_parent, { input }, ctx) =>
      updateCategory({ db: ctx.db, loaders: ctx.loaders, notices: ctx.notices }, input),
  },
  Category: {
    // Categories are public, like `categories` and `category(slug:)`.
    __resolveReference: (ref, ctx) => ctx.loaders.categoryById.load(ref.id),
    description: (category) => category.description,
    parent: async (category, _args, ctx) =>
      category.parentId === null ? null : ctx.loaders.categoryById.load(category.parentId),
    children: async (category, _args, ctx) =>
      sortAsTree(await ctx.loaders.allCategories()).filter((c) => c.parentId === category.id),
    ancestors: async (category, _args, ctx) => {
      const byId = new Map((await ctx.loaders.allCategories()).map((c) => [c.id, c]));
      return [...category.ancestorIds.map((id) => must(byId.get(id), id)), category];
    },
    path: async (category, _args, ctx) => {
      const byId = new Map((await ctx.loaders.allCategories()).map((c) => [c.id, c]));
      return [...category.ancestorIds.map((id) => must(byId.get(id), id).slug), category.slug].join("/");
    },
    attributes: async (category, _args, ctx) => {
      const byId = new Map((await ctx.loaders.allCategories()).map((c) => [c.id, c]));
      return effectiveAttributes(category, byId);
    },
  },
};
