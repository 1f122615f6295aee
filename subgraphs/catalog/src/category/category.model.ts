import type { CategoryDocument } from "../db/collections.ts";

/** What Category resolvers receive. */
export interface CategoryModel {
  id: string;
  slug: string;
  name: string;
}

export const toCategoryModel = (doc: CategoryDocument): CategoryModel => ({
  id: doc._id.toHexString(),
  slug: doc.slug,
  name: doc.name,
});
