import type { Viewer } from "@nexus/core";
import DataLoader from "dataloader";
import type { CatalogDb } from "../db/collections.ts";
import { type ReviewModel, toReviewModel } from "./review.model.ts";
import { findReviewsByAuthor } from "./review.repository.ts";

export function createReviewLoaders(db: CatalogDb, viewer: Viewer | null) {
  return {
    /** The viewer's own review per product id (24-hex): one find for a whole page of products. */
    viewerReviewByProductId: new DataLoader<string, ReviewModel | null>(async (productIds) => {
      if (!viewer) return productIds.map(() => null);
      const docs = await findReviewsByAuthor(db, viewer.userId, productIds);
      const byProduct = new Map(docs.map((doc) => [doc.productId.toHexString(), toReviewModel(doc)]));
      return productIds.map((id) => byProduct.get(id) ?? null);
    }),
  };
}

export type ReviewLoaders = ReturnType<typeof createReviewLoaders>;
