import { isObjectIdHex } from "@nexus/core";
import DataLoader from "dataloader";
import type { CatalogDb } from "../db/collections.ts";
import { type CategoryModel, toCategoryModel } from "./category.model.ts";
import { findCategoriesByIds } from "./category.repository.ts";

export function createCategoryLoaders(db: CatalogDb) {
  return {
    categoryById: new DataLoader<string, CategoryModel | null>(async (ids) => {
      const docs = await findCategoriesByIds(db, ids.filter(isObjectIdHex));
      const byId = new Map(docs.map((doc) => [doc._id.toHexString(), toCategoryModel(doc)]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
  };
}

export type CategoryLoaders = ReturnType<typeof createCategoryLoaders>;
