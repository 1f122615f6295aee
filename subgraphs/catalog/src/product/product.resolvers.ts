import {
  badUserInput,
  type Connection,
  decodeCursor,
  encodeCursor,
  isObjectIdHex,
  pageSize,
  toConnection,
} from "@nexus/core";
import type { QueryProductsArgs, Resolvers } from "../__generated__/resolvers-types.ts";
import { toCategoryModel } from "../category/category.model.ts";
import { findCategoryBySlug } from "../category/category.repository.ts";
import type { Context } from "../context.ts";
import { type ProductModel, toProductModel } from "./product.model.ts";
import { countProducts, findProductsNewestFirst } from "./product.repository.ts";

const cursorOf = (product: ProductModel): string => encodeCursor([product.id]);

/** The id inside an `after` cursor; anything this field did not hand out is BAD_USER_INPUT. */
function afterId(after: string | null | undefined): string | undefined {
  const values = decodeCursor(after, 1);
  if (values === null) return undefined;
  const [id] = values;
  if (typeof id !== "string" || !isObjectIdHex(id)) {
    throw badUserInput("after is not a cursor returned by this field.", "after");
  }
  return id;
}

async function listProducts(args: QueryProductsArgs, ctx: Context): Promise<Connection<ProductModel>> {
  const first = pageSize(args.first);
  const after = afterId(args.after);
  let categoryId: string | undefined;
  if (args.category !== null && args.category !== undefined) {
    const doc = await findCategoryBySlug(ctx.db, args.category);
    // No such category means no product can be in it: an empty page, not an error.
    if (!doc) return toConnection([], first, 0, cursorOf, after !== undefined);
    const category = toCategoryModel(doc);
    // Every product on this page is in this category, so `category` needs no further query.
    ctx.loaders.categoryById.prime(category.id, category);
    categoryId = category.id;
  }
  const [docs, totalCount] = await Promise.all([
    findProductsNewestFirst(ctx.db, { categoryId, afterId: after, limit: first + 1 }),
    countProducts(ctx.db, { categoryId }),
  ]);
  return toConnection(docs.map(toProductModel), first, totalCount, cursorOf, after !== undefined);
}

export const productResolvers: Resolvers = {
  Query: {
    product: (_parent, { id }, ctx) => ctx.loaders.productById.load(id),
    products: (_parent, args, ctx) => listProducts(args, ctx),
  },
  Product: {
    __resolveReference: (ref, ctx) => ctx.loaders.productById.load(ref.id),
    category: async (product, _args, ctx) => {
      const category = await ctx.loaders.categoryById.load(product.categoryId);
      // The field is non-null: a product whose category is gone is broken data, reported as internal.
      if (!category) throw new Error(`Category ${product.categoryId} of product ${product.id} is missing.`);
      return category;
    },
  },
};
