import { stemmer } from "stemmer";

/**
 * How the search index and its queries see text. Both sides go through the same functions, so a
 * word typed by a shopper and a word in a product agree:
 *
 * - folding: lower case, accents dropped (NFD, combining marks removed; `ß`, `æ`, `ø`, `œ`, `ł`
 *   spelt out), so `Fjällräven` is `fjallraven` and `creme` finds `Crème`;
 * - words: runs of letters and digits; an apostrophe inside a word is dropped (`Levi's` is
 *   `levis`, `O'Reilly` is `oreilly`); a hyphenated word is its parts and the parts joined
 *   (`T-shirts` is `t`, `shirts` and `tshirts`), so `t-shirt`, `t shirt` and `tshirt` all find it;
 * - stems: English words of letters only are reduced with the Porter stemmer, so plurals and
 *   other inflections meet (`laptops` and `laptop` are `laptop`, `headphones` and `headphone`
 *   are `headphon`). The index keeps the folded word as well as its stem, so a prefix still
 *   finds a word whose stem is shorter than what was typed (`runnin` finds `running`, stem `run`).
 */

const SPELT_OUT: Record<string, string> = { ß: "ss", æ: "ae", ø: "o", œ: "oe", ł: "l", đ: "d", þ: "th" };

export function fold(value: string): string {
  return value
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[ßæøœłđþ]/g, (c) => SPELT_OUT[c] ?? c);
}

const joinApostrophes = (folded: string): string =>
  folded.replace(/([\p{L}\p{N}])['’]([\p{L}\p{N}])/gu, "$1$2");

/** Runs of letters and digits, joined across apostrophes. */
export const plainWords = (value: string): string[] =>
  joinApostrophes(fold(value)).match(/[\p{L}\p{N}]+/gu) ?? [];

/** Like `plainWords`, and a hyphenated word also comes joined. */
export function words(value: string): string[] {
  const out: string[] = [];
  const folded = joinApostrophes(fold(value));
  for (const chunk of folded.match(/[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)*/gu) ?? []) {
    const parts = chunk.split("-");
    out.push(...parts);
    if (parts.length > 1) out.push(parts.join(""));
  }
  return out;
}

const LETTERS_ONLY = /^[a-z]+$/;

/** Stems already worked out: a catalogue repeats its words. Emptied when it reaches `STEMS_KEPT`. */
const stems = new Map<string, string>();
const STEMS_KEPT = 100_000;

/** The Porter stem of an English word; words with digits, other scripts or under 3 letters stay. */
export function stem(word: string): string {
  if (word.length < 3) return word;
  let stemmed = stems.get(word);
  if (stemmed === undefined) {
    stemmed = LETTERS_ONLY.test(word) ? stemmer(word) : word;
    if (stems.size >= STEMS_KEPT) stems.clear();
    stems.set(word, stemmed);
  }
  return stemmed;
}

/** What the index stores for a text: every word and, where it differs, its stem. */
export function indexTerms(value: string): string[] {
  const out: string[] = [];
  for (const word of words(value)) {
    out.push(word);
    const stemmed = stem(word);
    if (stemmed !== word) out.push(stemmed);
  }
  return out;
}

/** At most this many distinct query words count; a longer query is cut, not refused. */
export const MAX_QUERY_WORDS = 10;

export interface QueryWord {
  /** Folded, as typed. */
  word: string;
  stem: string;
  /** Only the last word of a query is typed-ahead. */
  prefix: boolean;
  /** Edits forgiven (a swap of neighbours is one): none under 4 letters, 1 for 4 to 7, 2 for 8 and more. */
  fuzzy: number;
}

/** Words with digits (model numbers, sizes, SKUs) are never fuzzy: a digit off is another product. */
export const fuzzinessOf = (word: string): number =>
  /\p{N}/u.test(word) ? 0 : word.length < 4 ? 0 : word.length < 8 ? 1 : 2;

/** The words of a query (duplicates dropped, at most `MAX_QUERY_WORDS`), the last one a prefix. */
export function analyzeQuery(text: string): QueryWord[] {
  // Joined hyphen forms are for the index; a query matches the parts, each of which must match.
  const list = [...new Set(plainWords(text))].slice(0, MAX_QUERY_WORDS);
  return list.map((word, index) => ({
    word,
    stem: stem(word),
    prefix: index === list.length - 1,
    fuzzy: fuzzinessOf(word),
  }));
}

/** The name or SKU as a phrase of stems: two texts with the same key are the same words. */
export const phraseKey = (value: string): string => plainWords(value).map(stem).join(" ");

/**
 * Edit distance counting a swap of two neighbouring letters as one edit, like a letter added,
 * dropped or changed (optimal string alignment, the usual Damerau variant: `lpatop` is 1 from
 * `laptop`, as shoppers' typos usually are), or `max + 1` as soon as it is certain to exceed `max`.
 */
export function boundedDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let previousMin = 0;
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, (before[j - 2] ?? 0) + 1);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    // A swap looks two rows back, so stop only when two rows in a row are past the bound.
    if (rowMin > max && previousMin > max) return max + 1;
    previousMin = rowMin;
    before = previous;
    previous = current;
  }
  const distance = previous[b.length] ?? max + 1;
  return distance > max ? max + 1 : distance;
}

/** The word with each pair of neighbouring letters swapped (distinct, the word itself left out). */
export function swaps(word: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i + 1 < word.length; i++) {
    if (word[i] === word[i + 1]) continue;
    out.add(word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2));
  }
  return [...out];
}
