import { type AnyBulkWriteOperation, ObjectId } from "mongodb";
import type { AttributeDefinitionDocument, CatalogDb, CategoryDocument } from "../db/collections.ts";
import { insertIgnoringDuplicates } from "../product/product.repository.ts";

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

/** The whole tree; categories number in the hundreds at most, so requests load it in one find. */
export async function findAllCategories(db: CatalogDb): Promise<CategoryDocument[]> {
  return db.categories.find().sort({ name: 1, _id: 1 }).toArray();
}

export interface NewCategory {
  id: string;
  slug: string;
  name: string;
  description: string;
  parentId: string | null;
  ancestorIds: string[];
  attributes: AttributeDefinitionDocument[];
}

const toDocument = ({ id, parentId, ancestorIds, ...category }: NewCategory): CategoryDocument => ({
  _id: new ObjectId(id),
  ...category,
  parentId: parentId === null ? null : new ObjectId(parentId),
  ancestorIds: ancestorIds.map((a) => new ObjectId(a)),
});

/** Inserts the categories whose id is not stored yet, skipping the others; returns how many it inserted. */
export async function insertMissingCategories(
  db: CatalogDb,
  categories: readonly NewCategory[],
): Promise<number> {
  return insertIgnoringDuplicates(db.categories, categories.map(toDocument));
}

/** Throws a duplicate-key error (code 11000) when the slug is taken. */
export async function insertCategory(db: CatalogDb, category: NewCategory): Promise<CategoryDocument> {
  const doc = toDocument(category);
  await db.categories.insertOne(doc);
  return doc;
}

export interface CategoryChanges {
  slug: string;
  name: string;
  description: string;
  parentId: string | null;
  ancestorIds: string[];
  attributes: AttributeDefinitionDocument[];
}

/**
 * Writes a category and, when it moved, rewrites the ancestor paths of its subtree
 * (`descendants` with their current paths). Returns the stored category, or null when it is gone.
 */
export async function updateCategoryTree(
  db: CatalogDb,
  id: string,
  changes: CategoryChanges,
  descendants: readonly { id: string; ancestorIds: string[] }[],
): Promise<CategoryDocument | null> {
  const { _id, ...fields } = toDocument({ id, ...changes });
  const updated = await db.categories.findOneAndUpdate(
    { _id },
    { $set: fields },
    { returnDocument: "after" },
  );
  if (!updated || descendants.length === 0) return updated;
  const operations: AnyBulkWriteOperation<CategoryDocument>[] = descendants.map((descendant) => {
    // Everything from the moved category down stays; what lies above it is replaced.
    const below = descendant.ancestorIds.slice(descendant.ancestorIds.indexOf(id));
    return {
      updateOne: {
        filter: { _id: new ObjectId(descendant.id) },
        update: { $set: { ancestorIds: [...changes.ancestorIds, ...below].map((a) => new ObjectId(a)) } },
      },
    };
  });
  await db.categories.bulkWrite(operations, { ordered: false });
  return updated;
}
