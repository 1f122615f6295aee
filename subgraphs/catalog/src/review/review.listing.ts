import {
  badUserInput,
  type Connection,
  type CursorArgument,
  cursorPart,
  decodeCursor,
  encodeCursor,
  isObjectIdHex,
  type Page,
  type PageArgs,
  pageArgs,
  toPagedConnection,
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

const notACursor = (field: CursorArgument) =>
  badUserInput(`${field} is not a cursor returned by this field with this sort.`, field);

/**
 * Reads the page's cursor (`after` or `before`) for `sort`; a cursor of the other order is
 * refused, since its values mean other things. Both directions take the same cursors.
 */
function positionOf(page: Page, sort: ReviewSort): ReviewPosition | undefined {
  const { cursor, cursorField: field } = page;
  if (cursor === null) return undefined;
  if (sort === "NEWEST") {
    const values = decodeCursor(cursor, 2, field);
    if (values === null) return undefined;
    const [time, id] = values;
    const submittedAt = cursorPart.epochMillis(time);
    if (submittedAt === undefined || typeof id !== "string" || !isObjectIdHex(id)) throw notACursor(field);
    return { sort, submittedAt, id };
  }
  const values = decodeCursor(cursor, 4, field);
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
    throw notACursor(field);
  }
  return { sort, helpfulCount, submittedAt, id };
}

/**
 * A page of reviews in `sort` order, forward (`first`/`after`) or backward (`last`/`before`):
 * one find for the page and one count.
 */
export async function listReviews(
  deps: { db: CatalogDb },
  query: ReviewQuery,
  args: PageArgs & { sort?: ReviewSort | null },
): Promise<Connection<ReviewModel>> {
  const sort = args.sort ?? "NEWEST";
  const page = pageArgs(args);
  const at = positionOf(page, sort);
  const [docs, totalCount] = await Promise.all([
    findReviewPage(deps.db, query, { sort, after: at, limit: page.size + 1, backward: page.backward }),
    countReviews(deps.db, query),
  ]);
  return toPagedConnection(docs.map(toReviewModel), page, totalCount, (node) => cursorOf(node, sort));
}
