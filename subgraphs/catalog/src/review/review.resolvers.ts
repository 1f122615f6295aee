import { badUserInput, isObjectIdHex, requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import type { ReviewStatus } from "../db/collections.ts";
import { listReviews } from "./review.listing.ts";
import { addReview, moderateReview } from "./review.service.ts";

export const reviewResolvers: Resolvers = {
  Query: {
    reviews: async (_parent, { filter, first, after }, ctx) => {
      const productId = filter?.productId ?? undefined;
      if (productId !== undefined && !isObjectIdHex(productId)) {
        throw badUserInput("productId is not a product id.", "filter.productId");
      }
      const status: ReviewStatus = filter?.status ?? "PENDING";
      return listReviews({ db: ctx.db }, { status, productId: productId?.toLowerCase() }, { first, after });
    },
  },
  Mutation: {
    addReview: async (_parent, { input }, ctx) =>
      addReview({ db: ctx.db, cache: ctx.cache, loaders: ctx.loaders }, requireViewer(ctx.viewer), input),
    moderateReview: async (_parent, { input }, ctx) =>
      moderateReview(
        { db: ctx.db, cache: ctx.cache, loaders: ctx.loaders },
        requireViewer(ctx.viewer),
        input,
      ),
  },
  Review: {
    // No `canSeeProduct` here: a review is reached through its product (`reviews`,
    // `viewerReview`), by `addReview` of an ACTIVE product, or by moderators, who must see
    // what they moderate whatever its status.
    product: async (review, _args, ctx) => {
      const product = await ctx.loaders.productById.load(review.productId);
      if (!product) throw new Error(`Product ${review.productId} of review ${review.id} is missing.`);
      return product;
    },
    author: (review) => ({ id: review.authorId }),
  },
};
