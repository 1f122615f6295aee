import type { AttributeDefinitionDocument, CategoryDocument } from "../db/collections.ts";

/** What Category resolvers receive. */
export interface CategoryModel {
  id: string;
  slug: string;
  name: string;
  description: string;
  parentId: string | null;
  /** From the top down, excluding the category itself. */
  ancestorIds: string[];
  /** Its own definitions only; `Category.attributes` adds the ancestors'. */
  attributes: AttributeDefinitionDocument[];
}

export const toCategoryModel = (doc: CategoryDocument): CategoryModel => ({
  id: doc._id.toHexString(),
  slug: doc.slug,
  name: doc.name,
  description: doc.description,
  parentId: doc.parentId?.toHexString() ?? null,
  ancestorIds: doc.ancestorIds.map((id) => id.toHexString()),
  attributes: doc.attributes.map((a) => ({ ...a, allowedValues: [...a.allowedValues] })),
});

/**
 * Parents before children, siblings by name: the order of `categories`, and of a category's
 * subtree when the list is filtered.
 */
export function sortAsTree(categories: readonly CategoryModel[]): CategoryModel[] {
  const byParent = new Map<string | null, CategoryModel[]>();
  for (const category of categories) {
    const siblings = byParent.get(category.parentId) ?? [];
    siblings.push(category);
    byParent.set(category.parentId, siblings);
  }
  const ids = new Set(categories.map((c) => c.id));
  const out: CategoryModel[] = [];
  const visit = (parentId: string | null) => {
    const children = [...(byParent.get(parentId) ?? [])].sort(
      (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
    );
    for (const child of children) {
      out.push(child);
      visit(child.id);
    }
  };
  visit(null);
  // A category whose parent is missing (broken data) still shows up, at the end.
  for (const category of categories) {
    if (category.parentId !== null && !ids.has(category.parentId)) {
      out.push(category);
      visit(category.id);
    }
  }
  return out;
}

/** The attribute definitions products of `category` carry: its ancestors', top down, then its own. */
export function effectiveAttributes(
  category: CategoryModel,
  byId: ReadonlyMap<string, CategoryModel>,
): AttributeDefinitionDocument[] {
  return [...category.ancestorIds.map((id) => byId.get(id)), category].flatMap((c) => c?.attributes ?? []);
}
