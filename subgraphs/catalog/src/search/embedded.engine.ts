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
  swaps,
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
 * and within edits bounded by the word's length (none under 4 letters, 1 for 4 to 7, 2 for 8+;
 * a swap of neighbouring letters is one edit).
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

/**
 * A term's postings: the products (by slot) that have it, each with its field mask, as one sorted
 * array of `slot × 256 + mask` (4 bytes a posting while slots stay under 2^22; beyond, still right).
 */
interface Postings {
  term: string;
  slots: number[];
  /** For suggestions, once asked: its best `SUGGEST_TOP` products outside the description (`termBefore`), kept up to date or dropped when one of them changes. */
  top?: { slots: number[]; masks: number[] } | undefined;
  /** While a query reads products' own terms: the word it last checked this term against, and how well it matched. */
  checked: number;
  quality: number;
}

interface Entry {
  doc: SearchDocument;
  slot: number;
  /** The document's terms (their postings): for removal and for checking a word against one product. */
  postings: Postings[];
  nameKey: string;
  skuKey: string;
  attributeKeys: readonly string[];
}

/** Whether `a` comes before `b`: higher score, in stock, more popular, lower id. */
export function ranksBefore(a: SearchCursor, b: SearchCursor): boolean {
  if (a.score !== b.score) return a.score > b.score;
  if (a.inStock !== b.inStock) return a.inStock;
  if (a.popularity !== b.popularity) return a.popularity > b.popularity;
  return a.id < b.id;
}

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
const bitsOf = (fields: readonly Field[]): number =>
  fields.reduce((bits, field) => bits | (1 << FIELDS.indexOf(field)), 0);
/** The fields product suggestions match: all but the description. */
const SUGGEST_BITS = bitsOf(FIELDS.filter((field) => field !== "description"));
/** The words suggestions complete or correct come from these: not SKUs (one word per product, noise to complete), which suggest only whole. */
const VOCABULARY_BITS = SUGGEST_BITS & ~bitsOf(["sku"]);

const MASKS = 256;
const slotOfPosting = (posting: number): number => Math.floor(posting / MASKS);
const maskOfPosting = (posting: number): number => posting % MASKS;

/** Where the slot is in sorted postings, or where it would go (as `-1 - position`). */
function findPosting(list: readonly number[], slot: number): number {
  let low = 0;
  let high = list.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const at = slotOfPosting(list[middle] as number);
    if (at === slot) return middle;
    if (at < slot) low = middle + 1;
    else high = middle - 1;
  }
  return -1 - low;
}

function addPosting(list: number[], slot: number, mask: number): void {
  const last = list[list.length - 1];
  if (last === undefined || slotOfPosting(last) < slot) list.push(slot * MASKS + mask);
  else {
    const at = findPosting(list, slot);
    if (at >= 0) list[at] = slot * MASKS + mask;
    else list.splice(-1 - at, 0, slot * MASKS + mask);
  }
}

function dropPosting(list: number[], slot: number): void {
  const at = findPosting(list, slot);
  if (at >= 0) list.splice(at, 1);
}

/** A query word's tier for a match: a typo (or worse) never counts above tier 0. */
const tierOf = (mask: number, quality: number): number =>
  quality <= QUALITY.fuzzy ? 0 : (MASK_TIER[mask] ?? 0);

/** At most this many terms a prefix is expanded to before it is checked product by product instead. */
const PREFIX_TERMS = 256;
/** Product suggestions: at most this many completions of a prefix, and this many best products kept per word. */
const SUGGEST_TERMS = 64;
const SUGGEST_TOP = 16;

/** A posting's rank within its term for suggestions (tier, then weight); -1 when only in the description. */
const termRank = (mask: number): number => {
  const m = mask & SUGGEST_BITS;
  return m === 0 ? -1 : (MASK_TIER[m] ?? 0) * 100 + (MASK_WEIGHT[m] ?? 0);
};

/** The index terms a query word matches, each with the quality of the match. */
interface Expansion {
  word: QueryWord;
  /** Enumerated terms (exact, stem, typos, and prefix completions unless `broad`) → quality. */
  terms: Map<string, number>;
  postings: { slots: number[]; quality: number }[];
  /** Postings to walk; `Infinity` when `broad`. */
  size: number;
  /** The prefix has more than `PREFIX_TERMS` completions: they are not enumerated. */
  broad: boolean;
}

/** Scratch space per product slot, reused by every query (the engine is synchronous). */
class Scratch {
  score = new Float64Array(0);
  tier = new Uint8Array(0);
  mark = new Uint32Array(0);
  wordScore = new Float64Array(0);
  wordTier = new Uint8Array(0);
  wordMark = new Uint32Array(0);
  private stamp = 0;

  fit(slots: number): void {
    if (slots <= this.mark.length) return;
    const size = Math.max(1024, slots * 2);
    const grow = <T extends Float64Array | Uint8Array | Uint32Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.score = grow(this.score, (n) => new Float64Array(n));
    this.tier = grow(this.tier, (n) => new Uint8Array(n));
    this.mark = grow(this.mark, (n) => new Uint32Array(n));
    this.wordScore = grow(this.wordScore, (n) => new Float64Array(n));
    this.wordTier = grow(this.wordTier, (n) => new Uint8Array(n));
    this.wordMark = grow(this.wordMark, (n) => new Uint32Array(n));
  }

  /** A fresh mark: no slot carries it yet. */
  next(): number {
    if (this.stamp >= 0xffff_fff0) {
      this.mark.fill(0);
      this.wordMark.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }
}

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

/**
 * The best `limit` of a stream of product slots, without sorting them all: a bounded heap whose
 * root is the worst kept. `before(a, b)` is the ranking.
 */
class TopSlots {
  readonly heap: number[] = [];
  private readonly limit: number;
  private readonly before: (a: number, b: number) => boolean;
  constructor(limit: number, before: (a: number, b: number) => boolean) {
    this.limit = limit;
    this.before = before;
  }

  offer(slot: number): void {
    const { heap, before } = this;
    if (heap.length < this.limit) {
      heap.push(slot);
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!before(heap[parent] as number, heap[i] as number)) break;
        [heap[parent], heap[i]] = [heap[i] as number, heap[parent] as number];
        i = parent;
      }
      return;
    }
    if (heap.length === 0 || !before(slot, heap[0] as number)) return;
    heap[0] = slot;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < heap.length && before(heap[worst] as number, heap[left] as number)) worst = left;
      if (right < heap.length && before(heap[worst] as number, heap[right] as number)) worst = right;
      if (worst === i) break;
      [heap[worst], heap[i]] = [heap[i] as number, heap[worst] as number];
      i = worst;
    }
  }

  /** The kept slots, best first. */
  sorted(): number[] {
    return [...this.heap].sort((a, b) => (this.before(a, b) ? -1 : this.before(b, a) ? 1 : 0));
  }
}

export function createEmbeddedSearchEngine(): SearchEngine {
  /** Term → its postings. */
  const index = new SearchableMap<Postings>();
  /** Terms in `VOCABULARY_BITS` fields, with how many products have each: what suggestions complete. */
  const vocabulary = new SearchableMap<number>();
  const slotOf = new Map<string, number>();
  const entries: (Entry | undefined)[] = [];
  const freeSlots: number[] = [];
  let termCount = 0;
  const brands = new NameCounts<string>();
  const categories = new NameCounts<string>();
  const scratch = new Scratch();
  /** Counts words checked against products' own terms (`Postings.checked`); never wraps in practice (2^53). */
  let checks = 0;
  /** Products whose name or SKU is one word, by that word's key: what a one-word query matches whole. */
  const wholeNames = new Map<string, Set<number>>();
  const keyWhole = (key: string, slot: number, present: boolean) => {
    if (key === "" || key.includes(" ")) return;
    const slots = wholeNames.get(key);
    if (present) {
      if (slots) slots.add(slot);
      else wholeNames.set(key, new Set([slot]));
    } else if (slots) {
      slots.delete(slot);
      if (slots.size === 0) wholeNames.delete(key);
    }
  };

  const entryAt = (slot: number): Entry => entries[slot] as Entry;

  /** Whether the product in slot `a` ranks before the one in `b` by the scores in scratch. */
  const slotBefore = (a: number, b: number): boolean => {
    const sa = scratch.score[a] as number;
    const sb = scratch.score[b] as number;
    if (sa !== sb) return sa > sb;
    const da = entryAt(a).doc;
    const db = entryAt(b).doc;
    if (da.inStock !== db.inStock) return da.inStock;
    if (da.popularity !== db.popularity) return da.popularity > db.popularity;
    return da.id < db.id;
  };

  const hitAt = (slot: number): SearchHit => {
    const doc = entryAt(slot).doc;
    return {
      score: scratch.score[slot] as number,
      inStock: doc.inStock,
      popularity: doc.popularity,
      id: doc.id,
    };
  };

  /** The product's field mask in a term's postings (0 when it is not in them). */
  const maskOf = (postings: Postings, slot: number): number => {
    const at = findPosting(postings.slots, slot);
    return at < 0 ? 0 : maskOfPosting(postings.slots[at] as number);
  };

  const forget = (id: string): void => {
    const slot = slotOf.get(id);
    if (slot === undefined) return;
    const entry = entryAt(slot);
    for (const postings of entry.postings) {
      const vocabularyWord = maskOf(postings, slot) & VOCABULARY_BITS;
      dropPosting(postings.slots, slot);
      if (postings.top?.slots.includes(slot)) postings.top = undefined;
      if (postings.slots.length === 0) index.delete(postings.term);
      if (vocabularyWord) {
        const count = vocabulary.get(postings.term) ?? 0;
        if (count <= 1) vocabulary.delete(postings.term);
        else vocabulary.set(postings.term, count - 1);
      }
    }
    termCount -= entry.postings.length;
    keyWhole(entry.nameKey, slot, false);
    keyWhole(entry.skuKey, slot, false);
    entries[slot] = undefined;
    freeSlots.push(slot);
    slotOf.delete(id);
    brands.drop(entry.doc.brand);
    for (const categoryId of entry.doc.categoryIds) categories.drop(categoryId);
  };

  const add = (doc: SearchDocument): void => {
    const slot = freeSlots.pop() ?? entries.length;
    const postings: Postings[] = [];
    const masks: number[] = [];
    for (const [term, mask] of termMasks(doc)) {
      let found = index.get(term);
      if (!found) {
        // A word's suggestions are kept from its first product on; a SKU's only once asked for.
        found = {
          term,
          slots: [],
          top: mask & VOCABULARY_BITS ? { slots: [], masks: [] } : undefined,
          checked: 0,
          quality: 0,
        };
        index.set(term, found);
      }
      addPosting(found.slots, slot, mask);
      postings.push(found);
      masks.push(mask);
      if (mask & VOCABULARY_BITS) vocabulary.set(term, (vocabulary.get(term) ?? 0) + 1);
    }
    termCount += postings.length;
    const entry: Entry = {
      doc,
      slot,
      postings,
      nameKey: phraseKey(doc.name),
      skuKey: phraseKey(doc.sku),
      attributeKeys: [...new Set(doc.attributes.map((a) => `${a.name}=${a.value}`))],
    };
    entries[slot] = entry;
    keyWhole(entry.nameKey, slot, true);
    keyWhole(entry.skuKey, slot, true);
    postings.forEach((found, i) => {
      if (found.top) placeInTop(found.top, slot, masks[i] ?? 0);
    });
    slotOf.set(doc.id, slot);
    brands.add(doc.brand, doc.brand);
    doc.categoryIds.forEach((categoryId, i) => {
      categories.add(categoryId, doc.categoryNames[i] ?? "");
    });
  };

  function expand(word: QueryWord, prefixTerms: number): Expansion {
    const terms = new Map<string, number>();
    const note = (term: string, quality: number) => {
      if ((terms.get(term) ?? 0) < quality) terms.set(term, quality);
    };
    if (index.has(word.stem)) note(word.stem, QUALITY.exact);
    if (index.has(word.word)) note(word.word, QUALITY.exact);
    let broad = false;
    if (word.prefix) {
      let seen = 0;
      for (const term of index.atPrefix(word.word).keys()) {
        if (++seen > prefixTerms) {
          broad = true;
          break;
        }
        note(term, QUALITY.prefix);
      }
    }
    if (word.fuzzy > 0) {
      for (const term of index.fuzzyGet(word.word, word.fuzzy).keys()) note(term, QUALITY.fuzzy);
      // A swap of neighbouring letters is one edit.
      for (const swapped of swaps(word.word)) {
        if (word.fuzzy === 1) {
          if (index.has(swapped)) note(swapped, QUALITY.fuzzy);
        } else for (const term of index.fuzzyGet(swapped, word.fuzzy - 1).keys()) note(term, QUALITY.fuzzy);
      }
    }
    const postings: Expansion["postings"] = [];
    let size = 0;
    for (const [term, quality] of terms) {
      const found = index.get(term);
      if (!found) continue;
      postings.push({ slots: found.slots, quality });
      size += found.slots.length;
    }
    return { word, terms, postings, size: broad ? Number.POSITIVE_INFINITY : size, broad };
  }

  /** How well a term of a product matches an expanded word: 0 when it does not. */
  const termQuality = (x: Expansion, term: string): number => {
    const quality = x.terms.get(term) ?? 0;
    return x.broad && quality < QUALITY.prefix && term.startsWith(x.word.word) ? QUALITY.prefix : quality;
  };

  /**
   * The slots of every product matching the text; their scores are left in `scratch.score`. The
   * word with the fewest postings is walked; every other word is then checked only for those
   * products, the cheapest way: walking its postings, looking each product up in them, or
   * reading the product's own terms (the way for a short prefix with many completions).
   */
  function matchText(text: string): number[] {
    scratch.fit(entries.length);
    const { score, tier, mark, wordScore, wordTier, wordMark } = scratch;
    const query = analyzeQuery(text);
    if (query.length === 0) {
      const all: number[] = [];
      entries.forEach((entry, slot) => {
        if (entry) {
          score[slot] = 0;
          all.push(slot);
        }
      });
      return all;
    }
    const words = query.map((word) => expand(word, PREFIX_TERMS)).sort((a, b) => a.size - b.size);
    const first = words[0] as Expansion;
    const seed = first.broad ? expand(first.word, Number.POSITIVE_INFINITY) : first;
    let inMark = scratch.next();
    let candidates: number[] = [];
    for (const { slots, quality } of seed.postings)
      for (const posting of slots) {
        const slot = slotOfPosting(posting);
        const mask = maskOfPosting(posting);
        const s = (MASK_WEIGHT[mask] ?? 0) * quality;
        const t = tierOf(mask, quality);
        if (mark[slot] !== inMark) {
          mark[slot] = inMark;
          score[slot] = s;
          tier[slot] = t;
          candidates.push(slot);
        } else {
          if (s > (score[slot] as number)) score[slot] = s;
          if (t > (tier[slot] as number)) tier[slot] = t;
        }
      }
    const termsPerProduct = slotOf.size === 0 ? 1 : termCount / slotOf.size;
    for (const word of words.slice(1)) {
      if (candidates.length === 0) break;
      const wm = scratch.next();
      const seen = (slot: number, mask: number, quality: number) => {
        const s = (MASK_WEIGHT[mask] ?? 0) * quality;
        const t = tierOf(mask, quality);
        if (wordMark[slot] !== wm) {
          wordMark[slot] = wm;
          wordScore[slot] = s;
          wordTier[slot] = t;
        } else {
          if (s > (wordScore[slot] as number)) wordScore[slot] = s;
          if (t > (wordTier[slot] as number)) wordTier[slot] = t;
        }
      };
      const probeCost = word.broad
        ? Number.POSITIVE_INFINITY
        : candidates.length * word.postings.reduce((sum, p) => sum + Math.log2(p.slots.length + 1), 0);
      const readCost = candidates.length * termsPerProduct;
      if (word.size <= probeCost && word.size <= readCost) {
        for (const { slots, quality } of word.postings)
          for (const posting of slots) {
            const slot = slotOfPosting(posting);
            if (mark[slot] === inMark) seen(slot, maskOfPosting(posting), quality);
          }
      } else if (probeCost <= readCost) {
        for (const slot of candidates)
          for (const { slots, quality } of word.postings) {
            const at = findPosting(slots, slot);
            if (at >= 0) seen(slot, maskOfPosting(slots[at] as number), quality);
          }
      } else {
        // Products share most of their terms: each term is compared with the word once.
        const check = ++checks;
        for (const slot of candidates) {
          const entry = entryAt(slot);
          for (const postings of entry.postings) {
            if (postings.checked !== check) {
              postings.checked = check;
              postings.quality = termQuality(word, postings.term);
            }
            if (postings.quality > 0) seen(slot, maskOf(postings, slot), postings.quality);
          }
        }
      }
      const nextMark = scratch.next();
      const next: number[] = [];
      for (const slot of candidates) {
        if (wordMark[slot] !== wm) continue;
        score[slot] = (score[slot] as number) + (wordScore[slot] as number);
        if ((wordTier[slot] as number) < (tier[slot] as number)) tier[slot] = wordTier[slot] as number;
        mark[slot] = nextMark;
        next.push(slot);
      }
      inMark = nextMark;
      candidates = next;
    }
    const key = phraseKey(text);
    for (const slot of candidates) {
      const entry = entryAt(slot);
      const best = entry.nameKey === key || entry.skuKey === key ? EXACT_TIER : (tier[slot] as number);
      score[slot] = best * TIER + Math.round((score[slot] as number) * 100);
    }
    return candidates;
  }

  function search(query: SearchQuery): SearchResult {
    const { filters, after, before } = query;
    const backward = query.backward ?? false;
    const slots = matchText(query.text);
    const attributeFilters = filters.attributes ?? [];
    const brandSet = filters.brands ? new Set(filters.brands) : null;
    // Going backward the heap keeps the worst-ranked hits in range: those next to `before`.
    const top = new TopSlots(
      Math.max(0, query.limit),
      backward ? (a: number, b: number) => slotBefore(b, a) : slotBefore,
    );
    const facets = query.facets ? new FacetCounter() : null;
    let total = 0;
    let inRange = 0;
    let atOrBeforeAfter = 0;
    let atOrAfterBefore = 0;
    for (const slot of slots) {
      const entry = entryAt(slot);
      const doc = entry.doc;
      if (!passesCommon(doc, filters)) continue;
      const priceOk =
        (filters.minPrice === undefined || doc.price >= filters.minPrice) &&
        (filters.maxPrice === undefined || doc.price <= filters.maxPrice);
      const brandOk = brandSet === null || brandSet.has(doc.brand);
      let failedAttributes = 0;
      let failedAttribute = -1;
      attributeFilters.forEach((filter, i) => {
        if (!filter.values.some((value) => entry.attributeKeys.includes(`${filter.name}=${value}`))) {
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
      total++;
      if (after && !ranksBefore(after, hitAt(slot))) {
        atOrBeforeAfter++;
        continue;
      }
      if (before && !ranksBefore(hitAt(slot), before)) {
        atOrAfterBefore++;
        continue;
      }
      inRange++;
      top.offer(slot);
    }
    const sorted = top.sorted();
    const cut = inRange > query.limit;
    return {
      hits: (backward ? sorted.reverse() : sorted).map(hitAt),
      hasNextPage: atOrAfterBefore > 0 || (!backward && cut),
      hasPreviousPage: atOrBeforeAfter > 0 || (backward && cut),
      total,
      facets: facets ? facets.result() : null,
    };
  }

  /** Whether product `a` (with rank `ra` in a term) comes before `b` in that term's suggestions. */
  const termBefore = (a: number, ra: number, b: number, rb: number): boolean => {
    if (ra !== rb) return ra > rb;
    const da = entryAt(a).doc;
    const db = entryAt(b).doc;
    if (da.inStock !== db.inStock) return da.inStock;
    if (da.popularity !== db.popularity) return da.popularity > db.popularity;
    return da.id < db.id;
  };

  function placeInTop(top: NonNullable<Postings["top"]>, slot: number, mask: number): void {
    const rank = termRank(mask);
    if (rank < 0) return;
    const { slots, masks } = top;
    let i = slots.length;
    const beats = (at: number) => termBefore(slot, rank, slots[at] as number, termRank(masks[at] ?? 0));
    if (i === SUGGEST_TOP && !beats(i - 1)) return;
    while (i > 0 && beats(i - 1)) i--;
    slots.splice(i, 0, slot);
    masks.splice(i, 0, mask);
    if (slots.length > SUGGEST_TOP) {
      slots.pop();
      masks.pop();
    }
  }

  const topOf = (postings: Postings): NonNullable<Postings["top"]> => {
    if (postings.top) return postings.top;
    const top = { slots: [], masks: [] };
    for (const posting of postings.slots) placeInTop(top, slotOfPosting(posting), maskOfPosting(posting));
    postings.top = top;
    return top;
  };

  /**
   * Product suggestions for one word being typed, without a search: the words of the vocabulary it
   * is, starts (at most `SUGGEST_TERMS` of them) or is a typo of. For each word, its best
   * `SUGGEST_TOP` products (outside the description) are kept between calls, so a keystroke reads
   * a few hundred postings; the best of those, ranked as search ranks them, are the best of all
   * (a product ranks by its best word, and each word's list holds its own best). Typo matches,
   * ranked differently, are read in full, and only when the others are too few; a product whose
   * whole name or SKU is the word is added.
   */
  function suggestProducts(word: QueryWord, limit: number): number[] {
    scratch.fit(entries.length);
    const { score, mark } = scratch;
    const terms = new Map<string, number>();
    const note = (term: string, quality: number) => {
      if ((terms.get(term) ?? 0) < quality) terms.set(term, quality);
    };
    if (index.has(word.stem)) note(word.stem, QUALITY.exact);
    if (index.has(word.word)) note(word.word, QUALITY.exact);
    let completions = 0;
    for (const term of vocabulary.atPrefix(word.word).keys()) {
      if (++completions > SUGGEST_TERMS) break;
      note(term, QUALITY.prefix);
    }
    if (word.fuzzy > 0) {
      for (const term of vocabulary.fuzzyGet(word.word, word.fuzzy).keys()) note(term, QUALITY.fuzzy);
      for (const swapped of swaps(word.word)) if (vocabulary.has(swapped)) note(swapped, QUALITY.fuzzy);
    }
    const seen = scratch.next();
    const candidates: number[] = [];
    const consider = (slot: number, value: number) => {
      if (mark[slot] !== seen) {
        mark[slot] = seen;
        score[slot] = value;
        candidates.push(slot);
      } else if (value > (score[slot] as number)) score[slot] = value;
    };
    const suggestValue = (mask: number, quality: number, tier: number) =>
      tier * TIER + Math.round((MASK_WEIGHT[mask & SUGGEST_BITS] ?? 0) * quality * 100);
    // Typo matches rank below every other (tier 0): they are read only when those are too few.
    for (const [term, quality] of [...terms].sort((a, b) => b[1] - a[1])) {
      if (quality <= QUALITY.fuzzy && candidates.length >= limit) break;
      const postings = index.get(term);
      if (!postings) continue;
      if (quality > QUALITY.fuzzy && limit <= SUGGEST_TOP) {
        const top = topOf(postings);
        top.slots.forEach((slot, i) => {
          const mask = top.masks[i] ?? 0;
          consider(slot, suggestValue(mask, quality, tierOf(mask & SUGGEST_BITS, quality)));
        });
      } else
        for (const posting of postings.slots) {
          const mask = maskOfPosting(posting);
          if (mask & SUGGEST_BITS)
            consider(
              slotOfPosting(posting),
              suggestValue(mask, quality, tierOf(mask & SUGGEST_BITS, quality)),
            );
        }
    }
    for (const slot of wholeNames.get(phraseKey(word.word)) ?? []) {
      const entry = entryAt(slot);
      let best = 0;
      for (const postings of entry.postings) {
        const quality = terms.get(postings.term) ?? 0;
        const mask = quality > 0 ? maskOf(postings, slot) : 0;
        if (quality > 0 && mask & SUGGEST_BITS)
          best = Math.max(best, suggestValue(mask, quality, EXACT_TIER));
      }
      if (best > 0) consider(slot, best);
    }
    const top = new TopSlots(limit, slotBefore);
    for (const slot of candidates) top.offer(slot);
    return top.sorted();
  }

  function suggest(prefix: string, limit: number): Suggestions {
    const query = analyzeQuery(prefix);
    if (query.length === 0 || limit <= 0) return { products: [], categories: [], brands: [] };
    const slots =
      query.length === 1 && query[0]
        ? suggestProducts(query[0], limit)
        : search({ text: prefix, filters: {}, limit, facets: false }).hits.map(
            (hit) => slotOf.get(hit.id) as number,
          );
    const products = slots.map((slot) => ({ id: entryAt(slot).doc.id, name: entryAt(slot).doc.name }));
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
        add(doc);
      }
    },
    remove(ids) {
      for (const id of ids) forget(id);
    },
    size: () => slotOf.size,
  };
}

function passesCommon(doc: SearchDocument, filters: SearchFilters): boolean {
  if (filters.inStock !== undefined && doc.inStock !== filters.inStock) return false;
  if (filters.categoryIds && !filters.categoryIds.some((id) => doc.categoryIds.includes(id))) return false;
  return true;
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
