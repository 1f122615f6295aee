import type { FacetCounts } from "../product/product.repository.ts";

/**
 * The one small interface product search goes through. The embedded engine (an in-memory
 * full-text index in every catalog replica) implements it; past one machine the same contract is
 * served by a search cluster (OpenSearch/Elasticsearch, mapping in the catalog README). Only
 * ACTIVE products are in an index.
 */

/** A product as the index sees it, built from its MongoDB document, its category path and stock. */
export interface SearchDocument {
  /** 24 hex, lower case. */
  id: string;
  sku: string;
  name: string;
  brand: string;
  /** The product's category, then its ancestors up to the root. */
  categoryIds: string[];
  /** Those categories' names, same order. */
  categoryNames: string[];
  tags: string[];
  /** Attribute values with their labels (e.g. label "Memory", value "16GB"). */
  attributes: { name: string; label: string; value: string }[];
  description: string;
  /** Minor units of the store currency. */
  price: number;
  currencyCode: string;
  /** False only when inventory said it has none available; unknown counts as in stock. */
  inStock: boolean;
  /** Units sold (delivered purchases) or, without any, nothing: ties in relevance go to the more popular. */
  popularity: number;
  /** Average of approved reviews, 0 to 5; 0 without reviews. */
  rating: number;
}

/** Filters applied to the matches before ranking, paging and facets. */
export interface SearchFilters {
  /** The product's category or any of its ancestors is one of these. */
  categoryIds?: readonly string[] | undefined;
  brands?: readonly string[] | undefined;
  /** Every entry must hold; an entry's values are alternatives. */
  attributes?: readonly { name: string; values: readonly string[] }[] | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  inStock?: boolean | undefined;
}

/** Where a page starts: after this hit in the ranking (score, then in stock, popularity, id). */
export interface SearchCursor {
  score: number;
  inStock: boolean;
  popularity: number;
  id: string;
}

export interface SearchQuery {
  text: string;
  filters: SearchFilters;
  after?: SearchCursor | undefined;
  /** Only hits ranked before this one. */
  before?: SearchCursor | undefined;
  /**
   * Page backward: the `limit` hits ranked last among those in range (just before `before`, or
   * the end of the ranking), still best first in `hits`.
   */
  backward?: boolean | undefined;
  limit: number;
  /** Compute facet counts over every match (each attribute counted without its own filter). */
  facets: boolean;
}

export interface SearchHit extends SearchCursor {}

export interface SearchResult {
  /** At most `limit`, best first. */
  hits: SearchHit[];
  /** Whether matches rank after the page: past `limit` going forward, or at or after `before`. */
  hasNextPage: boolean;
  /** Whether matches rank before the page: past `limit` going backward, or at or before `after`. */
  hasPreviousPage: boolean;
  /** Matches across all pages. */
  total: number;
  facets: FacetCounts | null;
}

export interface Suggestions {
  products: { id: string; name: string }[];
  categories: { id: string; name: string }[];
  brands: string[];
}

export interface SearchEngine {
  search(query: SearchQuery): SearchResult;
  /** Type-ahead for a prefix: product names, category names and brands, typo-tolerant. */
  suggest(prefix: string, limit: number): Suggestions;
  /** Adds or replaces products (by id). */
  upsert(documents: readonly SearchDocument[]): void;
  remove(ids: readonly string[]): void;
  /** Products in the index. */
  size(): number;
}
