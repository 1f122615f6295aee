import { type Collection, type Db, ObjectId } from "mongodb";
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

/**
 * Creates the indexes the queries rely on; MongoDB treats an existing identical index as a
 * no-op, so this runs on every start instead of a migration.
 */
export async function ensureIndexes(db: CatalogDb): Promise<void> {
  await Promise.all([
    db.products.createIndex({ sku: 1 }, { unique: true, name: "sku_unique" }),
    db.products.createIndex({ slug: 1 }, { unique: true, name: "slug_unique" }),
    // Category pages sorted or bounded by price.
    db.products.createIndex({ categoryId: 1, "price.amount": 1, _id: 1 }, { name: "category_price" }),
    db.products.createIndex({ status: 1, createdAt: -1, _id: -1 }, { name: "status_newest" }),
    // The partner feed pages by (updatedAt, _id) over every non-draft status.
    db.products.createIndex({ updatedAt: 1, _id: 1 }, { name: "updated_feed" }),
    db.products.createIndex(
      { status: 1, "rating.average": -1, "rating.count": -1, _id: -1 },
      { name: "status_rating" },
    ),
    // Multikey: prefix regexes anchored with ^ use it on MongoDB.
    db.products.createIndex({ searchTerms: 1 }, { name: "search_terms" }),
    db.products.createIndex({ attributeKeys: 1 }, { name: "attribute_keys" }),
    db.products.createIndex({ brand: 1 }, { name: "brand" }),
    db.categories.createIndex({ slug: 1 }, { unique: true, name: "slug_unique" }),
    db.categories.createIndex({ ancestorIds: 1 }, { name: "ancestors" }),
    db.reviews.createIndex({ productId: 1, authorId: 1 }, { unique: true, name: "one_per_customer" }),
    db.reviews.createIndex(
      { productId: 1, status: 1, submittedAt: -1, _id: -1 },
      { name: "product_status_newest" },
    ),
    db.reviews.createIndex({ status: 1, submittedAt: -1, _id: -1 }, { name: "status_newest" }),
    db.reviews.createIndex({ authorId: 1, productId: 1 }, { name: "author" }),
    db.reviews.createIndex(
      { productId: 1, status: 1, helpfulCount: -1, submittedAt: -1, _id: -1 },
      { name: "product_status_helpful" },
    ),
    // One vote per customer per review, whatever races: the second insert is a duplicate key.
    db.reviewVotes.createIndex({ reviewId: 1, customerId: 1 }, { unique: true, name: "one_per_customer" }),
    db.reviewVotes.createIndex({ customerId: 1, reviewId: 1 }, { name: "customer" }),
    db.purchases.createIndex({ customerId: 1, productId: 1 }, { name: "customer_product" }),
  ]);
}

/**
 * Gives documents written before a field existed its starting value, so queries and sorts never
 * meet a missing field. Idempotent; runs on every start after `ensureIndexes`.
 */
export async function upgradeDocuments(db: CatalogDb): Promise<void> {
  await db.reviews.updateMany({ helpfulCount: { $exists: false } }, { $set: { helpfulCount: 0 } });
  await db.reviews.updateMany({ screening: { $exists: false } }, { $set: { screening: null } });
}
