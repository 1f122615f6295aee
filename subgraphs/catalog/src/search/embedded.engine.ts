import SearchableMap from "minisearch/SearchableMap";
import type { FacetCounts } from "../product/product.repository.ts";
import {
  analyzeQuery,
  boundedDistance,
  indexTerms,
  phraseKey,
  plainWords,
  type QueryWord,
  stem,
} from "./analyzer.ts";
import type {
  SearchCursor,
  SearchDocument,
  SearchEngine,
  SearchFilters,
  SearchHit,
  SearchQuery,
  SearchResult,
  Suggestions,
} from "./search-engine.ts";

/**
 * The embedded search engine: a full-text index in the catalog replica's memory, with the
 * documents beside it for filters, facets and tie-breaks. Terms live in MiniSearch's radix tree
 * (`SearchableMap`: exact, prefix and bounded-edit lookups), each with its postings: the products
 * that have it and in which fields (a bit mask). No document frequencies are kept or used.
 *
 * Matching. Every query word must match a word of the product (AND) in some field: the word
 * itself or its stem (analyzer.ts), and for the last word also any word it starts (type-ahead),
 * and within edits bounded by the word's length (none under 4 letters, 1 for 4 to 7, 2 for 8+).
 *
 * Ranking. A hit's score is `tier × TIER + field score`, one number, so a cursor of
 * (score, inStock, popularity, id) pages through a stable order:
 *
 * - tier 3: the query is the product's whole name or its SKU (word for word, stems compared);
 * - tier 2: every word matches the name, brand or SKU;
 * - tier 1: every word matches those or the categories (the product's and its parents'), tags or
 *   attributes (labels and values);
 * - tier 0: some word matches only the description, or only with a typo.
 *
 * The field score (under `TIER`) adds, for each query word, its best match: the field's weight
 * (`WEIGHT`) times the match's quality (whole word or stem 1, the start of a word 0.7, a typo
 * 0.4), in hundredths. It depends on the product and the query alone, never on the rest of the
 * index (no document frequencies), so adding or removing other products never moves a product
 * within the order, and a cursor taken before the change still points at the same place.
 * Equal scores go to what is in stock, then to the more popular, then to the lower id.
 * (Rating is not a tie-break: the cursor does not carry it, so ordering by it could not be paged.)
 */

const FIELDS = [
  "name",
  "sku",
  "brand",
  "categories",
  "tags",
  "attributeValues",
  "attributeLabels",
  "description",
] as const;
type Field = (typeof FIELDS)[number];

const WEIGHT: Record<Field, number> = {
  name: 10,
  sku: 10,
  brand: 8,
  categories: 5,
  tags: 4,
  attributeValues: 4,
  attributeLabels: 2,
  description: 1,
};

const FIELD_TIER: Record<Field, number> = {
  name: 2,
  sku: 2,
  brand: 2,
  categories: 1,
  tags: 1,
  attributeValues: 1,
  attributeLabels: 1,
  description: 0,
};

const EXACT_TIER = 3;
/** Field scores are hundredths of at most `MAX_QUERY_WORDS × 10`, well under this. */
export const TIER = 100_000;

const QUALITY = { exact: 1, prefix: 0.7, fuzzy: 0.4 } as const;

interface Entry {
  doc: SearchDocument;
  /** The document's terms with their field masks, kept to remove its postings. */
  terms: Map<string, number>;
  nameKey: string;
  skuKey: string;
  categories: ReadonlySet<string>;
  attributeKeys: ReadonlySet<string>;
}

interface Match {
  entry: Entry;
  score: number;
}

/** Whether `a` comes before `b`: higher score, in stock, more popular, lower id. */
export function ranksBefore(a: SearchCursor, b: SearchCursor): boolean {
  if (a.score !== b.score) return a.score > b.score;
  if (a.inStock !== b.inStock) return a.inStock;
  if (a.popularity !== b.popularity) return a.popularity > b.popularity;
  return a.id < b.id;
}

const compareHits = (a: SearchCursor, b: SearchCursor): number =>
  a.id === b.id && a.score === b.score ? 0 : ranksBefore(a, b) ? -1 : 1;

/** Each field's terms of a document, as one bit mask per term. */
function termMasks(doc: SearchDocument): Map<string, number> {
  const texts: Record<Field, string> = {
    name: doc.name,
    sku: doc.sku,
    brand: doc.brand,
    categories: doc.categoryNames.join(" "),
    tags: doc.tags.join(" "),
    attributeValues: doc.attributes.map((a) => a.value).join(" "),
    attributeLabels: doc.attributes.map((a) => a.label).join(" "),
    description: doc.description,
  };
  const masks = new Map<string, number>();
  FIELDS.forEach((field, bit) => {
    for (const term of indexTerms(texts[field])) masks.set(term, (masks.get(term) ?? 0) | (1 << bit));
  });
  return masks;
}

/** For every field mask: the best weight and the best tier among its fields. */
const MASK_WEIGHT: number[] = [];
const MASK_TIER: number[] = [];
for (let mask = 0; mask < 1 << FIELDS.length; mask++) {
  let weight = 0;
  let tier = 0;
  FIELDS.forEach((field, bit) => {
    if (mask & (1 << bit)) {
      weight = Math.max(weight, WEIGHT[field]);
      tier = Math.max(tier, FIELD_TIER[field]);
    }
  });
  MASK_WEIGHT.push(weight);
  MASK_TIER.push(tier);
}

const toEntry = (doc: SearchDocument): Entry => ({
  doc,
  terms: termMasks(doc),
  nameKey: phraseKey(doc.name),
  skuKey: phraseKey(doc.sku),
  categories: new Set(doc.categoryIds),
  attributeKeys: new Set(doc.attributes.map((a) => `${a.name}=${a.value}`)),
});

/** A counted set of names (brands, categories) that follows upserts and removals. */
class NameCounts<K> {
  readonly entries = new Map<K, { name: string; count: number; words: string[] }>();
  add(key: K, name: string): void {
    const current = this.entries.get(key);
    if (current && current.name === name) current.count++;
    else this.entries.set(key, { name, count: (current?.count ?? 0) + 1, words: plainWords(name) });
  }
  drop(key: K): void {
    const current = this.entries.get(key);
    if (!current) return;
    if (current.count <= 1) this.entries.delete(key);
    else current.count--;
  }
}

/** How well a query word matches a word of a name (for suggestions): 0 when it does not. */
function wordQuality(query: QueryWord, term: string): number {
  if (term === query.word || stem(term) === query.stem) return QUALITY.exact;
  if (query.prefix && term.startsWith(query.word)) return QUALITY.prefix;
  if (query.fuzzy === 0) return 0;
  if (boundedDistance(query.word, term, query.fuzzy) <= query.fuzzy) return QUALITY.fuzzy;
  if (query.prefix) {
    // A typo in a word still being typed: compare with the word's starts of about that length.
    for (let k = query.word.length - query.fuzzy; k <= query.word.length + query.fuzzy; k++) {
      if (
        k > 0 &&
        k < term.length &&
        boundedDistance(query.word, term.slice(0, k), query.fuzzy) <= query.fuzzy
      )
        return QUALITY.fuzzy * QUALITY.prefix;
    }
  }
  return 0;
}

/** The quality of a name for a query: every word must match one of its words; 0 when not. */
function nameQuality(query: readonly QueryWord[], words: readonly string[]): number {
  let total = 0;
  for (const q of query) {
    let best = 0;
    for (const term of words) best = Math.max(best, wordQuality(q, term));
    if (best === 0) return 0;
    total += best;
  }
  return total;
}

export function createEmbeddedSearchEngine(): SearchEngine {
  /** Term → the products that have it (by id) and in which fields. */
  const index = new SearchableMap<Map<string, number>>();
  const entries = new Map<string, Entry>();
  const brands = new NameCounts<string>();
  const categories = new NameCounts<string>();

  const forget = (id: string): void => {
    const entry = entries.get(id);
    if (!entry) return;
    for (const term of entry.terms.keys()) {
      const postings = index.get(term);
      postings?.delete(id);
      if (postings?.size === 0) index.delete(term);
    }
    entries.delete(id);
    brands.drop(entry.doc.brand);
    for (const categoryId of entry.doc.categoryIds) categories.drop(categoryId);
  };

  /** The index terms a query word matches, each with the quality of the match. */
  function expand(word: QueryWord): { postings: Map<string, number>; quality: number }[] {
    const out = new Map<string, number>();
    const note = (term: string, quality: number) => {
      if ((out.get(term) ?? 0) < quality) out.set(term, quality);
    };
    if (index.has(word.stem)) note(word.stem, QUALITY.exact);
    if (index.has(word.word)) note(word.word, QUALITY.exact);
    if (word.prefix) for (const term of index.atPrefix(word.word).keys()) note(term, QUALITY.prefix);
    if (word.fuzzy > 0)
      for (const term of index.fuzzyGet(word.word, word.fuzzy).keys()) note(term, QUALITY.fuzzy);
    return [...out].flatMap(([term, quality]) => {
      const postings = index.get(term);
      return postings ? [{ postings, quality }] : [];
    });
  }

  /** Every product matching the text, with its score. */
  function matchText(text: string): Match[] {
    const query = analyzeQuery(text);
    if (query.length === 0) return [...entries.values()].map((entry) => ({ entry, score: 0 }));
    // The rarest word first: the others are looked up only among its products.
    const expanded = query
      .map(expand)
      .map((terms) => ({ terms, size: terms.reduce((sum, t) => sum + t.postings.size, 0) }))
      .sort((a, b) => a.size - b.size);
    let candidates: Map<string, { score: number; tier: number }> | null = null;
    for (const { terms, size } of expanded) {
      const next = new Map<string, { score: number; tier: number }>();
      const note = (id: string, mask: number, quality: number) => {
        const score = (MASK_WEIGHT[mask] ?? 0) * quality;
        const tier = quality === QUALITY.fuzzy ? 0 : (MASK_TIER[mask] ?? 0);
        const seen = next.get(id);
        if (!seen) next.set(id, { score, tier });
        else {
          if (score > seen.score) seen.score = score;
          if (tier > seen.tier) seen.tier = tier;
        }
      };
      if (candidates !== null && candidates.size * terms.length < size) {
        // Fewer lookups from the candidates' side than walking the word's postings.
        for (const id of candidates.keys())
          for (const { postings, quality } of terms) {
            const mask = postings.get(id);
            if (mask !== undefined) note(id, mask, quality);
          }
      } else {
        for (const { postings, quality } of terms)
          for (const [id, mask] of postings)
            if (candidates === null || candidates.has(id)) note(id, mask, quality);
      }
      if (candidates !== null) {
        for (const [id, hit] of next) {
          const before = candidates.get(id);
          if (!before) continue;
          hit.score += before.score;
          hit.tier = Math.min(hit.tier, before.tier);
        }
      }
      candidates = next;
      if (candidates.size === 0) return [];
    }
    const key = phraseKey(text);
    const matches: Match[] = [];
    for (const [id, { score, tier }] of candidates ?? []) {
      const entry = entries.get(id);
      if (!entry) continue;
      const best = entry.nameKey === key || entry.skuKey === key ? EXACT_TIER : tier;
      matches.push({ entry, score: best * TIER + Math.round(score * 100) });
    }
    return matches;
  }

  function search(query: SearchQuery): SearchResult {
    const { filters } = query;
    const matches = matchText(query.text).filter(({ entry }) => passesCommon(entry.doc, filters));
    const attributeFilters = filters.attributes ?? [];
    const brandSet = filters.brands ? new Set(filters.brands) : null;
    const hits: SearchHit[] = [];
    const facets = query.facets ? new FacetCounter() : null;
    for (const { entry, score } of matches) {
      const doc = entry.doc;
      const priceOk =
        (filters.minPrice === undefined || doc.price >= filters.minPrice) &&
        (filters.maxPrice === undefined || doc.price <= filters.maxPrice);
      const brandOk = brandSet === null || brandSet.has(doc.brand);
      let failedAttributes = 0;
      let failedAttribute = -1;
      attributeFilters.forEach((filter, i) => {
        if (!filter.values.some((value) => entry.attributeKeys.has(`${filter.name}=${value}`))) {
          failedAttributes++;
          failedAttribute = i;
        }
      });
      const failed = (priceOk ? 0 : 1) + (brandOk ? 0 : 1) + failedAttributes;
      if (facets) {
        if (failed === 0) facets.countMatch(entry);
        else if (failed === 1) {
          // Counted only in the facet of the one filter it fails, which that facet leaves out.
          if (!priceOk) facets.countPrice(doc);
          else if (!brandOk) facets.countBrand(doc);
          else facets.countAttribute(entry, attributeFilters[failedAttribute]?.name ?? "");
        }
      }
      if (failed !== 0) continue;
      const hit: SearchHit = { score, inStock: doc.inStock, popularity: doc.popularity, id: doc.id };
      if (query.after && !ranksBefore(query.after, hit)) continue;
      hits.push(hit);
    }
    const total = facets ? facets.total : countAll(matches, filters);
    hits.sort(compareHits);
    const page = hits.slice(0, query.limit);
    return {
      hits: page,
      hasNextPage: hits.length > query.limit,
      total,
      facets: facets ? facets.result() : null,
    };
  }

  function suggest(prefix: string, limit: number): Suggestions {
    const query = analyzeQuery(prefix);
    if (query.length === 0 || limit <= 0) return { products: [], categories: [], brands: [] };
    const products = search({ text: prefix, filters: {}, limit, facets: false }).hits.map((hit) => ({
      id: hit.id,
      name: entries.get(hit.id)?.doc.name ?? "",
    }));
    const best = <K>(counts: NameCounts<K>) =>
      [...counts.entries]
        .map(([key, value]) => ({ key, ...value, quality: nameQuality(query, value.words) }))
        .filter((c) => c.quality > 0)
        .sort((a, b) => b.quality - a.quality || b.count - a.count || a.name.localeCompare(b.name))
        .slice(0, limit);
    return {
      products,
      categories: best(categories).map((c) => ({ id: c.key, name: c.name })),
      brands: best(brands).map((b) => b.name),
    };
  }

  return {
    search,
    suggest,
    upsert(documents) {
      for (const doc of documents) {
        forget(doc.id);
        const entry = toEntry(doc);
        entries.set(doc.id, entry);
        for (const [term, mask] of entry.terms) {
          const postings = index.get(term);
          if (postings) postings.set(doc.id, mask);
          else index.set(term, new Map([[doc.id, mask]]));
        }
        brands.add(doc.brand, doc.brand);
        doc.categoryIds.forEach((categoryId, i) => {
          categories.add(categoryId, doc.categoryNames[i] ?? "");
        });
      }
    },
    remove(ids) {
      for (const id of ids) forget(id);
    },
    size: () => entries.size,
  };
}

function passesCommon(doc: SearchDocument, filters: SearchFilters): boolean {
  if (filters.inStock !== undefined && doc.inStock !== filters.inStock) return false;
  if (filters.categoryIds && !filters.categoryIds.some((id) => doc.categoryIds.includes(id))) return false;
  return true;
}

function countAll(matches: readonly Match[], filters: SearchFilters): number {
  let total = 0;
  const brandSet = filters.brands ? new Set(filters.brands) : null;
  for (const { entry } of matches) {
    const doc = entry.doc;
    if (filters.minPrice !== undefined && doc.price < filters.minPrice) continue;
    if (filters.maxPrice !== undefined && doc.price > filters.maxPrice) continue;
    if (brandSet && !brandSet.has(doc.brand)) continue;
    if (
      filters.attributes?.some(
        (f) => !f.values.some((value) => entry.attributeKeys.has(`${f.name}=${value}`)),
      )
    )
      continue;
    total++;
  }
  return total;
}

/**
 * Facet counts in one pass over the matches: a product passing every filter counts everywhere; one
 * failing exactly one filter counts only in that filter's own facet (brands without the brand
 * filter, the price range without the price filter, an attribute without its own filter).
 */
class FacetCounter {
  total = 0;
  private readonly categories = new Map<string, number>();
  private readonly brands = new Map<string, number>();
  private readonly attributes = new Map<string, number>();
  private min: SearchDocument | null = null;
  private max: SearchDocument | null = null;
  countMatch(entry: Entry): void {
    const doc = entry.doc;
    this.total++;
    const direct = doc.categoryIds[0];
    if (direct !== undefined) bump(this.categories, direct);
    this.countBrand(doc);
    this.countPrice(doc);
    for (const key of entry.attributeKeys) bump(this.attributes, key);
  }

  countBrand(doc: SearchDocument): void {
    bump(this.brands, doc.brand);
  }

  countPrice(doc: SearchDocument): void {
    if (
      this.min === null ||
      doc.price < this.min.price ||
      (doc.price === this.min.price && doc.id < this.min.id)
    )
      this.min = doc;
    if (
      this.max === null ||
      doc.price > this.max.price ||
      (doc.price === this.max.price && doc.id < this.max.id)
    )
      this.max = doc;
  }

  /** A product failing only this attribute's filter counts for this attribute's values. */
  countAttribute(entry: Entry, name: string): void {
    for (const key of entry.attributeKeys) if (key.startsWith(`${name}=`)) bump(this.attributes, key);
  }

  result(): FacetCounts {
    const rows = (counts: Map<string, number>) =>
      [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return {
      total: this.total,
      categories: rows(this.categories).map(([id, count]) => ({ id, count })),
      brands: rows(this.brands).map(([value, count]) => ({ value, count })),
      attributeKeys: rows(this.attributes).map(([key, count]) => ({ key, count })),
      minPrice: this.min ? { amount: this.min.price, currencyCode: this.min.currencyCode } : null,
      maxPrice: this.max ? { amount: this.max.price, currencyCode: this.max.currencyCode } : null,
    };
  }
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export type { SearchDocument, SearchEngine } from "./search-engine.ts";
