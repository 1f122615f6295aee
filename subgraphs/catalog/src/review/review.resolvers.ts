import { badUserInput, hasScope, isObjectIdHex, requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { canSeeProduct } from "../access.ts";
import type { Context } from "../context.ts";
import type { ReviewStatus } from "../db/collections.ts";
import { listReviews } from "./review.listing.ts";
import {
  addReview,
  markReviewHelpful,
  moderateReview,
  type ReviewDeps,
  unmarkReviewHelpful,
} from "./review.service.ts";

const reviewDeps = (ctx: Context): ReviewDeps => ({
  db: ctx.db,
  cache: ctx.cache,
  search: ctx.search,
  loaders: ctx.loaders,
  settings: ctx.reviews,
});

export const reviewResolvers: Resolvers = {
  Query: {
    reviews: async (_parent, { filter, first, after, last, before, sort }, ctx) => {
      const productId = filter?.productId ?? undefined;
      if (productId !== undefined && !isObjectIdHex(productId)) {
        throw badUserInput("productId is not a product id.", "filter.productId");
      }
      const status: ReviewStatus = filter?.status ?? "PENDING";
      return listReviews(
        { db: ctx.db },
        { status, productId: productId?.toLowerCase() },
        { first, after, last, before, sort },
      );
    },
  },
  Mutation: {
    addReview: async (_parent, { input }, ctx) =>
      addReview(reviewDeps(ctx), requireViewer(ctx.viewer), input),
    moderateReview: async (_parent, { input }, ctx) =>
      moderateReview(reviewDeps(ctx), requireViewer(ctx.viewer), input),
    markReviewHelpful: async (_parent, { input }, ctx) =>
      markReviewHelpful(reviewDeps(ctx), requireViewer(ctx.viewer), input),
    unmarkReviewHelpful: async (_parent, { input }, ctx) =>
      unmarkReviewHelpful(reviewDeps(ctx), requireViewer(ctx.viewer), input),
  },
  Review: {
    __resolveReference: async (ref, ctx) => {
      const review = await ctx.loaders.reviewById.load(ref.id);
      if (!review) return null;
      if (review.authorId === ctx.viewer?.userId || hasScope(ctx.viewer, "reviews:moderate")) return review;
      // Anyone else sees what a product page shows: approved reviews of a product they may see.
      if (review.status !== "APPROVED") return null;
      const product = await ctx.loaders.productById.load(review.productId);
      return product && canSeeProduct(ctx.viewer, product.status) ? review : null;
    },
    // No `canSeeProduct` here: a review is reached through its product (`reviews`,
    // `viewerReview`), by `addReview` of an ACTIVE product, or by moderators, who must see
    // what they moderate whatever its status.
    product: async (review, _args, ctx) => {
      const product = await ctx.loaders.productById.load(review.productId);
      if (!product) throw new Error(`Product ${review.productId} of review ${review.id} is missing.`);
      return product;
    },
    author: (review) => ({ id: review.authorId }),
    viewerMarkedHelpful: (review, _args, ctx) => ctx.loaders.viewerHelpfulVoteByReviewId.load(review.id),
  },
};
