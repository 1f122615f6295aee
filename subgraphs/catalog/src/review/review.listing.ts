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
import { type ReviewModel, type ReviewSort, toReviewModel } from "./review.model.ts";
import { countReviews, findReviewPage, type ReviewPosition, type ReviewQuery } from "./review.repository.ts";

/** Votes a cursor may carry: never negative, and no store has more customers than this. */
const MAX_VOTES = 1_000_000_000;

const cursorOf = (review: ReviewModel, sort: ReviewSort): string =>
  sort === "NEWEST"
    ? encodeCursor([review.submittedAt.getTime(), review.id])
    : encodeCursor([sort, review.helpfulCount, review.submittedAt.getTime(), review.id]);

const notACursor = () =>
  badUserInput("after is not a cursor returned by this field with this sort.", "after");

/** Reads `after` for `sort`; a cursor of the other order is refused, since its values mean other things. */
function afterOf(after: string | null | undefined, sort: ReviewSort): ReviewPosition | undefined {
  if (after === null || after === undefined) return undefined;
  if (sort === "NEWEST") {
    const values = decodeCursor(after, 2);
    if (values === null) return undefined;
    const [time, id] = values;
    const submittedAt = cursorPart.epochMillis(time);
    if (submittedAt === undefined || typeof id !== "string" || !isObjectIdHex(id)) throw notACursor();
    return { sort, submittedAt, id };
  }
  const values = decodeCursor(after, 4);
  if (values === null) return undefined;
  const [tag, count, time, id] = values;
  const helpfulCount = cursorPart.integer(0, MAX_VOTES)(count);
  const submittedAt = cursorPart.epochMillis(time);
  if (
    cursorPart.tag(sort)(tag) === undefined ||
    helpfulCount === undefined ||
    submittedAt === undefined ||
    typeof id !== "string" ||
    !isObjectIdHex(id)
  ) {
    throw notACursor();
  }
  return { sort, helpfulCount, submittedAt, id };
}

/** A page of reviews in `sort` order: one find for the page and one count. */
export async function listReviews(
  deps: { db: CatalogDb },
  query: ReviewQuery,
  args: { first?: number | null; after?: string | null; sort?: ReviewSort | null },
): Promise<Connection<ReviewModel>> {
  const sort = args.sort ?? "NEWEST";
  const first = pageSize(args.first);
  const after = afterOf(args.after, sort);
  const [docs, totalCount] = await Promise.all([
    findReviewPage(deps.db, query, { sort, after, limit: first + 1 }),
    countReviews(deps.db, query),
  ]);
  const edges = docs.slice(0, first).map((doc) => {
    const node = toReviewModel(doc);
    return { cursor: cursorOf(node, sort), node };
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
