import { isCurrencyCode, userError } from "@nexus/core";
import type { ImportProductsInput } from "../__generated__/resolvers-types.ts";
import { findCategoryBySlug, insertCategory } from "../category/category.repository.ts";
import { type CatalogDb, newDocumentId, type ProductDocument } from "../db/collections.ts";
import { isDuplicateKeyError } from "../review/review.repository.ts";
import type { SearchChanges } from "../search/search-index.ts";
import type { UserError } from "../user-error.ts";
import type { ProductLoaders } from "./product.loaders.ts";
import { type ProductModel, toProductModel } from "./product.model.ts";
import {
  findProductsByIds,
  findProductsBySkus,
  findProductsBySlugs,
  insertNewProducts,
  type NewProduct,
} from "./product.repository.ts";
import { MAX_NAME, MAX_SLUG, SKU, slugify } from "./product.service.ts";

export const MAX_IMPORTED_PRODUCTS = 500;

/** Where imported products go until someone sorts them into the tree. */
export const IMPORTED_CATEGORY = {
  slug: "imported",
  name: "Imported",
  description: "Products brought in by a store import, waiting to be sorted into the category tree.",
} as const;

/**
 * What importing needs: the store, this request's `productById` to prime with the results, and
 * the store currency every imported price must be in.
 */
export interface ImportProductsDeps {
  db: CatalogDb;
  loaders: Pick<ProductLoaders, "productById">;
  storeCurrency: string;
  /** Told about every product created, so every replica's search index follows. */
  search: SearchChanges | null;
}

export interface ImportedProductResult {
  sku: string;
  product: ProductModel;
  categoryId: string;
  created: boolean;
}

export type ImportProductsResult =
  | { products: ImportedProductResult[]; userErrors: [] }
  | { products: []; userErrors: UserError[] };

interface ValidProduct {
  sku: string;
  name: string;
  price: { amount: number; currencyCode: string };
}

/** Every rule of every input at once, so one answer lists all that is wrong with a batch. */
function validate(
  input: ImportProductsInput,
  storeCurrency: string,
): { products: ValidProduct[]; errors: UserError[] } {
  const errors: UserError[] = [];
  if (input.products.length > MAX_IMPORTED_PRODUCTS) {
    errors.push(
      userError("TOO_MANY_PRODUCTS", `At most ${MAX_IMPORTED_PRODUCTS} products per call.`, [
        "input",
        "products",
      ]),
    );
    return { products: [], errors };
  }
  const seen = new Set<string>();
  const products = input.products.map((product, index) => {
    const path = ["input", "products", String(index)];
    const sku = product.sku.trim().toUpperCase();
    if (!SKU.test(sku)) {
      errors.push(
        userError(
          "INVALID_SKU",
          "sku must be 1 to 64 letters, digits and dashes, starting with a letter or digit.",
          [...path, "sku"],
        ),
      );
    } else if (seen.has(sku)) {
      errors.push(userError("DUPLICATE_SKU", `sku ${sku} is given more than once.`, [...path, "sku"]));
    }
    seen.add(sku);
    const name = product.name.trim();
    if (name.length === 0 || name.length > MAX_NAME) {
      errors.push(userError("INVALID_NAME", `name must be 1 to ${MAX_NAME} characters.`, [...path, "name"]));
    }
    const { amount } = product.price;
    // No upper bound to check: an Int cannot exceed createProduct's maximum price.
    if (amount < 0) {
      errors.push(userError("NEGATIVE_PRICE", "price must not be negative.", [...path, "price", "amount"]));
    }
    const currencyCode = product.price.currencyCode.trim().toUpperCase();
    if (!isCurrencyCode(currencyCode)) {
      errors.push(
        userError("INVALID_CURRENCY", "currencyCode must be an ISO 4217 code such as USD.", [
          ...path,
          "price",
          "currencyCode",
        ]),
      );
    } else if (currencyCode !== storeCurrency) {
      errors.push(
        userError(
          "UNSUPPORTED_CURRENCY",
          `The store sells in ${storeCurrency} only; give the price in ${storeCurrency}, in its minor units.`,
          [...path, "price", "currencyCode"],
        ),
      );
    }
    return { sku, name, price: { amount, currencyCode } };
  });
  return { products, errors };
}

/**
 * The slug of an imported product: its name's slug, shortened so that the sku always fits,
 * then the sku. Skus are unique, so slugs are too, except for skus that differ only in runs of
 * dashes (`A--B` and `A-B`); `insertAll` gives those a suffix.
 */
export function importedSlug(name: string, sku: string): string {
  const tail = slugify(sku);
  const head = slugify(name)
    .slice(0, MAX_SLUG - tail.length - 1)
    .replace(/-$/, "");
  return head ? `${head}-${tail}` : tail;
}

/**
 * The category imported products go to, created by the first import that needs it. The slug's
 * unique index settles two imports creating it at once: the loser reads the winner's.
 */
async function importedCategoryId(db: CatalogDb): Promise<string> {
  const existing = await findCategoryBySlug(db, IMPORTED_CATEGORY.slug);
  if (existing) return existing._id.toHexString();
  try {
    const created = await insertCategory(db, {
      id: newDocumentId(),
      ...IMPORTED_CATEGORY,
      parentId: null,
      ancestorIds: [],
      attributes: [],
    });
    return created._id.toHexString();
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const winner = await findCategoryBySlug(db, IMPORTED_CATEGORY.slug);
    if (!winner) throw new Error("The imported category was taken and then vanished.");
    return winner._id.toHexString();
  }
}

function newProduct(product: ValidProduct, categoryId: string, slug: string, now: Date): NewProduct {
  return {
    id: newDocumentId(),
    sku: product.sku,
    slug,
    name: product.name,
    description: "",
    brand: "",
    categoryId,
    price: product.price,
    compareAtPrice: null,
    attributes: [],
    images: [],
    tags: [],
    status: "ACTIVE",
    createdAt: now,
  };
}

/** Gives every product whose slug another one of `products` already has a suffixed slug. */
function distinctSlugs(products: readonly NewProduct[], taken: ReadonlySet<string>): NewProduct[] {
  const used = new Set(taken);
  return products.map((product) => {
    if (!used.has(product.slug)) {
      used.add(product.slug);
      return product;
    }
    // The id is unique, so its tail makes the slug free in all but astronomically rare cases,
    // which the next attempt catches like any other clash.
    const slug = `${product.slug.slice(0, MAX_SLUG - 9)}-${product.id.slice(-8)}`;
    used.add(slug);
    return { ...product, slug };
  });
}

const MAX_INSERT_ATTEMPTS = 4;

/**
 * Inserts the missing products in bulk. When a key was taken, what was stored is read back
 * (MongoDB stores the rest of the batch; the embedded server stores none of it): a sku taken
 * meanwhile by another import is that product, `created: false`; a taken slug gets a suffix;
 * everything else is inserted again.
 */
async function insertAll(
  db: CatalogDb,
  missing: readonly ValidProduct[],
  categoryId: string,
): Promise<{ created: ProductDocument[]; raced: ProductDocument[] }> {
  const now = new Date();
  const created: ProductDocument[] = [];
  const raced: ProductDocument[] = [];
  let pending = distinctSlugs(
    missing.map((product) => newProduct(product, categoryId, importedSlug(product.name, product.sku), now)),
    new Set(),
  );
  for (let attempt = 1; pending.length > 0; attempt++) {
    const inserted = await insertNewProducts(db, pending);
    if (inserted) {
      created.push(...inserted);
      break;
    }
    if (attempt === MAX_INSERT_ATTEMPTS) {
      throw new Error(`Products ${pending.map((p) => p.sku).join(", ")} kept clashing on insert.`);
    }
    const stored = await findProductsByIds(
      db,
      pending.map((product) => product.id),
    );
    created.push(...stored);
    const storedIds = new Set(stored.map((doc) => doc._id.toHexString()));
    const unstored = pending.filter((product) => !storedIds.has(product.id));
    const taken = await findProductsBySkus(
      db,
      unstored.map((product) => product.sku),
    );
    raced.push(...taken);
    const takenSkus = new Set(taken.map((doc) => doc.sku));
    const rest = unstored.filter((product) => !takenSkus.has(product.sku));
    const takenSlugs = await findProductsBySlugs(
      db,
      rest.map((product) => product.slug),
    );
    pending = distinctSlugs(rest, new Set(takenSlugs.map((doc) => doc.slug)));
  }
  return { created, raced };
}

/**
 * `importProducts`: validates every input, finds the skus the catalog has in one query, and
 * inserts the rest in one unordered bulk insert. The answer lists every input in order.
 */
export async function importProducts(
  deps: ImportProductsDeps,
  input: ImportProductsInput,
): Promise<ImportProductsResult> {
  const { products, errors } = validate(input, deps.storeCurrency);
  if (errors.length > 0) return { products: [], userErrors: errors };
  const bySku = new Map<string, { doc: ProductDocument; created: boolean }>();
  for (const doc of await findProductsBySkus(
    deps.db,
    products.map((product) => product.sku),
  )) {
    bySku.set(doc.sku, { doc, created: false });
  }
  const missing = products.filter((product) => !bySku.has(product.sku));
  if (missing.length > 0) {
    const { created, raced } = await insertAll(deps.db, missing, await importedCategoryId(deps.db));
    for (const doc of created) bySku.set(doc.sku, { doc, created: true });
    for (const doc of raced) bySku.set(doc.sku, { doc, created: false });
    await deps.search?.publish(created.map((doc) => doc._id.toHexString()));
  }
  return {
    products: products.map(({ sku }) => {
      const found = bySku.get(sku);
      if (!found) throw new Error(`Product ${sku} was neither found nor created.`);
      const product = toProductModel(found.doc);
      deps.loaders.productById.clear(product.id).prime(product.id, product);
      return { sku, product, categoryId: product.categoryId, created: found.created };
    }),
    userErrors: [],
  };
}
