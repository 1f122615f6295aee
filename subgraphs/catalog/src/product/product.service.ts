import { isObjectIdHex, userError } from "@nexus/core";
import type {
  CreateProductInput,
  MoneyInput,
  ProductAttributeInput,
  ProductImageInput,
  UpdateProductInput,
} from "../__generated__/resolvers-types.ts";
import type { CategoryLoaders } from "../category/category.loaders.ts";
import { effectiveAttributes } from "../category/category.model.ts";
import {
  type AttributeDefinitionDocument,
  type CatalogDb,
  newDocumentId,
  type ProductDocument,
} from "../db/collections.ts";
import { isDuplicateKeyError } from "../review/review.repository.ts";
import type { SearchChanges } from "../search/search-index.ts";
import type { UserError, UserErrorCode } from "../user-error.ts";
import type { ProductCache } from "./product.cache.ts";
import type { ProductLoaders } from "./product.loaders.ts";
import { type ProductModel, toProductModel } from "./product.model.ts";
import {
  findProductIdBySku,
  findProductIdBySlug,
  findProductsByIds,
  insertProduct,
  type ProductFields,
  updateProductFields,
} from "./product.repository.ts";

/**
 * What writing products needs: the store, the cache to invalidate (null when off), this
 * request's loaders (the category tree; `productById` re-primed after a write), and the store
 * currency every price written must be in.
 */
export interface ProductDeps {
  db: CatalogDb;
  cache: ProductCache | null;
  /** Told about every product written, so every replica's search index follows. */
  search: SearchChanges | null;
  loaders: Pick<ProductLoaders, "productById"> & Pick<CategoryLoaders, "allCategories">;
  storeCurrency: string;
}

export const SKU = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
export const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_SLUG = 120;
const MAX_PRICE = 100_000_000_00;
export const MAX_NAME = 200;
const MAX_IMAGES = 20;
const MAX_TAGS = 20;
const NUMBER = /^-?\d+(?:\.\d+)?$/;

export type ProductResult =
  | { product: ProductModel; userErrors: [] }
  | { product: null; userErrors: UserError[] };

const failed = (userErrors: UserError[]): ProductResult => ({ product: null, userErrors });

export const slugify = (value: string): string =>
  value
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, MAX_SLUG)
    .replace(/-$/, "");

function text(
  errors: UserError[],
  value: string,
  field: string,
  { min, max, code }: { min: number; max: number; code: UserErrorCode },
): string {
  const trimmed = value.trim();
  if (trimmed.length < min || trimmed.length > max) {
    errors.push(
      userError(
        code,
        min > 0
          ? `${field} must be ${min} to ${max} characters.`
          : `${field} must be at most ${max} characters.`,
        ["input", field],
      ),
    );
  }
  return trimmed;
}

/**
 * A price as stored: `currency` is the store's, or null for a price kept as it is by an update
 * that sets neither price, so a product priced before STORE_CURRENCY changed can still be
 * renamed or recategorised; setting a price puts the whole product in the store currency.
 */
function money(errors: UserError[], value: MoneyInput, field: string, currency: string | null) {
  if (value.amount < 0) {
    errors.push(userError("NEGATIVE_PRICE", `${field} must not be negative.`, ["input", field, "amount"]));
  } else if (value.amount > MAX_PRICE) {
    errors.push(userError("PRICE_TOO_HIGH", `${field} is above the maximum.`, ["input", field, "amount"]));
  }
  if (currency !== null && value.currencyCode !== currency) {
    errors.push(
      userError(
        "UNSUPPORTED_CURRENCY",
        `The store sells in ${currency} only; give ${field} in ${currency}, in its minor units.`,
        ["input", field, "currencyCode"],
      ),
    );
  }
  return { amount: value.amount, currencyCode: value.currencyCode };
}

/** Checks attribute values against the category's definitions (its ancestors' included). */
export function validateAttributes(
  errors: UserError[],
  attributes: readonly ProductAttributeInput[],
  definitions: readonly AttributeDefinitionDocument[],
): { name: string; value: string }[] {
  const seen = new Set<string>();
  return attributes.map((attribute, index) => {
    const path = ["input", "attributes", String(index)];
    const name = attribute.name.trim();
    const value = attribute.value.trim();
    const definition = definitions.find((d) => d.name === name);
    if (!definition) {
      errors.push(
        userError("UNKNOWN_ATTRIBUTE", `The category defines no attribute "${name}".`, [...path, "name"]),
      );
    } else if (seen.has(name)) {
      errors.push(userError("DUPLICATE_ATTRIBUTE", `Attribute "${name}" is given twice.`, [...path, "name"]));
    } else if (value.length === 0 || value.length > 100) {
      errors.push(
        userError("INVALID_ATTRIBUTE_VALUE", `${name} must be 1 to 100 characters.`, [...path, "value"]),
      );
    } else if (definition.type === "NUMBER" && !NUMBER.test(value)) {
      errors.push(userError("ATTRIBUTE_TYPE_MISMATCH", `${name} must be a number.`, [...path, "value"]));
    } else if (definition.type === "BOOLEAN" && value !== "true" && value !== "false") {
      errors.push(userError("ATTRIBUTE_TYPE_MISMATCH", `${name} must be true or false.`, [...path, "value"]));
    } else if (definition.allowedValues.length > 0 && !definition.allowedValues.includes(value)) {
      errors.push(
        userError(
          "ATTRIBUTE_VALUE_NOT_ALLOWED",
          `${name} must be one of ${definition.allowedValues.join(", ")}.`,
          [...path, "value"],
        ),
      );
    }
    seen.add(name);
    return { name, value };
  });
}

function images(errors: UserError[], input: readonly ProductImageInput[], name: string) {
  if (input.length > MAX_IMAGES) {
    errors.push(userError("TOO_MANY_IMAGES", `At most ${MAX_IMAGES} images.`, ["input", "images"]));
  }
  return input.map((image, index) => {
    let valid = false;
    try {
      valid = new URL(image.url).protocol === "https:";
    } catch {
      valid = false;
    }
    if (!valid) {
      errors.push(
        userError("INVALID_IMAGE_URL", "An image URL must be an absolute https URL.", [
          "input",
          "images",
          String(index),
          "url",
        ]),
      );
    }
    return { url: image.url, alt: image.alt?.trim() || name };
  });
}

function tags(errors: UserError[], input: readonly string[]): string[] {
  const cleaned = [...new Set(input.map((tag) => tag.trim().toLowerCase()))];
  if (cleaned.length > MAX_TAGS || cleaned.some((tag) => tag.length === 0 || tag.length > 40)) {
    errors.push(
      userError("INVALID_TAGS", `Up to ${MAX_TAGS} tags of 1 to 40 characters.`, ["input", "tags"]),
    );
  }
  return cleaned;
}

/** Validates the whole next state of a product; `current` is null when creating. */
async function validate(
  deps: ProductDeps,
  next: {
    sku: string;
    slug: string;
    name: string;
    description: string;
    brand: string;
    categoryId: string;
    price: MoneyInput;
    compareAtPrice: MoneyInput | null;
    attributes: readonly ProductAttributeInput[];
    images: readonly ProductImageInput[];
    tags: readonly string[];
    status: ProductFields["status"];
  },
  currentId: string | null,
  pricesKept = false,
): Promise<{ fields: ProductFields; errors: UserError[] }> {
  const errors: UserError[] = [];
  const sku = next.sku.trim().toUpperCase();
  if (!SKU.test(sku)) {
    errors.push(
      userError("INVALID_SKU", "sku must be 1 to 64 letters, digits and dashes.", ["input", "sku"]),
    );
  }
  const name = text(errors, next.name, "name", { min: 1, max: MAX_NAME, code: "INVALID_NAME" });
  const slug = next.slug.trim();
  if (!SLUG.test(slug) || slug.length > MAX_SLUG) {
    errors.push(
      userError(
        "INVALID_SLUG",
        `slug must be lower-case words of letters and digits joined by dashes, at most ${MAX_SLUG} characters.`,
        ["input", "slug"],
      ),
    );
  }
  const description = text(errors, next.description, "description", {
    min: 0,
    max: 5000,
    code: "INVALID_DESCRIPTION",
  });
  const brand = text(errors, next.brand, "brand", { min: 1, max: 100, code: "INVALID_BRAND" });
  const currency = pricesKept ? null : deps.storeCurrency;
  const price = money(errors, next.price, "price", currency);
  const compareAtPrice = next.compareAtPrice
    ? money(errors, next.compareAtPrice, "compareAtPrice", currency)
    : null;
  // Amounts in two currencies do not compare; the currency error above says what to fix.
  if (
    compareAtPrice &&
    compareAtPrice.currencyCode === price.currencyCode &&
    compareAtPrice.amount <= price.amount
  ) {
    errors.push(
      userError("INVALID_COMPARE_AT_PRICE", "compareAtPrice must be above price.", [
        "input",
        "compareAtPrice",
        "amount",
      ]),
    );
  }

  const tree = await deps.loaders.allCategories();
  const category = isObjectIdHex(next.categoryId)
    ? tree.find((c) => c.id === next.categoryId.toLowerCase())
    : undefined;
  let attributes: { name: string; value: string }[] = [];
  if (!category) {
    errors.push(userError("UNKNOWN_CATEGORY", "There is no such category.", ["input", "categoryId"]));
  } else {
    const byId = new Map(tree.map((c) => [c.id, c]));
    attributes = validateAttributes(errors, next.attributes, effectiveAttributes(category, byId));
  }

  const [skuOwner, slugOwner] = await Promise.all([
    SKU.test(sku) ? findProductIdBySku(deps.db, sku) : null,
    SLUG.test(slug) ? findProductIdBySlug(deps.db, slug) : null,
  ]);
  if (skuOwner && skuOwner !== currentId) {
    errors.push(userError("DUPLICATE_SKU", `Another product has sku ${sku}.`, ["input", "sku"]));
  }
  if (slugOwner && slugOwner !== currentId) {
    errors.push(userError("DUPLICATE_SLUG", `Another product has slug ${slug}.`, ["input", "slug"]));
  }
  return {
    errors,
    fields: {
      sku,
      slug,
      name,
      description,
      brand,
      categoryId: category?.id ?? next.categoryId,
      price,
      compareAtPrice,
      attributes,
      images: images(errors, next.images, name),
      tags: tags(errors, next.tags),
      status: next.status,
    },
  };
}

/** A unique-index violation that slipped past the checks (two writers at once) as a user error. */
function duplicateError(error: Error): UserError {
  return /sku/.test(error.message)
    ? userError("DUPLICATE_SKU", "Another product has this sku.", ["input", "sku"])
    : userError("DUPLICATE_SLUG", "Another product has this slug.", ["input", "slug"]);
}

export async function createProduct(deps: ProductDeps, input: CreateProductInput): Promise<ProductResult> {
  const { fields, errors } = await validate(
    deps,
    {
      ...input,
      slug: input.slug ?? slugify(input.name),
      compareAtPrice: input.compareAtPrice ?? null,
      attributes: input.attributes ?? [],
      images: input.images ?? [],
      tags: input.tags ?? [],
      status: input.status ?? "DRAFT",
    },
    null,
  );
  if (errors.length > 0) return failed(errors);
  let doc: ProductDocument;
  try {
    doc = await insertProduct(deps.db, { ...fields, id: newDocumentId(), createdAt: new Date() });
  } catch (error) {
    if (isDuplicateKeyError(error)) return failed([duplicateError(error)]);
    throw error;
  }
  await deps.search?.publish([doc._id.toHexString()]);
  return { product: toProductModel(doc), userErrors: [] };
}

const notFound = (): ProductResult =>
  failed([userError("PRODUCT_NOT_FOUND", "There is no such product.", ["input", "id"])]);

async function currentProduct(deps: ProductDeps, id: string): Promise<ProductDocument | null> {
  if (!isObjectIdHex(id)) return null;
  const [doc] = await findProductsByIds(deps.db, [id.toLowerCase()]);
  return doc ?? null;
}

async function writeProduct(deps: ProductDeps, id: string, fields: ProductFields): Promise<ProductResult> {
  let doc: ProductDocument | null;
  try {
    doc = await updateProductFields(deps.db, id, fields, new Date());
  } catch (error) {
    if (isDuplicateKeyError(error)) return failed([duplicateError(error)]);
    throw error;
  }
  // Invalidated after the write, so no reader can cache the product as it was before.
  await deps.cache?.invalidate([id]);
  await deps.search?.publish([id]);
  if (!doc) return notFound();
  const product = toProductModel(doc);
  deps.loaders.productById.clear(id).prime(id, product);
  return { product, userErrors: [] };
}

export async function updateProduct(deps: ProductDeps, input: UpdateProductInput): Promise<ProductResult> {
  const current = await currentProduct(deps, input.id);
  if (!current) return notFound();
  const id = current._id.toHexString();
  if (input.compareAtPrice && input.clearCompareAtPrice) {
    return failed([
      userError("CONFLICTING_INPUT", "Give compareAtPrice or clearCompareAtPrice, not both.", [
        "input",
        "clearCompareAtPrice",
      ]),
    ]);
  }
  const { fields, errors } = await validate(
    deps,
    {
      sku: input.sku ?? current.sku,
      slug: input.slug ?? current.slug,
      name: input.name ?? current.name,
      description: input.description ?? current.description,
      brand: input.brand ?? current.brand,
      categoryId: input.categoryId ?? current.categoryId.toHexString(),
      price: input.price ?? current.price,
      compareAtPrice: input.clearCompareAtPrice ? null : (input.compareAtPrice ?? current.compareAtPrice),
      // Kept attributes are checked again, so a category change cannot leave foreign ones behind.
      attributes: input.attributes ?? current.attributes,
      images: input.images ?? current.images,
      tags: input.tags ?? current.tags,
      status: input.status ?? current.status,
    },
    id,
    input.price == null && input.compareAtPrice == null && !input.clearCompareAtPrice,
  );
  if (errors.length > 0) return failed(errors);
  return writeProduct(deps, id, fields);
}

export async function archiveProduct(deps: ProductDeps, productId: string): Promise<ProductResult> {
  const current = await currentProduct(deps, productId);
  if (!current) return notFound();
  const {
    _id,
    categoryId,
    rating: _rating,
    attributeKeys: _keys,
    searchTerms: _terms,
    nameKey: _name,
    createdAt: _c,
    updatedAt: _u,
    ...fields
  } = current;
  return writeProduct(deps, _id.toHexString(), {
    ...fields,
    categoryId: categoryId.toHexString(),
    status: "ARCHIVED",
  });
}
