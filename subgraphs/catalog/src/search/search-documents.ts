import { type CategoryModel, effectiveAttributes } from "../category/category.model.ts";
import type { ProductDocument } from "../db/collections.ts";
import type { SearchDocument } from "./search-engine.ts";

/** What turning products into search documents needs besides the products themselves. */
export interface SearchDocumentContext {
  /** Every category by id (hex). */
  categories: ReadonlyMap<string, CategoryModel>;
  /** Units sold per product id; a product nobody bought is absent. */
  unitsSold: ReadonlyMap<string, number>;
}

/**
 * A product as the index sees it: its category and that category's ancestors (nearest first) by
 * id and name, attribute values with the labels their category defines, and stock (unknown is in
 * stock). A product whose category is gone still gets a document, without category names.
 */
export function toSearchDocument(doc: ProductDocument, context: SearchDocumentContext): SearchDocument {
  const id = doc._id.toHexString();
  const category = context.categories.get(doc.categoryId.toHexString());
  const path = category
    ? [category, ...[...category.ancestorIds].reverse().flatMap((a) => context.categories.get(a) ?? [])]
    : [];
  const definitions = category ? effectiveAttributes(category, context.categories) : [];
  return {
    id,
    sku: doc.sku,
    name: doc.name,
    brand: doc.brand,
    categoryIds: path.map((c) => c.id),
    categoryNames: path.map((c) => c.name),
    tags: [...doc.tags],
    attributes: doc.attributes.map(({ name, value }) => ({
      name,
      label: definitions.find((d) => d.name === name)?.label ?? name,
      value,
    })),
    description: doc.description,
    price: doc.price.amount,
    currencyCode: doc.price.currencyCode,
    inStock: doc.inStock !== false,
    popularity: context.unitsSold.get(id) ?? 0,
    rating: doc.rating.average,
  };
}

/** The tree keyed by id, as `toSearchDocument` reads it. */
export const categoriesById = (tree: readonly CategoryModel[]): Map<string, CategoryModel> =>
  new Map(tree.map((c) => [c.id, c]));
