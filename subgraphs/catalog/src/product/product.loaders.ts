import { isObjectIdHex } from "@nexus/core";
import DataLoader from "dataloader";
import type { CatalogDb } from "../db/collections.ts";
import { type ProductModel, toProductModel } from "./product.model.ts";
import { findProductsByIds } from "./product.repository.ts";

export function createProductLoaders(db: CatalogDb) {
  return {
    /** Ids that are not 24-hex ObjectIds cannot exist, so they resolve to null without a query. */
    productById: new DataLoader<string, ProductModel | null>(async (ids) => {
      const docs = await findProductsByIds(db, ids.filter(isObjectIdHex));
      const byId = new Map(docs.map((doc) => [doc._id.toHexString(), toProductModel(doc)]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
  };
}

export type ProductLoaders = ReturnType<typeof createProductLoaders>;
