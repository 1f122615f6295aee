import { normalize, words } from "../search/text.ts";

/** Why screening held a review for a moderator. */
export type HoldReason = "LINK" | "MARKUP" | "REPEATED_TEXT" | "BLOCKED_WORD";

/** Screening's verdict on one version of a review: held when `reasons` is not empty. */
export interface ScreeningResult {
  reasons: HoldReason[];
  /** What was found, for moderators, e.g. `link "bit.ly/x"; blocked word "casino"`; empty when clean. */
  detail: string;
}

/**
 * A small default: spam and a few slurs and profanities. Stores replace it with
 * REVIEW_BLOCKED_WORDS; each entry is a word or a phrase of words.
 */
export const DEFAULT_BLOCKED_WORDS: readonly string[] = [
  "viagra",
  "cialis",
  "porn",
  "onlyfans",
  "online casino",
  "crypto giveaway",
  "fuck",
  "shit",
  "cunt",
  "asshole",
  "motherfucker",
  "nigger",
  "faggot",
];

/**
 * Top-level domains a bare domain may end with, in lower case: common and spam-favoured ones
 * that are not also everyday words or abbreviations ("it", "in", "so", "me", "us", "no", "to",
 * "at", "be", "is", "id" are left out), so "Works great.it arrived" is not a link. Those still
 * count with a path ("example.me/offer"), `www.` or a scheme.
 */
const BARE_TLDS = new Set(
  (
    "com net org info biz io co xyz top shop store online site app dev ly tv ru cn de fr uk " +
    "nl eu es pl br jp ca au ch se ua tk ml ga cf gq cc ws pw club live link click buzz win " +
    "vip icu gg su kr tr ir vn mx ar za nz cz ro hu gr pt dk fi"
  ).split(" "),
);

const SCHEME = /\b(?:https?|ftp):\/\/\S+/i;
const WWW = /\bwww\d?\.\S+/i;
/** A dotted name of at least two labels, each starting with a letter or digit. */
const DOMAIN = /(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,24}))(\/\S*)?(?![\w-])/gi;
const EMAIL = /\b[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+\b/i;

function findLink(text: string): string | null {
  const scheme = text.match(SCHEME) ?? text.match(WWW) ?? text.match(EMAIL);
  if (scheme) return scheme[0];
  for (const match of text.matchAll(DOMAIN)) {
    const [whole, host = "", tld = "", path] = match;
    const labels = host.split(".");
    const lowerTld = tld.toLowerCase();
    // A capitalised last label ("great.It") is two sentences run together, not a domain.
    const oneCase = tld === lowerTld || host === host.toUpperCase();
    // Numbers with units ("3.5mm", "1.5x") and abbreviations ("e.g", "i.e", "a.m") are not names.
    const named = labels.slice(0, -1).some((label) => /[a-z]/i.test(label) && label.length >= 2);
    if (!oneCase || !named) continue;
    if (BARE_TLDS.has(lowerTld) || (path !== undefined && path.length > 1)) return whole;
  }
  return null;
}

const TAGS =
  "a|abbr|b|base|big|blink|body|br|button|center|code|div|em|embed|font|form|frame|h[1-6]|head|hr|html|i|iframe|img|input|li|link|marquee|meta|object|ol|p|pre|script|small|source|span|strong|style|sub|sup|svg|table|td|th|tr|u|ul|video";
const MARKUP = [
  // A known element without attributes: "<b>", "</p>", "<br/>".
  new RegExp(`<\\/?(?:${TAGS})\\s*\\/?>`, "i"),
  // Any element with an attribute value: "<a href=...>"; "a<b and c>d" has none.
  /<[a-z][a-z0-9-]*\s[^<>]*=[^<>]*>/i,
  /<\/[a-z][a-z0-9-]*\s*>/i,
  /<!--/,
  /<\s*script\b/i,
  /\bjavascript\s*:/i,
  /\bon[a-z]+\s*=\s*["']/i,
  /&(?:#x?[0-9a-f]+|lt|gt|amp|quot|nbsp);/i,
  /\[(?:url|img|link)\b[^\]]*\]/i,
];

function findMarkup(text: string): string | null {
  for (const pattern of MARKUP) {
    const found = text.match(pattern);
    if (found) return found[0];
  }
  return null;
}

/** One character, other than a digit or white space, this many times in a row. */
const CHARACTER_RUN = 10;
/** One word this many times in a row ("buy buy buy buy buy"). */
const WORD_RUN = 5;
/** A phrase of 2 to 8 words this many times in a row. */
const PHRASE_RUN = 3;
/** A stretch of 2 to 4 characters repeated this many times in a row ("lolololololol"). */
const SYLLABLE_RUN = 6;
/** A four-word phrase this many times anywhere in the text. */
const SHINGLE_REPEATS = 4;

function findRepetition(text: string): string | null {
  const run = text.match(new RegExp(`([^\\s\\d])\\1{${CHARACTER_RUN - 1},}`, "u"));
  if (run) return `"${run[0].slice(0, 12)}…" (one character ${run[0].length} times)`;
  // Numbers repeat digit groups ("1,000,000,000"), so only a stretch with a letter counts.
  for (const [whole, syllable = ""] of text.matchAll(
    new RegExp(`(\\S{2,4})\\1{${SYLLABLE_RUN - 1},}`, "gu"),
  )) {
    if (/\p{L}/u.test(syllable)) return `"${syllable}" repeated ${whole.length / syllable.length} times`;
  }
  const tokens = words(text);
  for (let size = 1; size <= 8; size++) {
    const needed = size === 1 ? WORD_RUN : PHRASE_RUN;
    for (let start = 0; start + size * needed <= tokens.length; start++) {
      let repeats = 1;
      while (
        start + (repeats + 1) * size <= tokens.length &&
        sameTokens(tokens, start, start + repeats * size, size)
      ) {
        repeats++;
      }
      const phrase = tokens.slice(start, start + size).join(" ");
      if (repeats >= needed && /\p{L}/u.test(phrase)) return `"${phrase}" ${repeats} times in a row`;
    }
  }
  const shingles = new Map<string, number>();
  for (let i = 0; i + 4 <= tokens.length; i++) {
    const shingle = tokens.slice(i, i + 4).join(" ");
    const seen = (shingles.get(shingle) ?? 0) + 1;
    if (seen >= SHINGLE_REPEATS && /\p{L}/u.test(shingle)) return `"${shingle}" ${seen} times`;
    shingles.set(shingle, seen);
  }
  return null;
}

function sameTokens(tokens: readonly string[], a: number, b: number, size: number): boolean {
  for (let i = 0; i < size; i++) if (tokens[a + i] !== tokens[b + i]) return false;
  return true;
}

/** Endings a blocked word may carry and still be that word ("casinos", "fucking"). */
const INFLECTIONS = ["", "s", "es", "ed", "er", "ers", "ing", "in", "y"];

/** Normalises configured entries the way review text is: lower case, no accents, words only. */
export function parseWordList(entries: readonly string[]): string[][] {
  return entries.map((entry) => words(entry)).filter((phrase) => phrase.length > 0);
}

function findBlockedWords(text: string, blocked: readonly (readonly string[])[]): string[] {
  const tokens = words(text);
  const found = new Set<string>();
  for (const phrase of blocked) {
    const last = phrase.length - 1;
    for (let i = 0; i + phrase.length <= tokens.length; i++) {
      const matches = phrase.every((word, k) => {
        const token = tokens[i + k] ?? "";
        if (k < last) return token === word;
        return INFLECTIONS.some((ending) => token === word + ending);
      });
      if (matches) found.add(phrase.join(" "));
    }
  }
  return [...found];
}

/**
 * Screens a review's title and body before it reaches moderation. Pure and deterministic: the
 * same text and word list always give the same verdict. Rules lean towards letting text through
 * (decimals, abbreviations, emphasis like "sooo good!!!"), since a held review only waits for a
 * moderator while a wrongly published one is seen by every shopper.
 */
export function screenReview(
  content: { title: string; body: string },
  blockedWords: readonly (readonly string[])[],
): ScreeningResult {
  const reasons: HoldReason[] = [];
  const details: string[] = [];
  const text = `${content.title}\n${content.body}`;
  const link = findLink(text);
  if (link) {
    reasons.push("LINK");
    details.push(`link "${clip(link)}"`);
  }
  const markup = findMarkup(text);
  if (markup) {
    reasons.push("MARKUP");
    details.push(`markup "${clip(markup)}"`);
  }
  const repeated = findRepetition(text);
  if (repeated) {
    reasons.push("REPEATED_TEXT");
    details.push(`repeated text ${repeated}`);
  }
  const blocked = findBlockedWords(normalize(text), blockedWords);
  if (blocked.length > 0) {
    reasons.push("BLOCKED_WORD");
    details.push(
      `blocked ${blocked.length === 1 ? "word" : "words"} ${blocked.map((w) => `"${w}"`).join(", ")}`,
    );
  }
  return { reasons, detail: details.join("; ") };
}

const clip = (value: string) => (value.length > 60 ? `${value.slice(0, 60)}…` : value);
