/**
 * Text normalisation shared by indexing (what products store in `searchTerms`) and querying,
 * so both sides agree: lower case, accents removed (NFD, combining marks dropped), words are runs
 * of letters and digits. Output contains only `[a-z0-9]` (and other scripts' letters), never a
 * regex metacharacter, so a word can go into a `^` prefix regex without escaping.
 */
export function normalize(value: string): string {
  return value.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

export function words(value: string): string[] {
  return normalize(value).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** At most this many distinct query words count; a longer query is cut, not refused. */
export const MAX_QUERY_WORDS = 10;

export function queryWords(query: string): string[] {
  return [...new Set(words(query))].slice(0, MAX_QUERY_WORDS);
}

export interface SearchableProduct {
  name: string;
  brand: string;
  sku: string;
  tags: readonly string[];
  attributes: readonly { value: string }[];
}

export function searchTermsOf(product: SearchableProduct): string[] {
  const all = [
    product.name,
    product.brand,
    product.sku,
    ...product.tags,
    ...product.attributes.map((a) => a.value),
  ].flatMap(words);
  return [...new Set(all)];
}

export const nameKeyOf = (name: string): string => words(name).join(" ");

/** Escapes a string for use inside a regular expression (for words of other scripts, belt and braces). */
export const escapeRegex = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface Scored {
  score: number;
}

/**
 * Relevance of a product for query words, higher is better. In order of weight: the whole
 * name equals the query; how many query words match some word of the product by prefix; how
 * many match a word of the name; how many match a word exactly (so `tee` ranks `tee` above `teal`).
 */
export function relevance(
  product: { searchTerms: readonly string[]; nameKey: string },
  query: readonly string[],
): number {
  if (query.length === 0) return 0;
  const nameWords = product.nameKey.split(" ");
  let matched = 0;
  let inName = 0;
  let exact = 0;
  for (const word of query) {
    if (product.searchTerms.some((term) => term.startsWith(word))) matched++;
    if (nameWords.some((term) => term.startsWith(word))) inName++;
    if (product.searchTerms.includes(word)) exact++;
  }
  const exactName = product.nameKey === query.join(" ") ? 1 : 0;
  return exactName * 1_000_000 + matched * 10_000 + inName * 100 + exact;
}
