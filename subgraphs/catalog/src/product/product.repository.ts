import {
  type Collection,
  type Document,
  type Filter,
  MongoBulkWriteError,
  ObjectId,
  type OptionalUnlessRequiredId,
} from "mongodb";
import type { CatalogDb, ProductDocument, ProductStatus } from "../db/collections.ts";
import { isDuplicateKeyError } from "../review/review.repository.ts";
import { nameKeyOf, searchTermsOf } from "../search/text.ts";

/** `ids` must be 24-hex ObjectId strings; callers filter out anything else. */
export async function findProductsByIds(db: CatalogDb, ids: readonly string[]): Promise<ProductDocument[]> {
  if (ids.length === 0) return [];
  return db.products.find({ _id: { $in: ids.map((id) => new ObjectId(id)) } }).toArray();
}

export async function findProductsBySlugs(
  db: CatalogDb,
  slugs: readonly string[],
): Promise<ProductDocument[]> {
  return db.products.find({ slug: { $in: [...slugs] } }).toArray();
}

/** `skus` as stored (trimmed, upper-case); one `$in` find for the whole list. */
export async function findProductsBySkus(db: CatalogDb, skus: readonly string[]): Promise<ProductDocument[]> {
  if (skus.length === 0) return [];
  return db.products.find({ sku: { $in: [...skus] } }).toArray();
}

export async function findProductIdBySku(db: CatalogDb, sku: string): Promise<string | null> {
  const doc = await db.products.findOne({ sku }, { projection: { _id: 1 } });
  return doc?._id.toHexString() ?? null;
}

export async function findProductIdBySlug(db: CatalogDb, slug: string): Promise<string | null> {
  const doc = await db.products.findOne({ slug }, { projection: { _id: 1 } });
  return doc?._id.toHexString() ?? null;
}

/**
 * A product filter in repository terms, already validated and resolved (category slug to the
 * ids of the category and its descendants, search text to normalised words). Every value ends up
 * as an operand of a fixed operator on a fixed field: client input never names a field or operator.
 */
export interface ProductQuery {
  status: ProductStatus;
  categoryIds?: readonly string[] | undefined;
  /** Normalised words; a product must match at least one by prefix. */
  searchWords?: readonly string[] | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  attributes?: readonly { name: string; values: readonly string[] }[] | undefined;
  brands?: readonly string[] | undefined;
  /** True: not announced out of stock (unknown counts as in stock); false: announced out of stock. */
  inStock?: boolean | undefined;
  /** Only these products (24 hex): the matches of a search index, paged and sorted here. */
  ids?: readonly string[] | undefined;
}

type Clause = Filter<ProductDocument>;

const and = (clauses: readonly Clause[]): Clause =>
  clauses.length === 0 ? {} : clauses.length === 1 ? (clauses[0] as Clause) : { $and: [...clauses] };

/**
 * The query split into the clauses every facet shares and the ones a facet may leave out
 * (a facet ignores the constraint on its own dimension).
 */
function clausesOf(query: ProductQuery) {
  const common: Clause[] = [{ status: query.status }];
  if (query.categoryIds)
    common.push({ categoryId: { $in: query.categoryIds.map((id) => new ObjectId(id)) } });
  if (query.searchWords && query.searchWords.length > 0) {
    // Words are normalised to letters and digits, so they are safe inside the anchored regex.
    common.push({ $or: query.searchWords.map((word) => ({ searchTerms: { $regex: `^${word}` } })) });
  }
  if (query.inStock !== undefined) common.push({ inStock: query.inStock ? { $ne: false } : false });
  if (query.ids) common.push({ _id: { $in: query.ids.map((id) => new ObjectId(id)) } });
  let price: Clause | null = null;
  if (query.minPrice !== undefined || query.maxPrice !== undefined) {
    const bounds: { $gte?: number; $lte?: number } = {};
    if (query.minPrice !== undefined) bounds.$gte = query.minPrice;
    if (query.maxPrice !== undefined) bounds.$lte = query.maxPrice;
    price = { "price.amount": bounds };
  }
  const attributes = (query.attributes ?? []).map((attribute) => ({
    name: attribute.name,
    clause: {
      attributeKeys: { $in: attribute.values.map((value) => `${attribute.name}=${value}`) },
    } as Clause,
  }));
  const brand: Clause | null = query.brands ? { brand: { $in: [...query.brands] } } : null;
  return { common, price, attributes, brand };
}

/** The whole query as one MongoDB filter. */
export function toMongoFilter(query: ProductQuery): Clause {
  const { common, price, attributes, brand } = clausesOf(query);
  return and([
    ...common,
    ...(price ? [price] : []),
    ...attributes.map((a) => a.clause),
    ...(brand ? [brand] : []),
  ]);
}

export type SortKey = "NEWEST" | "PRICE_ASC" | "PRICE_DESC" | "RATING";

/** Sort fields per order, each ending with `_id` so that the order is total and cursors exact. */
export const SORT_FIELDS: Record<SortKey, readonly { field: string; direction: 1 | -1 }[]> = {
  NEWEST: [
    { field: "createdAt", direction: -1 },
    { field: "_id", direction: -1 },
  ],
  PRICE_ASC: [
    { field: "price.amount", direction: 1 },
    { field: "_id", direction: 1 },
  ],
  PRICE_DESC: [
    { field: "price.amount", direction: -1 },
    { field: "_id", direction: -1 },
  ],
  RATING: [
    { field: "rating.average", direction: -1 },
    { field: "rating.count", direction: -1 },
    { field: "_id", direction: -1 },
  ],
};

/**
 * The sort-key values of a product, in SORT_FIELDS order: what a cursor holds. `_id` is its
 * 24-hex string, so no ObjectId leaves this file; `after` turns it back into one.
 */
export type SortValue = Date | number | string;

export function sortValuesOf(doc: ProductDocument, sort: SortKey): SortValue[] {
  return SORT_FIELDS[sort].map(({ field }) => {
    switch (field) {
      case "createdAt":
        return doc.createdAt;
      case "price.amount":
        return doc.price.amount;
      case "rating.average":
        return doc.rating.average;
      case "rating.count":
        return doc.rating.count;
      default:
        return doc._id.toHexString();
    }
  });
}

const toMongoValue = (value: SortValue | undefined) =>
  typeof value === "string" ? new ObjectId(value) : value;

/**
 * Keyset condition "strictly after `values` in `sort` order" (or, `backward`, strictly before):
 * for fields (k1, k2, k3) it is k1 beyond v1, or k1 = v1 and k2 beyond v2, or k1 = v1, k2 = v2
 * and k3 beyond v3.
 */
function beyond(sort: SortKey, values: readonly SortValue[], backward: boolean): Clause {
  const fields = SORT_FIELDS[sort];
  const alternatives: Document[] = fields.map((key, index) => {
    const clause: Document = {};
    for (let i = 0; i < index; i++) clause[fields[i]?.field ?? ""] = toMongoValue(values[i]);
    const ascending = (key.direction === 1) !== backward;
    clause[key.field] = { [ascending ? "$gt" : "$lt"]: toMongoValue(values[index]) };
    return clause;
  });
  return { $or: alternatives } as Clause;
}

const flip = (direction: 1 | -1): 1 | -1 => (direction === 1 ? -1 : 1);

/**
 * Up to `limit` products past `after` in `sort` order. `backward` reads the other way, from the
 * end of the list or from before `after`: the sort and the keyset comparison flipped, so the
 * rows come nearest-first (reversed list order) and ties break on `_id` exactly as going forward.
 */
export async function findProductPage(
  db: CatalogDb,
  query: ProductQuery,
  options: {
    sort: SortKey;
    after?: readonly SortValue[] | undefined;
    limit: number;
    backward?: boolean | undefined;
  },
): Promise<ProductDocument[]> {
  const backward = options.backward ?? false;
  const filter = options.after
    ? and([toMongoFilter(query), beyond(options.sort, options.after, backward)])
    : toMongoFilter(query);
  const sort = Object.fromEntries(
    SORT_FIELDS[options.sort].map(({ field, direction }) => [field, backward ? flip(direction) : direction]),
  );
  return db.products.find(filter).sort(sort).limit(options.limit).toArray();
}

/** The statuses `productFeed` lists: what is or was on sale, so partners can delist archived products. */
const FEED_STATUSES: readonly ProductStatus[] = ["ACTIVE", "ARCHIVED"];

/** A position in the feed: the `updatedAt` and id of the last product of a page. */
export interface FeedKey {
  updatedAt: Date;
  id: string;
}

function feedFilter(updatedSince: Date | undefined): Filter<ProductDocument> {
  return updatedSince
    ? { status: { $in: [...FEED_STATUSES] }, updatedAt: { $gte: updatedSince } }
    : { status: { $in: [...FEED_STATUSES] } };
}

/**
 * One page of the partner feed: products changed at or after `updatedSince`, by
 * (`updatedAt`, `_id`) ascending, strictly after `after`. Served by the `updated_feed` index.
 */
export async function findProductFeedPage(
  db: CatalogDb,
  options: { updatedSince?: Date | undefined; after?: FeedKey | undefined; limit: number },
): Promise<ProductDocument[]> {
  const filter = feedFilter(options.updatedSince);
  const { after } = options;
  const page = after
    ? and([
        filter,
        {
          $or: [
            { updatedAt: { $gt: after.updatedAt } },
            { updatedAt: after.updatedAt, _id: { $gt: new ObjectId(after.id) } },
          ],
        },
      ])
    : filter;
  return db.products.find(page).sort({ updatedAt: 1, _id: 1 }).limit(options.limit).toArray();
}

export async function countProductFeed(db: CatalogDb, updatedSince: Date | undefined): Promise<number> {
  return db.products.countDocuments(feedFilter(updatedSince));
}

/** What relevance ranking needs of every matching product; the page is then fetched by id. */
export async function findSearchCandidates(
  db: CatalogDb,
  query: ProductQuery,
): Promise<{ _id: ObjectId; searchTerms: string[]; nameKey: string }[]> {
  return db.products
    .find(toMongoFilter(query), { projection: { _id: 1, searchTerms: 1, nameKey: 1 } })
    .toArray() as Promise<{ _id: ObjectId; searchTerms: string[]; nameKey: string }[]>;
}

/** ACTIVE products with a search term starting with each word: what type-ahead ranks. */
export async function findSuggestionCandidates(
  db: CatalogDb,
  words: readonly string[],
  limit: number,
): Promise<{ id: string; nameKey: string; searchTerms: string[]; ratingCount: number }[]> {
  const docs = await db.products
    .find(
      { status: "ACTIVE", $and: words.map((word) => ({ searchTerms: { $regex: `^${word}` } })) },
      { projection: { _id: 1, nameKey: 1, searchTerms: 1, "rating.count": 1 } },
    )
    .limit(limit)
    .toArray();
  return docs.map((doc) => ({
    id: doc._id.toHexString(),
    nameKey: doc.nameKey,
    searchTerms: doc.searchTerms,
    ratingCount: doc.rating?.count ?? 0,
  }));
}

export async function countProducts(db: CatalogDb, query?: ProductQuery): Promise<number> {
  return db.products.countDocuments(query ? toMongoFilter(query) : {});
}

export interface FacetCounts {
  total: number;
  /** Products per category they are directly in. */
  categories: { id: string; count: number }[];
  brands: { value: string; count: number }[];
  /** `name=value` with counts; for a filtered attribute, counted without its own filter. */
  attributeKeys: { key: string; count: number }[];
  minPrice: { amount: number; currencyCode: string } | null;
  maxPrice: { amount: number; currencyCode: string } | null;
}

/**
 * Total and facet counts in one aggregation. Every facet shares the status, category and search
 * clauses; the attribute, brand and price facets each leave out the clause on their own dimension,
 * so a shopper sees what else they could pick. Only stages the embedded server computes
 * correctly: `$match`, `$facet`, `$unwind`, `$sortByCount`, `$count`, `$sort`, `$limit`.
 */
export async function aggregateFacets(db: CatalogDb, query: ProductQuery): Promise<FacetCounts> {
  const { common, price, attributes, brand } = clausesOf(query);
  const attributeClauses = attributes.map((a) => a.clause);
  const all = [...(price ? [price] : []), ...attributeClauses, ...(brand ? [brand] : [])];
  const without = (left: Clause | null) => ({ $match: and(all.filter((clause) => clause !== left)) });
  const priceOf = (direction: 1 | -1) => [
    without(price),
    { $sort: { "price.amount": direction, _id: 1 } },
    { $limit: 1 },
  ];
  const facets: Record<string, Document[]> = {
    total: [{ $match: and(all) }, { $count: "count" }],
    categories: [{ $match: and(all) }, { $sortByCount: "$categoryId" }],
    brands: [without(brand), { $sortByCount: "$brand" }],
    attributes: [{ $match: and(all) }, { $unwind: "$attributeKeys" }, { $sortByCount: "$attributeKeys" }],
    minPrice: priceOf(1),
    maxPrice: priceOf(-1),
  };
  attributes.forEach((attribute, index) => {
    facets[`attribute${index}`] = [
      without(attribute.clause),
      { $unwind: "$attributeKeys" },
      { $match: { attributeKeys: { $regex: `^${escapeKey(attribute.name)}=` } } },
      { $sortByCount: "$attributeKeys" },
    ];
  });
  const [result] = await db.products.aggregate([{ $match: and(common) }, { $facet: facets }]).toArray();
  const counts = (rows: unknown) => (Array.isArray(rows) ? (rows as { _id: unknown; count: number }[]) : []);
  const filtered = new Set(attributes.map((a) => a.name));
  const attributeKeys = counts(result?.attributes)
    .filter((row) => !filtered.has(String(row._id).split("=")[0] ?? ""))
    .map((row) => ({ key: String(row._id), count: row.count }));
  attributes.forEach((_attribute, index) => {
    for (const row of counts(result?.[`attribute${index}`]))
      attributeKeys.push({ key: String(row._id), count: row.count });
  });
  const priceDoc = (rows: unknown) => {
    const [doc] = Array.isArray(rows) ? (rows as ProductDocument[]) : [];
    return doc ? { amount: doc.price.amount, currencyCode: doc.price.currencyCode } : null;
  };
  return {
    total: counts(result?.total)[0]?.count ?? 0,
    categories: counts(result?.categories).map((row) => ({
      id: row._id instanceof ObjectId ? row._id.toHexString() : String(row._id),
      count: row.count,
    })),
    brands: counts(result?.brands).map((row) => ({ value: String(row._id), count: row.count })),
    attributeKeys,
    minPrice: priceDoc(result?.minPrice),
    maxPrice: priceDoc(result?.maxPrice),
  };
}

/** Attribute names are validated to `[a-z][a-z0-9_]*`; escaped anyway, as they reach a regex. */
const escapeKey = (name: string): string => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface ProductFields {
  sku: string;
  slug: string;
  name: string;
  description: string;
  brand: string;
  categoryId: string;
  price: { amount: number; currencyCode: string };
  compareAtPrice: { amount: number; currencyCode: string } | null;
  attributes: { name: string; value: string }[];
  images: { url: string; alt: string }[];
  tags: string[];
  status: ProductStatus;
}

/** The stored form of editable fields with every derived field; the only place they are derived. */
function storedFields(product: ProductFields) {
  return {
    ...product,
    categoryId: new ObjectId(product.categoryId),
    attributeKeys: product.attributes.map(({ name, value }) => `${name}=${value}`),
    searchTerms: searchTermsOf(product),
    nameKey: nameKeyOf(product.name),
  };
}

export interface NewProduct extends ProductFields {
  id: string;
  createdAt: Date;
  rating?: { average: number; count: number; sum: number } | undefined;
}

const EMPTY_RATING = { average: 0, count: 0, sum: 0 };

function newDocument({ id, createdAt, rating, ...fields }: NewProduct): ProductDocument {
  return {
    _id: new ObjectId(id),
    ...storedFields(fields),
    rating: { ...(rating ?? EMPTY_RATING), version: 0, appliedVersion: 0 },
    createdAt,
    updatedAt: createdAt,
  };
}

/**
 * Inserts products that are not stored yet; ones already there (same id) are skipped rather
 * than failing, so two processes seeding at once both succeed. Plain inserts, not upserts: on
 * the embedded server an upsert scans the collection, which makes a bulk seed quadratic.
 * Returns how many it inserted.
 */
export async function insertMissingProducts(db: CatalogDb, products: readonly NewProduct[]): Promise<number> {
  return insertIgnoringDuplicates(db.products, products.map(newDocument));
}

/**
 * `insertMany` that treats duplicate keys as "already there" and says how many it inserted.
 * MongoDB inserts every other document of a batch with a duplicate; the embedded server refuses
 * the whole batch. So after a duplicate the documents go again one at a time, where the ones
 * already stored are the duplicates: the count is right on both.
 */
export async function insertIgnoringDuplicates<T extends Document>(
  collection: Collection<T>,
  docs: readonly OptionalUnlessRequiredId<T>[],
): Promise<number> {
  if (docs.length === 0) return 0;
  try {
    return (await collection.insertMany([...docs], { ordered: false })).insertedCount;
  } catch (error) {
    if (!onlyDuplicateKeys(error)) throw error;
    let inserted = error instanceof MongoBulkWriteError ? error.result.insertedCount : 0;
    for (const doc of docs) {
      try {
        await collection.insertOne(doc);
        inserted++;
      } catch (single) {
        if (!isDuplicateKeyError(single)) throw single;
      }
    }
    return inserted;
  }
}

/**
 * Inserts new products in one unordered `insertMany`. Returns the stored documents when every
 * one was inserted, or null when a sku or slug was taken; any other failure is thrown. After
 * null the caller reads back what was stored: MongoDB inserts every other document and lists
 * the refused ones, but the embedded server refuses the whole batch and lists none, so neither
 * the count nor the list in the error can be trusted on both.
 */
export async function insertNewProducts(
  db: CatalogDb,
  products: readonly NewProduct[],
): Promise<ProductDocument[] | null> {
  const docs = products.map(newDocument);
  if (docs.length === 0) return docs;
  try {
    await db.products.insertMany(docs, { ordered: false });
    return docs;
  } catch (error) {
    if (onlyDuplicateKeys(error)) return null;
    throw error;
  }
}

/** A failure whose every write error, or the failure itself, is a duplicate key. */
function onlyDuplicateKeys(error: unknown): boolean {
  if (error instanceof MongoBulkWriteError) {
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    if (writeErrors.length > 0) return writeErrors.every((e) => e.code === 11000);
  }
  return isDuplicateKeyError(error);
}

/** Throws a duplicate-key error (code 11000) when the sku or slug is taken. */
export async function insertProduct(db: CatalogDb, product: NewProduct): Promise<ProductDocument> {
  const doc = newDocument(product);
  await db.products.insertOne(doc);
  return doc;
}

/**
 * Replaces the editable fields (and their derived ones) of a product. Throws a duplicate-key
 * error when the new sku or slug is taken. Returns the stored product, or null when it is gone.
 */
export async function updateProductFields(
  db: CatalogDb,
  id: string,
  fields: ProductFields,
  now: Date,
): Promise<ProductDocument | null> {
  return db.products.findOneAndUpdate(
    { _id: new ObjectId(id) },
    { $set: { ...storedFields(fields), updatedAt: now } },
    { returnDocument: "after" },
  );
}

/**
 * Recounts a product's rating from its APPROVED reviews. Correct under any interleaving: the
 * version is bumped after the caller's review write and before the recount, and a recount is
 * stored only over an older version, so the recount of the last write (which sees every write)
 * is the one that stays. Also repairs a rating left behind by a crash between two steps.
 */
export async function refreshRating(db: CatalogDb, productId: string): Promise<void> {
  const _id = new ObjectId(productId);
  const bumped = await db.products.findOneAndUpdate(
    { _id },
    { $inc: { "rating.version": 1 } },
    { returnDocument: "after", projection: { rating: 1 } },
  );
  if (!bumped) return;
  const version = bumped.rating.version;
  const [totals] = await db.reviews
    .aggregate<{ count: number; sum: number }>([
      { $match: { productId: _id, status: "APPROVED" } },
      { $group: { _id: "$productId", count: { $sum: 1 }, sum: { $sum: "$rating" } } },
    ])
    .toArray();
  const count = totals?.count ?? 0;
  const sum = totals?.sum ?? 0;
  await db.products.updateOne(
    { _id, "rating.appliedVersion": { $lt: version } },
    {
      $set: {
        "rating.average": count === 0 ? 0 : sum / count,
        "rating.count": count,
        "rating.sum": sum,
        "rating.appliedVersion": version,
        // Search ranks and the catch-up pass finds products by this.
        updatedAt: new Date(),
      },
    },
  );
}

/** One page of ACTIVE products by `_id`, after `afterId`: what a search index build reads. */
export async function findActiveProductPage(
  db: CatalogDb,
  afterId: string | null,
  limit: number,
): Promise<ProductDocument[]> {
  const filter: Filter<ProductDocument> = afterId
    ? { status: "ACTIVE", _id: { $gt: new ObjectId(afterId) } }
    : { status: "ACTIVE" };
  return db.products.find(filter).sort({ _id: 1 }).limit(limit).toArray();
}

/**
 * Products of any status changed at or after `since`, by (`updatedAt`, `_id`), after `after`:
 * what the search index's catch-up pass reads. Served by the `updated_feed` index.
 */
export async function findProductsUpdatedSince(
  db: CatalogDb,
  since: Date,
  after: FeedKey | null,
  limit: number,
): Promise<ProductDocument[]> {
  const filter: Filter<ProductDocument> = after
    ? {
        $or: [
          { updatedAt: { $gt: after.updatedAt } },
          { updatedAt: after.updatedAt, _id: { $gt: new ObjectId(after.id) } },
        ],
      }
    : { updatedAt: { $gte: since } };
  return db.products.find(filter).sort({ updatedAt: 1, _id: 1 }).limit(limit).toArray();
}

/**
 * Records inventory's word on a product's stock, unless a newer event already did (`at` is the
 * event's time). Bumps `updatedAt`. Returns whether it changed anything.
 */
export async function setProductInStock(
  db: CatalogDb,
  productId: string,
  inStock: boolean,
  at: Date,
  now: Date,
): Promise<boolean> {
  const result = await db.products.updateOne(
    {
      _id: new ObjectId(productId),
      $or: [{ inStockAt: { $exists: false } }, { inStockAt: { $lt: at } }],
    },
    { $set: { inStock, inStockAt: at, updatedAt: now } },
  );
  return result.modifiedCount > 0;
}
