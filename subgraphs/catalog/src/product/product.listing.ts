import {
  badUserInput,
  type CursorArgument,
  type CursorPart,
  cursorPart,
  decodeCursor,
  encodeCursor,
  isObjectIdHex,
  type Page,
  pageArgs,
  pageInfoOf,
  type Viewer,
} from "@nexus/core";
import { type FieldNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from "graphql";
import type { ProductFilter, ProductSort, QueryProductsArgs } from "../__generated__/resolvers-types.ts";
import { requireScope } from "../access.ts";
import type { CategoryLoaders } from "../category/category.loaders.ts";
import type { CategoryModel } from "../category/category.model.ts";
import type { CatalogDb, ProductDocument } from "../db/collections.ts";
import type { SearchCursor, SearchEngine, SearchFilters, SearchResult } from "../search/search-engine.ts";
import type { SearchIndex } from "../search/search-index.ts";
import { queryWords, relevance } from "../search/text.ts";
import type { ProductLoaders } from "./product.loaders.ts";
import type { ProductConnectionModel, ProductFacetsModel, ProductModel } from "./product.model.ts";
import { toProductModel } from "./product.model.ts";
import {
  aggregateFacets,
  countProducts,
  type FacetCounts,
  findProductPage,
  findProductsByIds,
  findSearchCandidates,
  findSuggestionCandidates,
  type ProductQuery,
  SORT_FIELDS,
  type SortKey,
  type SortValue,
  sortValuesOf,
} from "./product.repository.ts";

/**
 * What listing products needs: the store, and this request's loaders, read for the category
 * tree and primed with every product of the page.
 */
export interface ListingDeps {
  db: CatalogDb;
  loaders: Pick<ProductLoaders, "productById"> & Pick<CategoryLoaders, "allCategories">;
  /** Searches go to its engine once built; before, and without it, to MongoDB. */
  search: Pick<SearchIndex, "engine"> | null;
}

const MAX_ATTRIBUTE_FILTERS = 20;
const MAX_FILTER_VALUES = 50;

/** Validates a client filter into a ProductQuery; null when it can match nothing (unknown category). */
async function toProductQuery(
  deps: ListingDeps,
  viewer: Viewer | null,
  filter: ProductFilter,
): Promise<ProductQuery | null> {
  const status = filter.status ?? "ACTIVE";
  if (status !== "ACTIVE") requireScope(viewer, "catalog:write");
  for (const field of ["minPrice", "maxPrice"] as const) {
    const value = filter[field];
    if (value !== null && value !== undefined && value < 0) {
      throw badUserInput(`${field} must be zero or more.`, `filter.${field}`);
    }
  }
  if (
    filter.minPrice !== null &&
    filter.minPrice !== undefined &&
    filter.maxPrice !== null &&
    filter.maxPrice !== undefined &&
    filter.minPrice > filter.maxPrice
  ) {
    throw badUserInput("minPrice must not exceed maxPrice.", "filter.minPrice");
  }
  const attributes = filter.attributes ?? [];
  if (attributes.length > MAX_ATTRIBUTE_FILTERS) {
    throw badUserInput(`At most ${MAX_ATTRIBUTE_FILTERS} attribute filters.`, "filter.attributes");
  }
  // Two entries for one attribute must both hold: their values are intersected.
  const byName = new Map<string, Set<string>>();
  for (const { name, values } of attributes) {
    if (values.length === 0 || values.length > MAX_FILTER_VALUES) {
      throw badUserInput(`An attribute filter needs 1 to ${MAX_FILTER_VALUES} values.`, "filter.attributes");
    }
    const previous = byName.get(name);
    byName.set(name, new Set(previous ? values.filter((v) => previous.has(v)) : values));
  }
  if ((filter.brand?.length ?? 0) > MAX_FILTER_VALUES) {
    throw badUserInput(`At most ${MAX_FILTER_VALUES} brands.`, "filter.brand");
  }

  let categoryIds: string[] | undefined;
  if (filter.categorySlug !== null && filter.categorySlug !== undefined) {
    const tree = await deps.loaders.allCategories();
    const category = tree.find((c) => c.slug === filter.categorySlug);
    if (!category) return null;
    categoryIds = [category.id, ...tree.filter((c) => c.ancestorIds.includes(category.id)).map((c) => c.id)];
  }
  return {
    status,
    categoryIds,
    searchWords: filter.search ? queryWords(filter.search) : undefined,
    minPrice: filter.minPrice ?? undefined,
    maxPrice: filter.maxPrice ?? undefined,
    attributes: [...byName].map(([name, values]) => ({ name, values: [...values] })),
    brands: filter.brand ?? undefined,
    inStock: filter.inStock ?? undefined,
  };
}

type EffectiveSort = SortKey | "RELEVANCE";

function effectiveSort(sort: ProductSort | null | undefined, hasSearch: boolean): EffectiveSort {
  if (sort === "RELEVANCE" || sort === null || sort === undefined) return hasSearch ? "RELEVANCE" : "NEWEST";
  return sort;
}

const invalidCursor = (field: CursorArgument) =>
  badUserInput(`${field} is not a cursor returned by this field for this sort.`, field);

/** Cursor = [sort, ...sort-key values]; the sort is included so a cursor cannot be used with another. */
function encodeProductCursor(sort: SortKey, doc: ProductDocument): string {
  return encodeCursor([sort, ...sortValuesOf(doc, sort).map((v) => (v instanceof Date ? v.getTime() : v))]);
}

/** How each sort field's cursor value is read: only values the field can hold reach MongoDB. */
const SORT_VALUE: Record<string, CursorPart<SortValue>> = {
  _id: (value) => cursorPart.objectId(typeof value === "string" ? value.toLowerCase() : value),
  createdAt: cursorPart.epochMillis,
  "price.amount": cursorPart.integer(0, Number.MAX_SAFE_INTEGER),
  "rating.average": (value) => (typeof value === "number" && value >= 0 && value <= 5 ? value : undefined),
  "rating.count": cursorPart.integer(0, Number.MAX_SAFE_INTEGER),
};

/** The page's cursor (`after` or `before`) for `sort`, every value checked. */
function decodeProductCursor(page: Page, sort: SortKey): SortValue[] | undefined {
  const fields = SORT_FIELDS[sort];
  const values = decodeCursor(page.cursor, fields.length + 1, page.cursorField);
  if (values === null) return undefined;
  if (values[0] !== sort) throw invalidCursor(page.cursorField);
  return fields.map(({ field }, index) => {
    const value = SORT_VALUE[field]?.(values[index + 1]);
    if (value === undefined) throw invalidCursor(page.cursorField);
    return value;
  });
}

interface RelevancePosition {
  score: number;
  id: string;
}

function decodeRelevanceCursor(page: Page): RelevancePosition | undefined {
  const values = decodeCursor(page.cursor, 3, page.cursorField);
  if (values === null) return undefined;
  const [sort, score, id] = values;
  const finite = typeof score === "number" && Number.isFinite(score);
  if (sort !== "RELEVANCE" || !finite || typeof id !== "string" || !isObjectIdHex(id)) {
    throw invalidCursor(page.cursorField);
  }
  return { score, id: id.toLowerCase() };
}

/**
 * A search cursor holds the whole position in the engine's ranking: score, in stock (1 or 0),
 * popularity and id, after the tag that keeps it from other sorts.
 */
function encodeSearchCursor(hit: SearchCursor): string {
  return encodeCursor(["RELEVANCE", hit.score, hit.inStock ? 1 : 0, hit.popularity, hit.id]);
}

function decodeSearchCursor(page: Page): SearchCursor | undefined {
  const values = decodeCursor(page.cursor, 5, page.cursorField);
  if (values === null) return undefined;
  const [sort, score, inStock, popularity, id] = values;
  if (
    sort !== "RELEVANCE" ||
    typeof score !== "number" ||
    !Number.isFinite(score) ||
    (inStock !== 0 && inStock !== 1) ||
    typeof popularity !== "number" ||
    !Number.isSafeInteger(popularity) ||
    popularity < 0 ||
    typeof id !== "string" ||
    !isObjectIdHex(id)
  ) {
    throw invalidCursor(page.cursorField);
  }
  return { score, inStock: inStock === 1, popularity, id: id.toLowerCase() };
}

function toSearchFilters(query: ProductQuery): SearchFilters {
  return {
    categoryIds: query.categoryIds,
    brands: query.brands,
    attributes: query.attributes,
    minPrice: query.minPrice,
    maxPrice: query.maxPrice,
    inStock: query.inStock,
  };
}

/** Whether the field's selection (fragments included) asks for `name`. */
function selects(info: GraphQLResolveInfo, name: string): boolean {
  const visit = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === name;
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      return visit(info.fragments[selection.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((node: FieldNode) => visit(node.selectionSet));
}

function emptyConnection(page: Page): ProductConnectionModel {
  return {
    edges: [],
    pageInfo: pageInfoOf(page, [], false),
    totalCount: async () => 0,
    facets: async () => ({ attributes: [], brands: [], categories: [], priceRange: null }),
  };
}

function toFacetsModel(counts: FacetCounts, tree: readonly CategoryModel[]): ProductFacetsModel {
  const byValue = (a: { value: string; count: number }, b: { value: string; count: number }) =>
    b.count - a.count || a.value.localeCompare(b.value);
  const attributes = new Map<string, { value: string; count: number }[]>();
  for (const { key, count } of counts.attributeKeys) {
    const split = key.indexOf("=");
    const name = key.slice(0, split);
    const values = attributes.get(name) ?? [];
    values.push({ value: key.slice(split + 1), count });
    attributes.set(name, values);
  }
  // A product counts in its own category and in every category above it.
  const byId = new Map(tree.map((c) => [c.id, c]));
  const rolledUp = new Map<string, number>();
  for (const { id, count } of counts.categories) {
    for (const categoryId of [...(byId.get(id)?.ancestorIds ?? []), id]) {
      rolledUp.set(categoryId, (rolledUp.get(categoryId) ?? 0) + count);
    }
  }
  return {
    attributes: [...attributes]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, values]) => ({ name, values: values.sort(byValue) })),
    brands: [...counts.brands].sort(byValue),
    categories: [...rolledUp]
      .flatMap(([id, count]) => {
        const category = byId.get(id);
        return category ? [{ category, count }] : [];
      })
      .sort((a, b) => b.count - a.count || a.category.name.localeCompare(b.category.name)),
    priceRange: counts.minPrice && counts.maxPrice ? { min: counts.minPrice, max: counts.maxPrice } : null,
  };
}

/**
 * The ranking of a search without the engine, cut to the page's window in the direction of
 * travel (nearest the cursor first, one extra to tell whether more lie that way). Equal scores
 * go by id, the same way in both directions.
 */
function relevanceWindow(
  ranked: readonly RelevancePosition[],
  page: Page,
  at: RelevancePosition | undefined,
): RelevancePosition[] {
  const ranksBefore = (a: RelevancePosition, b: RelevancePosition) =>
    a.score > b.score || (a.score === b.score && a.id < b.id);
  if (page.backward) {
    const end = at ? ranked.findIndex((r) => !ranksBefore(r, at)) : -1;
    const stop = end === -1 ? ranked.length : end;
    return ranked.slice(Math.max(0, stop - page.size - 1), stop).reverse();
  }
  const start = at ? ranked.findIndex((r) => ranksBefore(at, r)) : 0;
  return start === -1 ? [] : ranked.slice(start, start + page.size + 1);
}

/**
 * Edges from products fetched in the direction of travel (`page.size + 1` at most): the page in
 * list order, each product primed in `productById` (fresh from MongoDB, so `Product` references
 * later in this request need no further read), and its pageInfo.
 */
function toProductPage(
  deps: ListingDeps,
  page: Page,
  docs: readonly ProductDocument[],
  cursorOf: (doc: ProductDocument) => string,
) {
  const kept = docs.slice(0, page.size);
  const edges = (page.backward ? kept.reverse() : kept).map((doc) => {
    const node: ProductModel = toProductModel(doc);
    deps.loaders.productById.prime(node.id, node);
    return { cursor: cursorOf(doc), node };
  });
  return { edges, pageInfo: pageInfoOf(page, edges, docs.length > page.size) };
}

/**
 * `products`: one find for the page (two with RELEVANCE, which ranks every match in code), and
 * when `totalCount` or `facets` is selected one aggregation for both. Pages both ways:
 * `first`/`after` or `last`/`before`, with the same cursors.
 */
export async function listProducts(
  deps: ListingDeps,
  viewer: Viewer | null,
  args: QueryProductsArgs,
  info: GraphQLResolveInfo,
): Promise<ProductConnectionModel> {
  const page = pageArgs(args);
  const query = await toProductQuery(deps, viewer, args.filter ?? {});
  const sort = effectiveSort(args.sort, (query?.searchWords?.length ?? 0) > 0);
  const engine = deps.search?.engine() ?? null;
  const searchText = args.filter?.search ?? "";
  // The index holds ACTIVE products only: other statuses, and any search before it is built, go to MongoDB.
  const useEngine =
    engine !== null &&
    (query?.searchWords?.length ?? 0) > 0 &&
    (args.filter?.status ?? "ACTIVE") === "ACTIVE";
  const searchAt = useEngine && sort === "RELEVANCE" ? decodeSearchCursor(page) : undefined;
  const relevanceAt = !useEngine && sort === "RELEVANCE" ? decodeRelevanceCursor(page) : undefined;
  const sortedAt = sort === "RELEVANCE" ? undefined : decodeProductCursor(page, sort);
  if (!query) return emptyConnection(page);
  if (useEngine && engine) {
    const wants = selects(info, "facets");
    const options = { deps, engine, query, text: searchText, page, wantsFacets: wants };
    return sort === "RELEVANCE"
      ? searchByRelevance(options, searchAt)
      : searchSorted(options, sort, sortedAt);
  }

  let facetCounts: Promise<FacetCounts> | undefined;
  const facets = () => {
    facetCounts ??= aggregateFacets(deps.db, query);
    return facetCounts;
  };
  const wantsFacets = selects(info, "facets");

  let docs: ProductDocument[];
  let cursorOf: (doc: ProductDocument) => string;
  let totalCount: () => Promise<number>;
  if (sort === "RELEVANCE") {
    const words = query.searchWords ?? [];
    const ranked = (await findSearchCandidates(deps.db, query))
      .map((c) => ({ id: c._id.toHexString(), score: relevance(c, words) }))
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
    const window = relevanceWindow(ranked, page, relevanceAt);
    const byId = new Map(
      (
        await findProductsByIds(
          deps.db,
          window.map((r) => r.id),
        )
      ).map((d) => [d._id.toHexString(), d]),
    );
    docs = window.flatMap((r) => byId.get(r.id) ?? []);
    const scores = new Map(window.map((r) => [r.id, r.score]));
    cursorOf = (doc) =>
      encodeCursor(["RELEVANCE", scores.get(doc._id.toHexString()) ?? 0, doc._id.toHexString()]);
    totalCount = async () => ranked.length;
  } else {
    docs = await findProductPage(deps.db, query, {
      sort,
      after: sortedAt,
      limit: page.size + 1,
      backward: page.backward,
    });
    cursorOf = (doc) => encodeProductCursor(sort, doc);
    totalCount = wantsFacets ? async () => (await facets()).total : () => countProducts(deps.db, query);
  }

  return {
    ...toProductPage(deps, page, docs, cursorOf),
    totalCount,
    facets: async () => toFacetsModel(await facets(), await deps.loaders.allCategories()),
  };
}

interface EngineListing {
  deps: ListingDeps;
  engine: SearchEngine;
  query: ProductQuery;
  text: string;
  page: Page;
  wantsFacets: boolean;
}

/** Facets of a search: from the result when it has them, else from one more pass over the matches. */
function searchFacets(listing: EngineListing, result: SearchResult): () => Promise<ProductFacetsModel> {
  return async () => {
    const counts =
      result.facets ??
      listing.engine.search({
        text: listing.text,
        filters: toSearchFilters(listing.query),
        limit: 1,
        facets: true,
      }).facets;
    const tree = await listing.deps.loaders.allCategories();
    return counts
      ? toFacetsModel(counts, tree)
      : { attributes: [], brands: [], categories: [], priceRange: null };
  };
}

/** Products by id in the given order, read through `productById`; ones gone or no longer ACTIVE are left out. */
async function activeProducts(deps: ListingDeps, ids: readonly string[]): Promise<Map<string, ProductModel>> {
  const loaded = await deps.loaders.productById.loadMany(ids);
  const byId = new Map<string, ProductModel>();
  for (const product of loaded) {
    if (product && !(product instanceof Error) && product.status === "ACTIVE") byId.set(product.id, product);
  }
  return byId;
}

/**
 * RELEVANCE from the engine: its page, its cursor, its total and facets; the nodes through
 * `productById`. The engine ranks every match anyway, so both pageInfo flags are exact here.
 */
async function searchByRelevance(
  listing: EngineListing,
  at: SearchCursor | undefined,
): Promise<ProductConnectionModel> {
  const { page } = listing;
  const result = listing.engine.search({
    text: listing.text,
    filters: toSearchFilters(listing.query),
    ...(page.backward ? { before: at, backward: true } : { after: at }),
    limit: page.size,
    facets: listing.wantsFacets,
  });
  const products = await activeProducts(
    listing.deps,
    result.hits.map((hit) => hit.id),
  );
  const edges = result.hits.flatMap((hit) => {
    const node = products.get(hit.id);
    return node ? [{ cursor: encodeSearchCursor(hit), node }] : [];
  });
  return {
    edges,
    pageInfo: {
      hasNextPage: result.hasNextPage,
      hasPreviousPage: result.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: async () => result.total,
    facets: searchFacets(listing, result),
  };
}

/**
 * A search in another order: the engine decides what matches (every match, as ids), MongoDB
 * sorts and pages those ids with the usual keyset cursor. Total and facets are the engine's.
 */
async function searchSorted(
  listing: EngineListing,
  sort: SortKey,
  at: SortValue[] | undefined,
): Promise<ProductConnectionModel> {
  const { deps, page } = listing;
  const result = listing.engine.search({
    text: listing.text,
    filters: toSearchFilters(listing.query),
    limit: Math.max(1, listing.engine.size()),
    facets: listing.wantsFacets,
  });
  const ids = result.hits.map((hit) => hit.id);
  const docs =
    ids.length === 0
      ? []
      : await findProductPage(
          deps.db,
          { ...listing.query, searchWords: undefined, ids },
          { sort, after: at, limit: page.size + 1, backward: page.backward },
        );
  return {
    ...toProductPage(deps, page, docs, (doc) => encodeProductCursor(sort, doc)),
    totalCount: async () => result.total,
    facets: searchFacets(listing, result),
  };
}

const MAX_SUGGESTIONS = 20;
const SUGGESTION_CANDIDATES = 200;

/** The type-ahead's products from MongoDB: what the index answers once built. */
async function suggestFromMongo(
  deps: ListingDeps,
  words: readonly string[],
  limit: number,
): Promise<string[]> {
  const typed = words.join(" ");
  const candidates = await findSuggestionCandidates(deps.db, words, SUGGESTION_CANDIDATES);
  return candidates
    .map((c) => ({
      id: c.id,
      starts: c.nameKey.startsWith(typed) ? 1 : 0,
      score: relevance(c, words),
      count: c.ratingCount,
      name: c.nameKey,
    }))
    .sort(
      (a, b) =>
        b.starts - a.starts ||
        b.score - a.score ||
        b.count - a.count ||
        a.name.localeCompare(b.name) ||
        a.id.localeCompare(b.id),
    )
    .slice(0, limit)
    .map((r) => r.id);
}

function suggestionArgs(prefix: string, first: number | null | undefined, fallback: number) {
  const limit = first ?? fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SUGGESTIONS) {
    throw badUserInput(`first must be between 1 and ${MAX_SUGGESTIONS}.`, "first");
  }
  const words = queryWords(prefix);
  if (words.length === 0) throw badUserInput("prefix must contain a letter or a digit.", "prefix");
  return { limit, words };
}

/**
 * Type-ahead: from the search index once built (typo-tolerant); before, every typed word must
 * prefix-match some word of the product, ranked in code (names that start with the typed text,
 * then relevance, then popularity). The page is read through `productById`, so repeated
 * suggestions are served from the cache.
 */
export async function suggestProducts(
  deps: ListingDeps,
  prefix: string,
  first: number | null | undefined,
): Promise<ProductModel[]> {
  const { limit, words } = suggestionArgs(prefix, first, 8);
  const engine = deps.search?.engine() ?? null;
  const ids = engine
    ? engine.suggest(prefix, limit).products.map((p) => p.id)
    : await suggestFromMongo(deps, words, limit);
  const products = await activeProducts(deps, ids);
  return ids.flatMap((id) => products.get(id) ?? []);
}

export interface SearchSuggestionsModel {
  products: ProductModel[];
  categories: CategoryModel[];
  brands: string[];
}

/**
 * `searchSuggestions`: products and brands from the search index (before it is built, products
 * from MongoDB and their brands that match), and categories whose name has a word starting with
 * each typed word, then any the index suggests despite a typo.
 */
export async function suggestSearch(
  deps: ListingDeps,
  prefix: string,
  first: number | null | undefined,
): Promise<SearchSuggestionsModel> {
  const { limit, words } = suggestionArgs(prefix, first, 5);
  const engine = deps.search?.engine() ?? null;
  const suggested = engine?.suggest(prefix, limit) ?? null;
  const ids = suggested ? suggested.products.map((p) => p.id) : await suggestFromMongo(deps, words, limit);
  const [byId, tree] = await Promise.all([activeProducts(deps, ids), deps.loaders.allCategories()]);
  const products = ids.flatMap((id) => byId.get(id) ?? []);
  const matchesAll = (value: string) => {
    const own = queryWords(value);
    return words.every((word) => own.some((w) => w.startsWith(word)));
  };
  const categoriesById = new Map(tree.map((c) => [c.id, c]));
  const categories = new Map<string, CategoryModel>();
  for (const category of tree) if (matchesAll(category.name)) categories.set(category.id, category);
  for (const { id } of suggested?.categories ?? []) {
    const category = categoriesById.get(id);
    if (category) categories.set(id, category);
  }
  const brands = suggested ? suggested.brands : [...new Set(products.map((p) => p.brand).filter(matchesAll))];
  return { products, categories: [...categories.values()].slice(0, limit), brands: brands.slice(0, limit) };
}
