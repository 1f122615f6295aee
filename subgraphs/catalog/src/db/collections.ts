import type { Collection, Db, ObjectId } from "mongodb";

/** A product as stored in `products`. Never leaves the repositories: resolvers see ProductModel. */
export interface ProductDocument {
  _id: ObjectId;
  slug: string;
  name: string;
  description: string;
  categoryId: ObjectId;
  price: { amount: number; currencyCode: string };
  attributes: { key: string; value: string }[];
  /**
   * `key=value` for every attribute, written together with `attributes`: facet counts are then a
   * plain `$unwind` + `$group` on one path, which the embedded server computes correctly.
   */
  attributeKeys: string[];
  createdAt: Date;
}

/** A category as stored in `categories`. */
export interface CategoryDocument {
  _id: ObjectId;
  slug: string;
  name: string;
}

export interface CatalogDb {
  products: Collection<ProductDocument>;
  categories: Collection<CategoryDocument>;
}

export function createCatalogDb(db: Db): CatalogDb {
  return {
    products: db.collection<ProductDocument>("products"),
    categories: db.collection<CategoryDocument>("categories"),
  };
}

/**
 * Creates the indexes the queries rely on; MongoDB treats an existing identical index as a
 * no-op, so this runs on every start instead of a migration.
 */
export async function ensureIndexes(db: CatalogDb): Promise<void> {
  await Promise.all([
    db.products.createIndex({ slug: 1 }, { unique: true, name: "slug_unique" }),
    // Serves both the category filter and the newest-first page inside one category.
    db.products.createIndex({ categoryId: 1, _id: -1 }, { name: "category_newest" }),
    db.categories.createIndex({ slug: 1 }, { unique: true, name: "slug_unique" }),
  ]);
}
