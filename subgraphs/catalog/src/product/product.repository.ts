import { type Filter, ObjectId } from "mongodb";
import type { CatalogDb, ProductDocument } from "../db/collections.ts";

/** `ids` must be 24-hex ObjectId strings; callers filter out anything else. */
export async function findProductsByIds(db: CatalogDb, ids: readonly string[]): Promise<ProductDocument[]> {
  if (ids.length === 0) return [];
  return db.products.find({ _id: { $in: ids.map((id) => new ObjectId(id)) } }).toArray();
}

export interface ProductFilter {
  /** Hex id of the category the products must be in. */
  categoryId?: string | undefined;
}

const toMongoFilter = ({ categoryId }: ProductFilter): Filter<ProductDocument> =>
  categoryId === undefined ? {} : { categoryId: new ObjectId(categoryId) };

/**
 * Up to `limit` products, newest first by `_id` (an ObjectId starts with its creation time),
 * strictly after the product `afterId` in that order when given.
 */
export async function findProductsNewestFirst(
  db: CatalogDb,
  options: ProductFilter & { afterId?: string | undefined; limit: number },
): Promise<ProductDocument[]> {
  const filter = toMongoFilter(options);
  if (options.afterId !== undefined) filter._id = { $lt: new ObjectId(options.afterId) };
  return db.products.find(filter).sort({ _id: -1 }).limit(options.limit).toArray();
}

export async function countProducts(db: CatalogDb, filter: ProductFilter = {}): Promise<number> {
  return db.products.countDocuments(toMongoFilter(filter));
}

export interface NewProduct {
  id: string;
  slug: string;
  name: string;
  description: string;
  categoryId: string;
  price: { amount: number; currencyCode: string };
  attributes: { key: string; value: string }[];
  createdAt: Date;
}

/** The derived `attributeKeys` are written only here, so they never drift from `attributes`. */
const attributeKeys = (attributes: NewProduct["attributes"]): string[] =>
  attributes.map(({ key, value }) => `${key}=${value}`);

/**
 * Inserts the products whose id is not stored yet and leaves existing ones untouched, so
 * two processes seeding at once cannot fail on each other's writes. Returns how many it inserted.
 */
export async function insertMissingProducts(db: CatalogDb, products: readonly NewProduct[]): Promise<number> {
  if (products.length === 0) return 0;
  const result = await db.products.bulkWrite(
    products.map(({ id, categoryId, ...product }) => ({
      updateOne: {
        filter: { _id: new ObjectId(id) },
        update: {
          $setOnInsert: {
            ...product,
            categoryId: new ObjectId(categoryId),
            attributeKeys: attributeKeys(product.attributes),
          },
        },
        upsert: true,
      },
    })),
    { ordered: false },
  );
  return result.upsertedCount;
}
