import {
  type Collection,
  type CreateIndexesOptions,
  type Db,
  type IndexSpecification,
  ObjectId,
} from "mongodb";
import type { HoldReason } from "../review/screening.model.ts";

/** A fresh document id as 24 hex characters, so services name new documents without the driver. */
export const newDocumentId = (): string => new ObjectId().toHexString();

export type ProductStatus = "DRAFT" | "ACTIVE" | "ARCHIVED";
export type ReviewStatus = "PENDING" | "APPROVED" | "REJECTED";
export type AttributeType = "TEXT" | "NUMBER" | "BOOLEAN";

/** A product as stored in `products`. Never leaves the repositories: resolvers see ProductModel. */
export interface ProductDocument {
  _id: ObjectId;
  sku: string;
  slug: string;
  name: string;
  description: string;
  brand: string;
  categoryId: ObjectId;
  price: { amount: number; currencyCode: string };
  compareAtPrice: { amount: number; currencyCode: string } | null;
  attributes: { name: string; value: string }[];
  /**
   * `name=value` for every attribute, written together with `attributes`: filters are then an
   * `$in` on one array and facet counts a plain `$unwind` + `$group` on one path, which the
   * embedded server computes correctly.
   */
  attributeKeys: string[];
  images: { url: string; alt: string }[];
  tags: string[];
  status: ProductStatus;
  /**
   * Normalised words (lower case, no accents) of name, brand, sku, tags and attribute values,
   * written with them. Keyword search is a prefix `$regex` on this array and ranking happens in
   * code, because `$text` exists neither on the embedded server nor with prefix matching.
   */
  searchTerms: string[];
  /** The normalised name, to rank an exact-name match first. */
  nameKey: string;
  /**
   * Derived from the APPROVED reviews by `refreshRating` only. `version` is bumped before each
   * recount and a recount is applied only over an older one, so the newest recount wins.
   */
  rating: { average: number; count: number; sum: number; version: number; appliedVersion: number };
  /**
   * False once inventory announced the product out of stock, true once back in stock; absent
   * (never heard) counts as in stock. Set only by an event newer than `inStockAt`, the time of
   * the event that set it, so a late older event never undoes a newer one.
   */
  inStock?: boolean;
  inStockAt?: Date;
  createdAt: Date;
  /** Bumped by every write that changes what search holds (fields, status, rating, stock). */
  updatedAt: Date;
}

export interface AttributeDefinitionDocument {
  name: string;
  label: string;
  type: AttributeType;
  unit: string | null;
  allowedValues: string[];
}

/** A category as stored in `categories`: a tree by `parentId`, with the path to the root kept. */
export interface CategoryDocument {
  _id: ObjectId;
  slug: string;
  name: string;
  description: string;
  parentId: ObjectId | null;
  /** From the top down, excluding itself; "products of a category and its descendants" is one `$in`. */
  ancestorIds: ObjectId[];
  attributes: AttributeDefinitionDocument[];
}

/** One customer's review of one product (unique pair). */
export interface ReviewDocument {
  _id: ObjectId;
  productId: ObjectId;
  /** The users subgraph's account id. */
  authorId: string;
  rating: number;
  title: string;
  body: string;
  status: ReviewStatus;
  verifiedPurchase: boolean;
  submittedAt: Date;
  moderatedAt: Date | null;
  /** The moderator's account id; null when screening approved it or nobody decided yet. */
  moderatedBy: string | null;
  /** Customers who marked it helpful: one `review_votes` document each, counted when inserted. */
  helpfulCount: number;
  /** Screening's verdict on this version; null for reviews written before screening existed. */
  screening: ReviewScreeningDocument | null;
}

export interface ReviewScreeningDocument {
  reasons: HoldReason[];
  detail: string;
  /** Screening approved it: a clean review by a verified buyer, with auto-approval on. */
  autoApproved: boolean;
}

/** One customer's "helpful" vote on one review; unique per (reviewId, customerId). */
export interface ReviewVoteDocument {
  _id: ObjectId;
  reviewId: ObjectId;
  customerId: string;
  createdAt: Date;
}

/** A product delivered to a customer, learned from `OrderDelivered`; `_id` is `customerId:productId`. */
export interface PurchaseDocument {
  _id: string;
  customerId: string;
  productId: ObjectId;
  orderId: string;
  deliveredAt: Date;
}

/** Events this subgraph has applied, for operators; effects are idempotent on their own. */
export interface ProcessedEventDocument {
  _id: string;
  type: string;
  processedAt: Date;
}

export interface CatalogDb {
  products: Collection<ProductDocument>;
  categories: Collection<CategoryDocument>;
  reviews: Collection<ReviewDocument>;
  reviewVotes: Collection<ReviewVoteDocument>;
  purchases: Collection<PurchaseDocument>;
  processedEvents: Collection<ProcessedEventDocument>;
}

export function createCatalogDb(db: Db): CatalogDb {
  return {
    products: db.collection<ProductDocument>("products"),
    categories: db.collection<CategoryDocument>("categories"),
    reviews: db.collection<ReviewDocument>("reviews"),
    reviewVotes: db.collection<ReviewVoteDocument>("review_votes"),
    purchases: db.collection<PurchaseDocument>("purchases"),
    processedEvents: db.collection<ProcessedEventDocument>("processed_events"),
  };
}

/** One index the queries rely on: its collection, key and options (its name is how it is checked). */
interface IndexSpec {
  collection: keyof CatalogDb;
  key: IndexSpecification;
  options: CreateIndexesOptions & { name: string };
}

/** Every index catalog's queries rely on. */
const INDEXES: readonly IndexSpec[] = [
  { collection: "products", key: { sku: 1 }, options: { unique: true, name: "sku_unique" } },
  { collection: "products", key: { slug: 1 }, options: { unique: true, name: "slug_unique" } },
  // Category pages sorted or bounded by price.
  {
    collection: "products",
    key: { categoryId: 1, "price.amount": 1, _id: 1 },
    options: { name: "category_price" },
  },
  { collection: "products", key: { status: 1, createdAt: -1, _id: -1 }, options: { name: "status_newest" } },
  // The partner feed pages by (updatedAt, _id) over every non-draft status.
  { collection: "products", key: { updatedAt: 1, _id: 1 }, options: { name: "updated_feed" } },
  {
    collection: "products",
    key: { status: 1, "rating.average": -1, "rating.count": -1, _id: -1 },
    options: { name: "status_rating" },
  },
  // Multikey: prefix regexes anchored with ^ use it on MongoDB.
  { collection: "products", key: { searchTerms: 1 }, options: { name: "search_terms" } },
  { collection: "products", key: { attributeKeys: 1 }, options: { name: "attribute_keys" } },
  { collection: "products", key: { brand: 1 }, options: { name: "brand" } },
  { collection: "categories", key: { slug: 1 }, options: { unique: true, name: "slug_unique" } },
  { collection: "categories", key: { ancestorIds: 1 }, options: { name: "ancestors" } },
  {
    collection: "reviews",
    key: { productId: 1, authorId: 1 },
    options: { unique: true, name: "one_per_customer" },
  },
  {
    collection: "reviews",
    key: { productId: 1, status: 1, submittedAt: -1, _id: -1 },
    options: { name: "product_status_newest" },
  },
  { collection: "reviews", key: { status: 1, submittedAt: -1, _id: -1 }, options: { name: "status_newest" } },
  { collection: "reviews", key: { authorId: 1, productId: 1 }, options: { name: "author" } },
  {
    collection: "reviews",
    key: { productId: 1, status: 1, helpfulCount: -1, submittedAt: -1, _id: -1 },
    options: { name: "product_status_helpful" },
  },
  // One vote per customer per review, whatever races: the second insert is a duplicate key.
  {
    collection: "reviewVotes",
    key: { reviewId: 1, customerId: 1 },
    options: { unique: true, name: "one_per_customer" },
  },
  { collection: "reviewVotes", key: { customerId: 1, reviewId: 1 }, options: { name: "customer" } },
  { collection: "purchases", key: { customerId: 1, productId: 1 }, options: { name: "customer_product" } },
];

/**
 * Creates the indexes the queries rely on and returns the names of those it created (as
 * `collection.name`). MongoDB treats an existing identical index as a no-op, so this is what
 * migrating means for catalog: at start (DATABASE_MIGRATIONS=auto) or in its migrate command.
 */
export async function ensureIndexes(db: CatalogDb): Promise<string[]> {
  const missing = new Set(await missingIndexes(db));
  await Promise.all(INDEXES.map((index) => db[index.collection].createIndex(index.key, index.options)));
  return INDEXES.map(indexLabel).filter((label) => missing.has(label));
}

/**
 * The indexes (`collection.name`) the queries rely on that the database does not have:
 * DATABASE_MIGRATIONS=verify refuses to start while one is missing.
 */
export async function missingIndexes(db: CatalogDb): Promise<string[]> {
  const existing = new Set<string>();
  for (const collection of new Set(INDEXES.map((index) => index.collection))) {
    // A collection that does not exist yet has no indexes; listing it fails with NamespaceNotFound.
    const indexes = await db[collection]
      .listIndexes()
      .toArray()
      .catch(() => []);
    for (const index of indexes) existing.add(`${collection}.${String(index.name)}`);
  }
  return INDEXES.map(indexLabel).filter((label) => !existing.has(label));
}

function indexLabel(index: IndexSpec): string {
  return `${index.collection}.${index.options.name}`;
}

/**
 * Gives documents written before a field existed its starting value, so queries and sorts never
 * meet a missing field. Idempotent; runs after `ensureIndexes`, at start or in the migrate command.
 */
export async function upgradeDocuments(db: CatalogDb): Promise<void> {
  await db.reviews.updateMany({ helpfulCount: { $exists: false } }, { $set: { helpfulCount: 0 } });
  await db.reviews.updateMany({ screening: { $exists: false } }, { $set: { screening: null } });
}
