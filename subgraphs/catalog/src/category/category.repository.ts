import { ObjectId } from "mongodb";
import type { CatalogDb, CategoryDocument } from "../db/collections.ts";

/** `ids` must be 24-hex ObjectId strings; callers filter out anything else. */
export async function findCategoriesByIds(
  db: CatalogDb,
  ids: readonly string[],
): Promise<CategoryDocument[]> {
  if (ids.length === 0) return [];
  return db.categories.find({ _id: { $in: ids.map((id) => new ObjectId(id)) } }).toArray();
}

export async function findCategoryBySlug(db: CatalogDb, slug: string): Promise<CategoryDocument | null> {
  return db.categories.findOne({ slug });
}

export async function findAllCategories(db: CatalogDb): Promise<CategoryDocument[]> {
  return db.categories.find().sort({ name: 1, _id: 1 }).toArray();
}

/**
 * Inserts the categories whose id is not stored yet and leaves existing ones untouched, so
 * two processes seeding at once cannot fail on each other's writes. Returns how many it inserted.
 */
export async function insertMissingCategories(
  db: CatalogDb,
  categories: readonly { id: string; slug: string; name: string }[],
): Promise<number> {
  if (categories.length === 0) return 0;
  const result = await db.categories.bulkWrite(
    categories.map(({ id, ...category }) => ({
      updateOne: { filter: { _id: new ObjectId(id) }, update: { $setOnInsert: category }, upsert: true },
    })),
    { ordered: false },
  );
  return result.upsertedCount;
}
