import type { ReviewDocument, ReviewStatus } from "../db/collections.ts";

/** What Review resolvers receive. */
export interface ReviewModel {
  id: string;
  productId: string;
  authorId: string;
  rating: number;
  title: string;
  body: string;
  status: ReviewStatus;
  verifiedPurchase: boolean;
  submittedAt: Date;
  moderatedAt: Date | null;
}

export const toReviewModel = (doc: ReviewDocument): ReviewModel => ({
  id: doc._id.toHexString(),
  productId: doc.productId.toHexString(),
  authorId: doc.authorId,
  rating: doc.rating,
  title: doc.title,
  body: doc.body,
  status: doc.status,
  verifiedPurchase: doc.verifiedPurchase,
  submittedAt: doc.submittedAt,
  moderatedAt: doc.moderatedAt,
});
