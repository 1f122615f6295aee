import { isObjectIdHex, userError } from "@nexus/core";
import type {
  AttributeDefinitionInput,
  CreateCategoryInput,
  UpdateCategoryInput,
} from "../__generated__/resolvers-types.ts";
import {
  type AttributeDefinitionDocument,
  type CatalogDb,
  type CategoryDocument,
  newDocumentId,
} from "../db/collections.ts";
import { isDuplicateKeyError } from "../review/review.repository.ts";
import type { UserError } from "../user-error.ts";
import type { CategoryLoaders } from "./category.loaders.ts";
import { type CategoryModel, effectiveAttributes, toCategoryModel } from "./category.model.ts";
import { type CategoryChanges, insertCategory, updateCategoryTree } from "./category.repository.ts";
import type { CategoryNotices } from "./category-notices.store.ts";

/** What writing categories needs: the store, and this request's category tree to check against. */
export interface CategoryDeps {
  db: CatalogDb;
  loaders: Pick<CategoryLoaders, "allCategories">;
  /** Told which categories changed, for the gateway's response cache; absent in some tests. */
  notices?: CategoryNotices;
}

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const ATTRIBUTE_NAME = /^[a-z][a-z0-9_]{0,39}$/;
const MAX_ATTRIBUTES = 50;

export type CategoryResult =
  | { category: CategoryModel; userErrors: [] }
  | { category: null; userErrors: UserError[] };

const failed = (userErrors: UserError[]): CategoryResult => ({ category: null, userErrors });

function definitions(
  errors: UserError[],
  input: readonly AttributeDefinitionInput[],
  inherited: readonly AttributeDefinitionDocument[],
): AttributeDefinitionDocument[] {
  if (input.length > MAX_ATTRIBUTES) {
    errors.push(
      userError("TOO_MANY_ATTRIBUTES", `At most ${MAX_ATTRIBUTES} attributes.`, ["input", "attributes"]),
    );
  }
  const seen = new Set(inherited.map((d) => d.name));
  return input.map((definition, index) => {
    const path = ["input", "attributes", String(index)];
    const name = definition.name.trim();
    if (!ATTRIBUTE_NAME.test(name)) {
      errors.push(
        userError(
          "INVALID_ATTRIBUTE_NAME",
          "An attribute name is a lower-case letter, then letters, digits or _.",
          [...path, "name"],
        ),
      );
    } else if (seen.has(name)) {
      errors.push(
        userError("DUPLICATE_ATTRIBUTE", `Attribute "${name}" is already defined here or above.`, [
          ...path,
          "name",
        ]),
      );
    }
    seen.add(name);
    const allowedValues = [...new Set((definition.allowedValues ?? []).map((v) => v.trim()))];
    if (allowedValues.length > 0 && definition.type !== "TEXT") {
      errors.push(
        userError("INVALID_ALLOWED_VALUES", "Only TEXT attributes list allowed values.", [
          ...path,
          "allowedValues",
        ]),
      );
    }
    if (allowedValues.some((v) => v.length === 0 || v.length > 100)) {
      errors.push(
        userError("INVALID_ALLOWED_VALUES", "Allowed values are 1 to 100 characters.", [
          ...path,
          "allowedValues",
        ]),
      );
    }
    return {
      name,
      label: definition.label?.trim() || name,
      type: definition.type,
      unit: definition.unit?.trim() || null,
      allowedValues,
    };
  });
}

function basics(errors: UserError[], slug: string, name: string, description: string) {
  if (!SLUG.test(slug) || slug.length > 80) {
    errors.push(
      userError("INVALID_SLUG", "slug must be lower-case words of letters and digits joined by dashes.", [
        "input",
        "slug",
      ]),
    );
  }
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100) {
    errors.push(userError("INVALID_NAME", "name must be 1 to 100 characters.", ["input", "name"]));
  }
  if (description.length > 2000) {
    errors.push(
      userError("INVALID_DESCRIPTION", "description must be at most 2000 characters.", [
        "input",
        "description",
      ]),
    );
  }
  return { slug, name: trimmed, description: description.trim() };
}

const duplicateSlug = () => userError("DUPLICATE_SLUG", "Another category has this slug.", ["input", "slug"]);

export async function createCategory(
  deps: CategoryDeps,
  input: CreateCategoryInput,
): Promise<CategoryResult> {
  const errors: UserError[] = [];
  const fields = basics(errors, input.slug, input.name, input.description ?? "");
  const tree = await deps.loaders.allCategories();
  const byId = new Map(tree.map((c) => [c.id, c]));
  let parent: CategoryModel | undefined;
  if (input.parentId !== null && input.parentId !== undefined) {
    parent = isObjectIdHex(input.parentId) ? byId.get(input.parentId.toLowerCase()) : undefined;
    if (!parent)
      errors.push(userError("UNKNOWN_PARENT", "There is no such parent category.", ["input", "parentId"]));
  }
  const attributes = definitions(
    errors,
    input.attributes ?? [],
    parent ? effectiveAttributes(parent, byId) : [],
  );
  if (tree.some((c) => c.slug === fields.slug)) errors.push(duplicateSlug());
  if (errors.length > 0) return failed(errors);
  let doc: CategoryDocument;
  try {
    doc = await insertCategory(deps.db, {
      id: newDocumentId(),
      ...fields,
      parentId: parent?.id ?? null,
      ancestorIds: parent ? [...parent.ancestorIds, parent.id] : [],
      attributes,
    });
  } catch (error) {
    if (isDuplicateKeyError(error)) return failed([duplicateSlug()]);
    throw error;
  }
  const category = toCategoryModel(doc);
  await deps.notices?.publish([category.id]);
  return { category, userErrors: [] };
}

export async function updateCategory(
  deps: CategoryDeps,
  input: UpdateCategoryInput,
): Promise<CategoryResult> {
  const tree = await deps.loaders.allCategories();
  const byId = new Map(tree.map((c) => [c.id, c]));
  const current = isObjectIdHex(input.id) ? byId.get(input.id.toLowerCase()) : undefined;
  if (!current)
    return failed([userError("CATEGORY_NOT_FOUND", "There is no such category.", ["input", "id"])]);
  const errors: UserError[] = [];
  const fields = basics(
    errors,
    input.slug ?? current.slug,
    input.name ?? current.name,
    input.description ?? current.description,
  );
  if (input.makeRoot && input.parentId) {
    errors.push(
      userError("CONFLICTING_INPUT", "Give parentId or makeRoot, not both.", ["input", "makeRoot"]),
    );
  }
  let parentId = current.parentId;
  if (input.makeRoot) parentId = null;
  if (input.parentId !== null && input.parentId !== undefined) {
    const parent = isObjectIdHex(input.parentId) ? byId.get(input.parentId.toLowerCase()) : undefined;
    if (!parent) {
      errors.push(userError("UNKNOWN_PARENT", "There is no such parent category.", ["input", "parentId"]));
    } else if (parent.id === current.id || parent.ancestorIds.includes(current.id)) {
      errors.push(
        userError("CATEGORY_CYCLE", "A category cannot move under itself or its own subcategory.", [
          "input",
          "parentId",
        ]),
      );
    } else {
      parentId = parent.id;
    }
  }
  const parent = parentId === null ? undefined : byId.get(parentId);
  const ancestorIds = parent ? [...parent.ancestorIds, parent.id] : [];
  const attributes = input.attributes
    ? definitions(errors, input.attributes, parent ? effectiveAttributes(parent, byId) : [])
    : current.attributes;
  if (tree.some((c) => c.slug === fields.slug && c.id !== current.id)) errors.push(duplicateSlug());
  if (errors.length > 0) return failed(errors);

  const changes: CategoryChanges = { ...fields, parentId, ancestorIds, attributes };
  const moved = parentId !== current.parentId;
  const descendants = moved ? tree.filter((c) => c.ancestorIds.includes(current.id)) : [];
  let doc: CategoryDocument | null;
  try {
    doc = await updateCategoryTree(deps.db, current.id, changes, descendants);
  } catch (error) {
    if (isDuplicateKeyError(error)) return failed([duplicateSlug()]);
    throw error;
  }
  if (!doc) return failed([userError("CATEGORY_NOT_FOUND", "There is no such category.", ["input", "id"])]);
  // A move changes every descendant's ancestors (breadcrumbs, paths) too.
  await deps.notices?.publish([current.id, ...descendants.map((c) => c.id)]);
  return { category: toCategoryModel(doc), userErrors: [] };
}
