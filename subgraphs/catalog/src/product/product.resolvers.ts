import { badUserInput } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { canSeeProduct } from "../access.ts";
import { effectiveAttributes } from "../category/category.model.ts";
import type { Context } from "../context.ts";
import { listReviews } from "../review/review.resolvers.ts";
import { queryWords, relevance } from "../search/text.ts";
import { listProductFeed } from "./product.feed.ts";
import { listProducts } from "./product.listing.ts";
import { type ProductModel, toProductModel } from "./product.model.ts";
import { findProductBySlug } from "./product.repository.ts";
import { archiveProduct, createProduct, updateProduct } from "./product.service.ts";

/** The product, or null when the viewer may not see it (`canSeeProduct`), as if it did not exist. */
const visible = (product: ProductModel | null, ctx: Context): ProductModel | null =>
  product && canSeeProduct(ctx.viewer, product.status) ? product : null;

async function productByIdOrSlug(
  args: { id?: string | null; slug?: string | null },
  ctx: Context,
): Promise<ProductModel | null> {
  const hasId = args.id !== null && args.id !== undefined;
  const hasSlug = args.slug !== null && args.slug !== undefined;
  if (hasId === hasSlug) throw badUserInput("Give exactly one of id and slug.", hasId ? "slug" : "id");
  if (hasId) return visible(await ctx.loaders.productById.load(args.id ?? ""), ctx);
  const doc = await findProductBySlug(ctx.db, args.slug ?? "");
  return visible(doc ? toProductModel(doc) : null, ctx);
}

const MAX_SUGGESTIONS = 20;
const SUGGESTION_CANDIDATES = 200;

/**
 * Type-ahead: every typed word must prefix-match some word of the product. Ranked in code
 * (names that start with the typed text, then relevance, then popularity); the page is then
 * read through `productById`, so repeated suggestions are served from the cache.
 */
async function suggest(prefix: string, first: number | null | undefined, ctx: Context) {
  const limit = first ?? 8;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SUGGESTIONS) {
    throw badUserInput(`first must be between 1 and ${MAX_SUGGESTIONS}.`, "first");
  }
  const words = queryWords(prefix);
  if (words.length === 0) throw badUserInput("prefix must contain a letter or a digit.", "prefix");
  const typed = words.join(" ");
  const candidates = await ctx.db.products
    .find(
      { status: "ACTIVE", $and: words.map((word) => ({ searchTerms: { $regex: `^${word}` } })) },
      { projection: { _id: 1, nameKey: 1, searchTerms: 1, "rating.count": 1 } },
    )
    .limit(SUGGESTION_CANDIDATES)
    .toArray();
  const ranked = candidates
    .map((c) => ({
      id: c._id.toHexString(),
      starts: c.nameKey.startsWith(typed) ? 1 : 0,
      score: relevance(c, words),
      count: c.rating?.count ?? 0,
      name: c.nameKey,
    }))
    .sort(
      (a, b) =>
        b.starts - a.starts ||
        b.score - a.score ||
        b.count - a.count ||
        a.name.localeCompare(b.name) ||
        a.id.localeCompare(b.id),
    )
    .slice(0, limit);
  const products = await ctx.loaders.productById.loadMany(ranked.map((r) => r.id));
  return products.filter((p): p is ProductModel => p !== null && !(p instanceof Error));
}

export const productResolvers: Resolvers = {
  Query: {
    product: (_parent, args, ctx) => productByIdOrSlug(args, ctx),
    products: (_parent, args, ctx, info) => listProducts(args, ctx, info),
    productFeed: (_parent, args, ctx) => listProductFeed(args, ctx),
    productSuggestions: (_parent, { prefix, first }, ctx) => suggest(prefix, first, ctx),
  },
  Mutation: {
    createProduct: (_parent, { input }, ctx) => createProduct(ctx, input),
    updateProduct: (_parent, { input }, ctx) => updateProduct(ctx, input),
    archiveProduct: (_parent, { input }, ctx) => archiveProduct(ctx, input.id),
  },
  ProductConnection: {
    totalCount: (connection) => connection.totalCount(),
    facets: (connection) => connection.facets(),
  },
  ProductFeedConnection: {
    totalCount: (connection) => connection.totalCount(),
  },
  Product: {
    // The same rule as `product(id)`: the gateway forwards the viewer's token, and orders' own
    // pricing calls carry none, so a product that is not ACTIVE is never priced or sold.
    __resolveReference: async (ref, ctx) => visible(await ctx.loaders.productById.load(ref.id), ctx),
    category: async (product, _args, ctx) => {
      const category = await ctx.loaders.categoryById.load(product.categoryId);
      // The field is non-null: a product whose category is gone is broken data, reported as internal.
      if (!category) throw new Error(`Category ${product.categoryId} of product ${product.id} is missing.`);
      return category;
    },
    attributes: async (product, _args, ctx) => {
      const tree = await ctx.loaders.allCategories();
      const byId = new Map(tree.map((c) => [c.id, c]));
      const category = byId.get(product.categoryId);
      const definitions = category ? effectiveAttributes(category, byId) : [];
      return product.attributes.map(({ name, value }) => {
        const definition = definitions.find((d) => d.name === name);
        // Definitions may have changed since the product was written; the value is still shown.
        return {
          name,
          value,
          type: definition?.type ?? "TEXT",
          label: definition?.label ?? name,
          unit: definition?.unit ?? null,
        };
      });
    },
    rating: (product) => ({
      average: Math.round(product.rating.average * 100) / 100,
      count: product.rating.count,
    }),
    reviews: (product, { first, after }, ctx) =>
      listReviews(ctx, { status: "APPROVED", productId: product.id }, { first, after }),
    viewerReview: (product, _args, ctx) =>
      ctx.viewer ? ctx.loaders.viewerReviewByProductId.load(product.id) : null,
  },
};
