import { isObjectIdHex, userError, type Viewer } from "@nexus/core";
import type {
  AddReviewInput,
  MarkReviewHelpfulInput,
  ModerateReviewInput,
  UnmarkReviewHelpfulInput,
} from "../__generated__/resolvers-types.ts";
import type { CatalogDb } from "../db/collections.ts";
import type { ProductCache } from "../product/product.cache.ts";
import type { ProductLoaders } from "../product/product.loaders.ts";
import { refreshRating } from "../product/product.repository.ts";
import type { SearchChanges } from "../search/search-index.ts";
import type { UserError } from "../user-error.ts";
import type { ReviewLoaders } from "./review.loaders.ts";
import { type ReviewModel, toReviewModel } from "./review.model.ts";
import {
  approveScreenedReview,
  deleteHelpfulVote,
  findReviewById,
  hasPurchased,
  incrementHelpfulCount,
  insertHelpfulVote,
  markVerified,
  setReviewStatus,
  upsertReview,
} from "./review.repository.ts";
import { screenReview } from "./screening.model.ts";

/** The store's review policy (REVIEW_AUTO_APPROVE_VERIFIED, REVIEW_BLOCKED_WORDS). */
export interface ReviewSettings {
  /** Publish a clean review by a verified buyer without a moderator. */
  autoApproveVerified: boolean;
  /** Words and phrases, each as its normalised words (`parseWordList`). */
  blockedWords: readonly (readonly string[])[];
}

/**
 * What writing reviews needs: the store, the product cache to invalidate when a rating changes
 * (null when off), this request's `productById`, read and then cleared the same way, and its
 * `viewerHelpfulVoteByReviewId`, primed with a vote just cast or taken back.
 */
export interface ReviewDeps {
  db: CatalogDb;
  cache: ProductCache | null;
  /** Told when a rating changes, so every replica's search index follows. */
  search: SearchChanges | null;
  loaders: Pick<ProductLoaders, "productById"> & Pick<ReviewLoaders, "viewerHelpfulVoteByReviewId">;
  settings: ReviewSettings;
}

export type ReviewResult =
  | { review: ReviewModel; userErrors: [] }
  | { review: null; userErrors: UserError[] };

const failed = (userErrors: UserError[]): ReviewResult => ({ review: null, userErrors });

/** The rating and the cached product change together; the recount is safe to run at any time. */
async function ratingChanged(deps: ReviewDeps, productId: string): Promise<void> {
  await refreshRating(deps.db, productId);
  await deps.cache?.invalidate([productId]);
  await deps.search?.publish([productId]);
  deps.loaders.productById.clear(productId);
}

export async function addReview(
  deps: ReviewDeps,
  viewer: Viewer,
  input: AddReviewInput,
): Promise<ReviewResult> {
  const errors: UserError[] = [];
  if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) {
    errors.push(userError("INVALID_RATING", "rating must be 1 to 5.", ["input", "rating"]));
  }
  const title = input.title.trim();
  if (title.length === 0 || title.length > 120) {
    errors.push(userError("INVALID_TITLE", "title must be 1 to 120 characters.", ["input", "title"]));
  }
  const body = input.body.trim();
  if (body.length > 5000) {
    errors.push(userError("INVALID_BODY", "body must be at most 5000 characters.", ["input", "body"]));
  }
  const product = isObjectIdHex(input.productId)
    ? await deps.loaders.productById.load(input.productId)
    : null;
  // Drafts do not exist for customers, and archived products are no longer sold.
  if (product?.status !== "ACTIVE") {
    errors.push(
      userError("PRODUCT_NOT_FOUND", "There is no such product to review.", ["input", "productId"]),
    );
  }
  if (errors.length > 0 || !product) return failed(errors);

  const content = { rating: input.rating, title, body };
  const screening = screenReview(content, deps.settings.blockedWords);
  const clean = screening.reasons.length === 0;
  const verified = await hasPurchased(deps.db, viewer.userId, product.id);
  const now = new Date();
  const autoApproved = clean && verified && deps.settings.autoApproveVerified;
  const { before, after } = await upsertReview(deps.db, product.id, viewer.userId, content, {
    status: autoApproved ? "APPROVED" : "PENDING",
    screening: { ...screening, autoApproved },
    verifiedPurchase: verified,
    now,
  });
  // A delivery recorded between the check and the write marked reviews that existed then; look again.
  if (!after.verifiedPurchase && (await hasPurchased(deps.db, viewer.userId, product.id))) {
    await markVerified(deps.db, after._id);
    after.verifiedPurchase = true;
    if (
      clean &&
      deps.settings.autoApproveVerified &&
      (await approveScreenedReview(deps.db, after._id, now, now))
    ) {
      after.status = "APPROVED";
      after.moderatedAt = now;
      after.screening = { ...screening, autoApproved: true };
    }
  }
  // Replacing an approved review takes it out of the rating until it is approved again, and an
  // auto-approved one counts at once.
  if (before?.status === "APPROVED" || after.status === "APPROVED") await ratingChanged(deps, product.id);
  return { review: toReviewModel(after), userErrors: [] };
}

export async function moderateReview(
  deps: ReviewDeps,
  viewer: Viewer,
  input: ModerateReviewInput,
): Promise<ReviewResult> {
  const notFound = failed([userError("REVIEW_NOT_FOUND", "There is no such review.", ["input", "reviewId"])]);
  if (!isObjectIdHex(input.reviewId)) return notFound;
  const status = input.decision === "APPROVE" ? "APPROVED" : "REJECTED";
  const result = await setReviewStatus(
    deps.db,
    input.reviewId.toLowerCase(),
    status,
    viewer.userId,
    new Date(),
  );
  if (!result) return notFound;
  if (result.before.status !== status && (result.before.status === "APPROVED" || status === "APPROVED")) {
    await ratingChanged(deps, result.after.productId.toHexString());
  }
  return { review: toReviewModel(result.after), userErrors: [] };
}

/**
 * The review a customer may vote on: APPROVED, of a product shoppers can see. Anything else is
 * REVIEW_NOT_FOUND, like an id that names nothing, so votes reveal nothing unpublished.
 */
async function votableReview(deps: ReviewDeps, reviewId: string) {
  if (!isObjectIdHex(reviewId)) return null;
  const review = await findReviewById(deps.db, reviewId.toLowerCase());
  if (review?.status !== "APPROVED") return null;
  const product = await deps.loaders.productById.load(review.productId.toHexString());
  return product?.status === "ACTIVE" ? review : null;
}

const reviewNotFound = () =>
  failed([userError("REVIEW_NOT_FOUND", "There is no such published review.", ["input", "reviewId"])]);

/**
 * One customer's helpful vote. The vote is inserted first and the review's count moves only when
 * the insert was new, so a repeat, a retry or a concurrent duplicate never counts twice.
 */
export async function markReviewHelpful(
  deps: ReviewDeps,
  viewer: Viewer,
  input: MarkReviewHelpfulInput,
): Promise<ReviewResult> {
  const review = await votableReview(deps, input.reviewId);
  if (!review) return reviewNotFound();
  if (review.authorId === viewer.userId) {
    return failed([
      userError("OWN_REVIEW", "You cannot mark your own review as helpful.", ["input", "reviewId"]),
    ]);
  }
  const id = review._id.toHexString();
  const counted = (await insertHelpfulVote(deps.db, id, viewer.userId, new Date()))
    ? await incrementHelpfulCount(deps.db, id, 1)
    : await findReviewById(deps.db, id);
  deps.loaders.viewerHelpfulVoteByReviewId.clear(id).prime(id, true);
  return { review: toReviewModel(counted ?? review), userErrors: [] };
}

/** Takes a helpful vote back; the count moves only when this call removed the vote. */
export async function unmarkReviewHelpful(
  deps: ReviewDeps,
  viewer: Viewer,
  input: UnmarkReviewHelpfulInput,
): Promise<ReviewResult> {
  const review = await votableReview(deps, input.reviewId);
  if (!review) return reviewNotFound();
  const id = review._id.toHexString();
  const counted = (await deleteHelpfulVote(deps.db, id, viewer.userId))
    ? await incrementHelpfulCount(deps.db, id, -1)
    : await findReviewById(deps.db, id);
  deps.loaders.viewerHelpfulVoteByReviewId.clear(id).prime(id, false);
  return { review: toReviewModel(counted ?? review), userErrors: [] };
}
