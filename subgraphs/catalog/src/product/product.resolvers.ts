import { badUserInput } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { canSeeProduct } from "../access.ts";
import { effectiveAttributes } from "../category/category.model.ts";
import type { Context } from "../context.ts";
import { listReviews } from "../review/review.listing.ts";
import { listProductFeed } from "./product.feed.ts";
import { listProducts, suggestProducts, suggestSearch } from "./product.listing.ts";
import type { ProductModel } from "./product.model.ts";
import { archiveProduct, createProduct, updateProduct } from "./product.service.ts";
import { importProducts } from "./product-import.service.ts";

/** The product, or null when the viewer may not see it (`canSeeProduct`), as if it did not exist. */
const visible = (product: ProductModel | null, ctx: Context): ProductModel | null =>
  product && canSeeProduct(ctx.viewer, product.status) ? product : null;

async function productByKey(
  args: { id?: string | null; slug?: string | null; sku?: string | null },
  ctx: Context,
): Promise<ProductModel | null> {
  const given = (["id", "slug", "sku"] as const).filter(
    (key) => args[key] !== null && args[key] !== undefined,
  );
  if (given.length !== 1) {
    throw badUserInput("Give exactly one of id, slug and sku.", given[1] ?? "id");
  }
  if (args.id !== null && args.id !== undefined)
    return visible(await ctx.loaders.productById.load(args.id), ctx);
  if (args.slug !== null && args.slug !== undefined) {
    return visible(await ctx.loaders.productBySlug.load(args.slug), ctx);
  }
  return visible(await ctx.loaders.productBySku.load((args.sku ?? "").trim().toUpperCase()), ctx);
}

/** The pieces of the context the product services take. */
const productDeps = (ctx: Context) => ({
  db: ctx.db,
  cache: ctx.cache,
  search: ctx.search,
  loaders: ctx.loaders,
  storeCurrency: ctx.storeCurrency,
});

export const productResolvers: Resolvers = {
  Query: {
    product: (_parent, args, ctx) => productByKey(args, ctx),
    products: (_parent, args, ctx, info) => listProducts(productDeps(ctx), ctx.viewer, args, info),
    productFeed: (_parent, args, ctx) => listProductFeed(productDeps(ctx), args),
    productSuggestions: (_parent, { prefix, first }, ctx) => suggestProducts(productDeps(ctx), prefix, first),
    searchSuggestions: (_parent, { prefix, first }, ctx) => suggestSearch(productDeps(ctx), prefix, first),
  },
  Mutation: {
    // `catalog:write` is checked by the schema's @requiresScopes before this runs.
    reindexCatalog: (_parent, _args, ctx) => ctx.search.reindex(),
    createProduct: (_parent, { input }, ctx) => createProduct(productDeps(ctx), input),
    updateProduct: (_parent, { input }, ctx) => updateProduct(productDeps(ctx), input),
    archiveProduct: (_parent, { input }, ctx) => archiveProduct(productDeps(ctx), input.id),
    importProducts: (_parent, { input }, ctx) => importProducts(productDeps(ctx), input),
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
    reviews: (product, { first, after, last, before, sort }, ctx) =>
      listReviews(
        { db: ctx.db },
        { status: "APPROVED", productId: product.id },
        { first, after, last, before, sort },
      ),
    viewerReview: (product, _args, ctx) =>
      ctx.viewer ? ctx.loaders.viewerReviewByProductId.load(product.id) : null,
  },
};
