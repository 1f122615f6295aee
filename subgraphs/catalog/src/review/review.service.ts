import { isObjectIdHex, type UserError, userError, type Viewer } from "@nexus/core";
import type { AddReviewInput, ModerateReviewInput } from "../__generated__/resolvers-types.ts";
import type { CatalogDb } from "../db/collections.ts";
import type { ProductCache } from "../product/product.cache.ts";
import type { ProductLoaders } from "../product/product.loaders.ts";
import { refreshRating } from "../product/product.repository.ts";
import { type ReviewModel, toReviewModel } from "./review.model.ts";
import { hasPurchased, markVerified, setReviewStatus, upsertReview } from "./review.repository.ts";

/**
 * What writing reviews needs: the store, the product cache to invalidate when a rating changes
 * (null when off), and this request's `productById`, read and then cleared the same way.
 */
export interface ReviewDeps {
  db: CatalogDb;
  cache: ProductCache | null;
  loaders: Pick<ProductLoaders, "productById">;
}

export type ReviewResult =
  | { review: ReviewModel; userErrors: [] }
  | { review: null; userErrors: UserError[] };

const failed = (userErrors: UserError[]): ReviewResult => ({ review: null, userErrors });

/** The rating and the cached product change together; the recount is safe to run at any time. */
async function ratingChanged(deps: ReviewDeps, productId: string): Promise<void> {
  await refreshRating(deps.db, productId);
  await deps.cache?.invalidate([productId]);
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

  const verified = await hasPurchased(deps.db, viewer.userId, product.id);
  const { before, after } = await upsertReview(
    deps.db,
    product.id,
    viewer.userId,
    { rating: input.rating, title, body },
    { verifiedPurchase: verified, now: new Date() },
  );
  // A delivery recorded between the check and the write marked reviews that existed then; look again.
  if (!after.verifiedPurchase && (await hasPurchased(deps.db, viewer.userId, product.id))) {
    await markVerified(deps.db, after._id);
    after.verifiedPurchase = true;
  }
  // Replacing an approved review takes it out of the rating until it is approved again.
  if (before?.status === "APPROVED") await ratingChanged(deps, product.id);
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
