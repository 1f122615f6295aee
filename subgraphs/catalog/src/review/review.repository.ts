import { type Filter, ObjectId } from "mongodb";
import type { CatalogDb, ReviewDocument, ReviewStatus } from "../db/collections.ts";

export async function findReviewById(db: CatalogDb, id: string): Promise<ReviewDocument | null> {
  return db.reviews.findOne({ _id: new ObjectId(id) });
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

/** Newest first by (submittedAt, _id), strictly after the given cursor values. */
export async function findReviewPage(
  db: CatalogDb,
  query: ReviewQuery,
  options: { after?: { submittedAt: Date; id: string } | undefined; limit: number },
): Promise<ReviewDocument[]> {
  const filter = toFilter(query);
  if (options.after) {
    const { submittedAt, id } = options.after;
    filter.$or = [{ submittedAt: { $lt: submittedAt } }, { submittedAt, _id: { $lt: new ObjectId(id) } }];
  }
  return db.reviews.find(filter).sort({ submittedAt: -1, _id: -1 }).limit(options.limit).toArray();
}

export async function countReviews(db: CatalogDb, query: ReviewQuery): Promise<number> {
  return db.reviews.countDocuments(toFilter(query));
}

export interface ReviewContent {
  rating: number;
  title: string;
  body: string;
}

/**
 * Writes the author's review of a product, replacing an earlier one (the unique index allows one
 * per pair), back to PENDING. `verifiedPurchase` only ever goes from false to true. Returns the
 * review as it was before (null when new) and after.
 */
export async function upsertReview(
  db: CatalogDb,
  productId: string,
  authorId: string,
  content: ReviewContent,
  options: { verifiedPurchase: boolean; now: Date },
): Promise<{ before: ReviewDocument | null; after: ReviewDocument }> {
  const filter = { productId: new ObjectId(productId), authorId };
  const update = {
    $set: {
      ...content,
      status: "PENDING" as const,
      submittedAt: options.now,
      moderatedAt: null,
      moderatedBy: null,
      ...(options.verifiedPurchase ? { verifiedPurchase: true } : {}),
    },
    $setOnInsert: options.verifiedPurchase ? {} : { verifiedPurchase: false },
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

export function isDuplicateKeyError(error: unknown): error is Error & { code: number } {
  return typeof error === "object" && error !== null && "code" in error && error.code === 11000;
}
