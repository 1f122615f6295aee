import { isObjectIdHex, type Viewer } from "@nexus/core";
import DataLoader from "dataloader";
import type { CatalogDb } from "../db/collections.ts";
import { type ReviewModel, toReviewModel } from "./review.model.ts";
import { findHelpfulVotes, findReviewsByAuthor, findReviewsByIds } from "./review.repository.ts";

export function createReviewLoaders(db: CatalogDb, viewer: Viewer | null) {
  return {
    /** Reviews by id (24-hex), for `_entities` (`node`): one find for all of a request's references. */
    reviewById: new DataLoader<string, ReviewModel | null>(async (ids) => {
      const docs = await findReviewsByIds(db, ids.filter(isObjectIdHex));
      const byId = new Map(docs.map((doc) => [doc._id.toHexString(), toReviewModel(doc)]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    /** The viewer's own review per product id (24-hex): one find for a whole page of products. */
    viewerReviewByProductId: new DataLoader<string, ReviewModel | null>(async (productIds) => {
      if (!viewer) return productIds.map(() => null);
      const docs = await findReviewsByAuthor(db, viewer.userId, productIds);
      const byProduct = new Map(docs.map((doc) => [doc.productId.toHexString(), toReviewModel(doc)]));
      return productIds.map((id) => byProduct.get(id) ?? null);
    }),
    /** Whether the viewer marked each review (24-hex) helpful: one find for a whole page of reviews. */
    viewerHelpfulVoteByReviewId: new DataLoader<string, boolean>(async (reviewIds) => {
      if (!viewer) return reviewIds.map(() => false);
      const voted = await findHelpfulVotes(db, viewer.userId, reviewIds);
      return reviewIds.map((id) => voted.has(id));
    }),
  };
}

export type ReviewLoaders = ReturnType<typeof createReviewLoaders>;
