import {
  badUserInput,
  type CursorPart,
  cursorPart,
  decodeCursor,
  encodeCursor,
  isObjectIdHex,
  pageSize,
  type Viewer,
} from "@nexus/core";
import { type FieldNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from "graphql";
import type { ProductFilter, ProductSort, QueryProductsArgs } from "../__generated__/resolvers-types.ts";
import { requireScope } from "../access.ts";
import type { CategoryLoaders } from "../category/category.loaders.ts";
import type { CategoryModel } from "../category/category.model.ts";
import type { CatalogDb, ProductDocument } from "../db/collections.ts";
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
  };
}

type EffectiveSort = SortKey | "RELEVANCE";

function effectiveSort(sort: ProductSort | null | undefined, hasSearch: boolean): EffectiveSort {
  if (sort === "RELEVANCE" || sort === null || sort === undefined) return hasSearch ? "RELEVANCE" : "NEWEST";
  return sort;
}

const invalidCursor = () =>
  badUserInput("after is not a cursor returned by this field for this sort.", "after");

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

function decodeProductCursor(after: string | null | undefined, sort: SortKey): SortValue[] | undefined {
  const fields = SORT_FIELDS[sort];
  const values = decodeCursor(after, fields.length + 1);
  if (values === null) return undefined;
  if (values[0] !== sort) throw invalidCursor();
  return fields.map(({ field }, index) => {
    const value = SORT_VALUE[field]?.(values[index + 1]);
    if (value === undefined) throw invalidCursor();
    return value;
  });
}

function decodeRelevanceCursor(after: string | null | undefined): { score: number; id: string } | undefined {
  const values = decodeCursor(after, 3);
  if (values === null) return undefined;
  const [sort, score, id] = values;
  const finite = typeof score === "number" && Number.isFinite(score);
  if (sort !== "RELEVANCE" || !finite || typeof id !== "string" || !isObjectIdHex(id)) {
    throw invalidCursor();
  }
  return { score, id: id.toLowerCase() };
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

function emptyConnection(hasPreviousPage: boolean): ProductConnectionModel {
  return {
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage, startCursor: null, endCursor: null },
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
 * `products`: one find for the page (two with RELEVANCE, which ranks every match in code), and
 * when `totalCount` or `facets` is selected one aggregation for both.
 */
export async function listProducts(
  deps: ListingDeps,
  viewer: Viewer | null,
  args: QueryProductsArgs,
  info: GraphQLResolveInfo,
): Promise<ProductConnectionModel> {
  const first = pageSize(args.first);
  const query = await toProductQuery(deps, viewer, args.filter ?? {});
  const sort = effectiveSort(args.sort, (query?.searchWords?.length ?? 0) > 0);
  const relevanceAfter = sort === "RELEVANCE" ? decodeRelevanceCursor(args.after) : undefined;
  const sortedAfter = sort === "RELEVANCE" ? undefined : decodeProductCursor(args.after, sort);
  const hasPreviousPage = args.after !== null && args.after !== undefined;
  if (!query) return emptyConnection(hasPreviousPage);

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
    const start = relevanceAfter
      ? ranked.findIndex(
          (r) =>
            r.score < relevanceAfter.score || (r.score === relevanceAfter.score && r.id > relevanceAfter.id),
        )
      : 0;
    const window = start === -1 ? [] : ranked.slice(start, start + first + 1);
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
    docs = await findProductPage(deps.db, query, { sort, after: sortedAfter, limit: first + 1 });
    cursorOf = (doc) => encodeProductCursor(sort, doc);
    totalCount = wantsFacets ? async () => (await facets()).total : () => countProducts(deps.db, query);
  }

  const page = docs.slice(0, first);
  const edges = page.map((doc) => {
    const node: ProductModel = toProductModel(doc);
    // Fresh from MongoDB: `Product` references later in this request need no further read.
    deps.loaders.productById.prime(node.id, node);
    return { cursor: cursorOf(doc), node };
  });
  return {
    edges,
    pageInfo: {
      hasNextPage: docs.length > first,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
    facets: async () => toFacetsModel(await facets(), await deps.loaders.allCategories()),
  };
}

const MAX_SUGGESTIONS = 20;
const SUGGESTION_CANDIDATES = 200;

/**
 * Type-ahead: every typed word must prefix-match some word of the product. Ranked in code
 * (names that start with the typed text, then relevance, then popularity); the page is then
 * read through `productById`, so repeated suggestions are served from the cache.
 */
export async function suggestProducts(
  deps: ListingDeps,
  prefix: string,
  first: number | null | undefined,
): Promise<ProductModel[]> {
  const limit = first ?? 8;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SUGGESTIONS) {
    throw badUserInput(`first must be between 1 and ${MAX_SUGGESTIONS}.`, "first");
  }
  const words = queryWords(prefix);
  if (words.length === 0) throw badUserInput("prefix must contain a letter or a digit.", "prefix");
  const typed = words.join(" ");
  const candidates = await findSuggestionCandidates(deps.db, words, SUGGESTION_CANDIDATES);
  const ranked = candidates
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
    .slice(0, limit);
  const products = await deps.loaders.productById.loadMany(ranked.map((r) => r.id));
  return products.filter((p): p is ProductModel => p !== null && !(p instanceof Error));
}
