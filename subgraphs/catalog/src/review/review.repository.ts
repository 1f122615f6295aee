import { type Filter, ObjectId } from "mongodb";
import type { CatalogDb, ReviewDocument, ReviewScreeningDocument, ReviewStatus } from "../db/collections.ts";
import type { ReviewSort } from "./review.model.ts";

export async function findReviewById(db: CatalogDb, id: string): Promise<ReviewDocument | null> {
  return db.reviews.findOne({ _id: new ObjectId(id) });
}

/** Reviews by id (24-hex), in no particular order: one find for every reference of a request. */
export async function findReviewsByIds(db: CatalogDb, ids: readonly string[]): Promise<ReviewDocument[]> {
  if (ids.length === 0) return [];
  return db.reviews.find({ _id: { $in: ids.map((id) => new ObjectId(id)) } }).toArray();
}

/** Reviews by one author of any of `productIds` (24-hex). */
export async function findReviewsByAuthor(
  db: CatalogDb,
  authorId: string,
  productIds: readonly string[],
): Promise<ReviewDocument[]> {
  if (productIds.length === 0) return [];
  return db.reviews
    .find({ authorId, productId: { $in: productIds.map((id) => new ObjectId(id)) } })
    .toArray();
}

export interface ReviewQuery {
  status: ReviewStatus;
  productId?: string | undefined;
}

const toFilter = (query: ReviewQuery): Filter<ReviewDocument> => ({
  status: query.status,
  ...(query.productId ? { productId: new ObjectId(query.productId) } : {}),
});

/** Where a page starts: strictly after these values of the list's order. */
export type ReviewPosition =
  | { sort: "NEWEST"; submittedAt: Date; id: string }
  | { sort: "MOST_HELPFUL"; helpfulCount: number; submittedAt: Date; id: string };

const ORDER = {
  NEWEST: { submittedAt: -1, _id: -1 },
  MOST_HELPFUL: { helpfulCount: -1, submittedAt: -1, _id: -1 },
} as const;

/** The list's order read from its end: every key flipped, ties still broken by id. */
const REVERSED = {
  NEWEST: { submittedAt: 1, _id: 1 },
  MOST_HELPFUL: { helpfulCount: 1, submittedAt: 1, _id: 1 },
} as const;

/**
 * A page in the list's order (newest or most helpful first, then newest, then id), after
 * `after`. `backward` reads the other way, from the end or from before `after`: the order and
 * the keyset comparison flipped, so the rows come nearest-first (reversed list order).
 */
export async function findReviewPage(
  db: CatalogDb,
  query: ReviewQuery,
  options: {
    sort: ReviewSort;
    after?: ReviewPosition | undefined;
    limit: number;
    backward?: boolean | undefined;
  },
): Promise<ReviewDocument[]> {
  const filter = toFilter(query);
  const after = options.after;
  const backward = options.backward ?? false;
  // Past the cursor in the list's order is lower on every key; backward, higher.
  const beyond = backward ? "$gt" : "$lt";
  if (after) {
    const { submittedAt } = after;
    const id = new ObjectId(after.id);
    const newer: Filter<ReviewDocument>[] = [
      { submittedAt: { [beyond]: submittedAt } },
      { submittedAt, _id: { [beyond]: id } },
    ];
    if (after.sort === "NEWEST") filter.$or = newer;
    else {
      const { helpfulCount } = after;
      filter.$or = [
        { helpfulCount: { [beyond]: helpfulCount } },
        ...newer.map((part) => ({ helpfulCount, ...part })),
      ];
    }
  }
  const order = backward ? REVERSED[options.sort] : ORDER[options.sort];
  return db.reviews.find(filter).sort(order).limit(options.limit).toArray();
}

export async function countReviews(db: CatalogDb, query: ReviewQuery): Promise<number> {
  return db.reviews.countDocuments(toFilter(query));
}

export interface ReviewContent {
  rating: number;
  title: string;
  body: string;
}

/** What a write of a review decides besides its content: where it goes, and why. */
export interface ReviewDecision {
  status: "PENDING" | "APPROVED";
  screening: ReviewScreeningDocument;
  verifiedPurchase: boolean;
  now: Date;
}

/**
 * Writes the author's review of a product, replacing an earlier one (the unique index allows one
 * per pair), with screening's decision: PENDING for a moderator or APPROVED by screening (then
 * `moderatedAt` is now and `moderatedBy` null). `verifiedPurchase` only ever goes from false to
 * true; helpful votes stay with the review across edits. Returns the review as it was before
 * (null when new) and after.
 */
export async function upsertReview(
  db: CatalogDb,
  productId: string,
  authorId: string,
  content: ReviewContent,
  decision: ReviewDecision,
): Promise<{ before: ReviewDocument | null; after: ReviewDocument }> {
  const filter = { productId: new ObjectId(productId), authorId };
  const update = {
    $set: {
      ...content,
      status: decision.status,
      screening: decision.screening,
      submittedAt: decision.now,
      moderatedAt: decision.status === "APPROVED" ? decision.now : null,
      moderatedBy: null,
      ...(decision.verifiedPurchase ? { verifiedPurchase: true } : {}),
    },
    $setOnInsert: decision.verifiedPurchase
      ? { helpfulCount: 0 }
      : { verifiedPurchase: false, helpfulCount: 0 },
  };
  const write = () => db.reviews.findOneAndUpdate(filter, update, { upsert: true, returnDocument: "before" });
  let before: ReviewDocument | null;
  try {
    before = await write();
  } catch (error) {
    // Two first reviews by one author at once: one upsert inserts, the other hits the unique
    // index; retried, it finds the review and replaces it.
    if (!isDuplicateKeyError(error)) throw error;
    before = await write();
  }
  const after = await db.reviews.findOne(filter);
  if (!after) throw new Error(`review of ${productId} by ${authorId} vanished after its write`);
  return { before, after };
}

/**
 * Approves a review screening found clean (the caller's judgement) once its author turns out to
 * be a verified buyer,
 * only while it is still the same PENDING version (`submittedAt`), so a moderator's decision or
 * a newer edit in between wins. True when it approved it.
 */
export async function approveScreenedReview(
  db: CatalogDb,
  id: ObjectId,
  submittedAt: Date,
  now: Date,
): Promise<boolean> {
  const result = await db.reviews.updateOne(
    { _id: id, submittedAt, status: "PENDING" },
    {
      $set: {
        status: "APPROVED",
        moderatedAt: now,
        moderatedBy: null,
        screening: { reasons: [], detail: "", autoApproved: true },
      },
    },
  );
  return result.modifiedCount === 1;
}

export async function setReviewStatus(
  db: CatalogDb,
  id: string,
  status: ReviewStatus,
  moderatorId: string,
  now: Date,
): Promise<{ before: ReviewDocument; after: ReviewDocument } | null> {
  const before = await db.reviews.findOneAndUpdate(
    { _id: new ObjectId(id) },
    { $set: { status, moderatedAt: now, moderatedBy: moderatorId } },
    { returnDocument: "before" },
  );
  if (!before) return null;
  return { before, after: { ...before, status, moderatedAt: now, moderatedBy: moderatorId } };
}

export async function hasPurchased(db: CatalogDb, customerId: string, productId: string): Promise<boolean> {
  return (await db.purchases.countDocuments({ _id: `${customerId}:${productId}` }, { limit: 1 })) > 0;
}

export async function markVerified(db: CatalogDb, reviewId: ObjectId): Promise<void> {
  await db.reviews.updateOne({ _id: reviewId }, { $set: { verifiedPurchase: true } });
}

/**
 * Records delivered products and marks the customer's reviews of them verified. Both writes are
 * keyed by natural keys (upsert by `customerId:productId`, set-to-true), so applying the same
 * delivery twice changes nothing.
 */
export async function recordPurchases(
  db: CatalogDb,
  delivery: { orderId: string; customerId: string; productIds: readonly string[]; deliveredAt: Date },
): Promise<{ purchases: number; reviews: number }> {
  if (delivery.productIds.length === 0) return { purchases: 0, reviews: 0 };
  const written = await db.purchases.bulkWrite(
    delivery.productIds.map((productId) => ({
      updateOne: {
        filter: { _id: `${delivery.customerId}:${productId}` },
        update: {
          $setOnInsert: {
            customerId: delivery.customerId,
            productId: new ObjectId(productId),
            orderId: delivery.orderId,
            deliveredAt: delivery.deliveredAt,
          },
        },
        upsert: true,
      },
    })),
    { ordered: false },
  );
  const reviews = await db.reviews.updateMany(
    {
      authorId: delivery.customerId,
      productId: { $in: delivery.productIds.map((id) => new ObjectId(id)) },
      verifiedPurchase: false,
    },
    { $set: { verifiedPurchase: true } },
  );
  return { purchases: written.upsertedCount, reviews: reviews.modifiedCount };
}

/**
 * Units sold per product: delivered purchases (one per customer and product), counted with a
 * `$group` on one path, which the embedded server computes. `productIds` narrows the count; all
 * products without it. Products nobody bought are absent.
 */
export async function countPurchasesByProduct(
  db: CatalogDb,
  productIds?: readonly string[],
): Promise<Map<string, number>> {
  const match = productIds
    ? [{ $match: { productId: { $in: productIds.map((id) => new ObjectId(id)) } } }]
    : [];
  const rows = await db.purchases
    .aggregate<{ _id: ObjectId; count: number }>([
      ...match,
      { $group: { _id: "$productId", count: { $sum: 1 } } },
    ])
    .toArray();
  return new Map(rows.map((row) => [row._id.toHexString(), row.count]));
}

export function isDuplicateKeyError(error: unknown): error is Error & { code: number } {
  return typeof error === "object" && error !== null && "code" in error && error.code === 11000;
}

/**
 * Records one customer's helpful vote. True when the vote is new: the unique index on (reviewId,
 * customerId) turns a repeat, or the loser of two concurrent votes, into a duplicate key, so only
 * a new vote is ever counted.
 */
export async function insertHelpfulVote(
  db: CatalogDb,
  reviewId: string,
  customerId: string,
  now: Date,
): Promise<boolean> {
  try {
    await db.reviewVotes.insertOne({
      _id: new ObjectId(),
      reviewId: new ObjectId(reviewId),
      customerId,
      createdAt: now,
    });
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

/** Removes a customer's vote; true when there was one, so only a removed vote is uncounted. */
export async function deleteHelpfulVote(
  db: CatalogDb,
  reviewId: string,
  customerId: string,
): Promise<boolean> {
  const result = await db.reviewVotes.deleteOne({ reviewId: new ObjectId(reviewId), customerId });
  return result.deletedCount === 1;
}

/**
 * Approves the customer's PENDING reviews of `productIds` that screening found clean, now that
 * they are verified purchases; reviews written before screening existed (no verdict) stay for a
 * moderator. Returns the products whose rating changed.
 */
export async function approveVerifiedCleanReviews(
  db: CatalogDb,
  customerId: string,
  productIds: readonly string[],
): Promise<string[]> {
  if (productIds.length === 0) return [];
  const pending = await db.reviews
    .find({
      authorId: customerId,
      productId: { $in: productIds.map((id) => new ObjectId(id)) },
      status: "PENDING",
      verifiedPurchase: true,
    })
    .toArray();
  const approved: string[] = [];
  const now = new Date();
  for (const review of pending) {
    if (review.screening === null || review.screening.reasons.length > 0) continue;
    if (await approveScreenedReview(db, review._id, review.submittedAt, now)) {
      approved.push(review.productId.toHexString());
    }
  }
  return approved;
}

/** Moves the review's helpful count by `delta` atomically and returns the review after it. */
export async function incrementHelpfulCount(
  db: CatalogDb,
  reviewId: string,
  delta: 1 | -1,
): Promise<ReviewDocument | null> {
  return db.reviews.findOneAndUpdate(
    { _id: new ObjectId(reviewId) },
    { $inc: { helpfulCount: delta } },
    { returnDocument: "after" },
  );
}

/** Which of `reviewIds` (24-hex) the customer marked helpful: one find for any number of reviews. */
export async function findHelpfulVotes(
  db: CatalogDb,
  customerId: string,
  reviewIds: readonly string[],
): Promise<Set<string>> {
  if (reviewIds.length === 0) return new Set();
  const votes = await db.reviewVotes
    .find({ customerId, reviewId: { $in: reviewIds.map((id) => new ObjectId(id)) } })
    .toArray();
  return new Set(votes.map((vote) => vote.reviewId.toHexString()));
}
