import type { ReviewDocument, ReviewStatus } from "../db/collections.ts";
import type { HoldReason } from "./screening.model.ts";

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
  helpfulCount: number;
  screening: { held: boolean; reasons: HoldReason[]; detail: string; autoApproved: boolean } | null;
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
  helpfulCount: doc.helpfulCount ?? 0,
  screening: doc.screening
    ? {
        held: doc.screening.reasons.length > 0,
        reasons: doc.screening.reasons,
        detail: doc.screening.detail,
        autoApproved: doc.screening.autoApproved,
      }
    : null,
});

/** How review lists are ordered; the cursor of each carries the values its order compares. */
export type ReviewSort = "NEWEST" | "MOST_HELPFUL";
