import {
  badUserInput,
  type Connection,
  cursorPart,
  decodeCursor,
  encodeCursor,
  isObjectIdHex,
  pageSize,
} from "@nexus/core";
import type { CatalogDb } from "../db/collections.ts";
import { type ReviewModel, toReviewModel } from "./review.model.ts";
import { countReviews, findReviewPage, type ReviewQuery } from "./review.repository.ts";

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
  deps: { db: CatalogDb },
  query: ReviewQuery,
  args: { first?: number | null; after?: string | null },
): Promise<Connection<ReviewModel>> {
  const first = pageSize(args.first);
  const after = afterOf(args.after);
  const [docs, totalCount] = await Promise.all([
    findReviewPage(deps.db, query, { after, limit: first + 1 }),
    countReviews(deps.db, query),
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
