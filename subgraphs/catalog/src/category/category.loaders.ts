import { isObjectIdHex } from "@nexus/core";
import DataLoader from "dataloader";
import type { CatalogDb } from "../db/collections.ts";
import { type CategoryModel, toCategoryModel } from "./category.model.ts";
import { findAllCategories, findCategoriesByIds } from "./category.repository.ts";

export function createCategoryLoaders(db: CatalogDb) {
  const categoryById = new DataLoader<string, CategoryModel | null>(async (ids) => {
    const docs = await findCategoriesByIds(db, ids.filter(isObjectIdHex));
    const byId = new Map(docs.map((doc) => [doc._id.toHexString(), toCategoryModel(doc)]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  });
  let tree: Promise<CategoryModel[]> | undefined;
  return {
    categoryById,
    /**
     * Every category, loaded at most once per request; primes `categoryById`, so a request
     * that needs the tree (filters, facets, breadcrumbs, attribute definitions) makes one find.
     */
    allCategories(): Promise<CategoryModel[]> {
      tree ??= findAllCategories(db).then((docs) => {
        const models = docs.map(toCategoryModel);
        for (const model of models) categoryById.clear(model.id).prime(model.id, model);
        return models;
      });
      return tree;
    },
  };
}

export type CategoryLoaders = ReturnType<typeof createCategoryLoaders>;
