import {
  badUserInput,
  type Connection,
  cursorPart,
  decodeCursor,
  encodeCursor,
  isObjectIdHex,
  pageSize,
  requireViewer,
} from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import type { ReviewStatus } from "../db/collections.ts";
import { type ReviewModel, toReviewModel } from "./review.model.ts";
import { countReviews, findReviewPage, type ReviewQuery } from "./review.repository.ts";
import { addReview, moderateReview } from "./review.service.ts";

const cursorOf = (review: ReviewModel): string => encodeCursor([review.submittedAt.getTime(), review.id]);

function afterOf(after: string | null | undefined): { submittedAt: Date; id: string } | undefined {
  const values = decodeCursor(after, 2);
  if (values === null) return undefined;
  const [time, id] = values;
  const submittedAt = cursorPart.epochMillis(time);
  if (submittedAt === undefined || typeof id !== "string" || !isObjectIdHex(id)) {
    throw badUserInput("after is not a cursor returned by this field.", "after");
  }
  return { submittedAt, id };
}

/** A page of reviews newest first: one find for the page and one count. */
export async function listReviews(
  ctx: Context,
  query: ReviewQuery,
  args: { first?: number | null; after?: string | null },
): Promise<Connection<ReviewModel>> {
  const first = pageSize(args.first);
  const after = afterOf(args.after);
  const [docs, totalCount] = await Promise.all([
    findReviewPage(ctx.db, query, { after, limit: first + 1 }),
    countReviews(ctx.db, query),
  ]);
  const edges = docs.slice(0, first).map((doc) => {
    const node = toReviewModel(doc);
    return { cursor: cursorOf(node), node };
  });
  return {
    edges,
    totalCount,
    pageInfo: {
      hasNextPage: docs.length > first,
      hasPreviousPage: after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

export const reviewResolvers: Resolvers = {
  Query: {
    reviews: async (_parent, { filter, first, after }, ctx) => {
      const productId = filter?.productId ?? undefined;
      if (productId !== undefined && !isObjectIdHex(productId)) {
        throw badUserInput("productId is not a product id.", "filter.productId");
      }
      const status: ReviewStatus = filter?.status ?? "PENDING";
      return listReviews(ctx, { status, productId: productId?.toLowerCase() }, { first, after });
    },
  },
  Mutation: {
    addReview: async (_parent, { input }, ctx) => addReview(ctx, requireViewer(ctx.viewer), input),
    moderateReview: async (_parent, { input }, ctx) => moderateReview(ctx, requireViewer(ctx.viewer), input),
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
