/**
 * Argument values a client could send: every one type-valid for its scalar, most of them
 * hostile (bounds, control characters, odd unicode, ids of the wrong shape). Each value comes
 * with a `kind` label, so a failure reads as "products.first = int.max", not just a number.
 */
import { demoCategories, demoProducts, demoReviews } from "@nexus/catalog/demo";
import { DEMO_ACCOUNTS, DEMO_REVIEWERS } from "@nexus/users/demo";
import type { Random } from "./random.ts";

/** Ids and strings that exist in the stack, so some cases get past "not found" into the logic. */
export interface KnownValues {
  productIds: readonly string[];
  productSlugs: readonly string[];
  categoryIds: readonly string[];
  categorySlugs: readonly string[];
  userIds: readonly string[];
  reviewIds: readonly string[];
  /** Orders placed when the stack started; none in a generator's unit test. */
  orderIds: readonly string[];
  emails: readonly string[];
  passwords: readonly string[];
}

export function demoKnownValues(): KnownValues {
  const products = demoProducts();
  const categories = demoCategories();
  return {
    productIds: products.map((product) => product.id),
    productSlugs: products.map((product) => product.slug),
    categoryIds: categories.map((category) => category.id),
    categorySlugs: categories.map((category) => category.slug),
    userIds: DEMO_REVIEWERS.map((reviewer) => reviewer.id),
    reviewIds: demoReviews().map((review) => review.id),
    orderIds: [],
    emails: [...DEMO_ACCOUNTS.map((account) => account.email), ...DEMO_REVIEWERS.map((r) => r.email)],
    passwords: DEMO_ACCOUNTS.map((account) => account.password),
  };
}

export interface GeneratedValue {
  value: unknown;
  kind: string;
}

/** Where the value goes: an inline literal cannot hold a lone surrogate (a syntax error). */
export interface ValueContext {
  random: Random;
  known: KnownValues;
  inline: boolean;
  /** The argument or input field name, for hints (`email`, `productId`, `after` ...). */
  name: string;
}

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

const INTS: readonly [string, number][] = [
  ["int.zero", 0],
  ["int.one", 1],
  ["int.minus-one", -1],
  ["int.small", 3],
  ["int.page", 50],
  ["int.hundred", 100],
  ["int.101", 101],
  ["int.thousand", 1000],
  ["int.max", INT_MAX],
  ["int.min", INT_MIN],
  ["int.max-1", INT_MAX - 1],
  ["int.2^24", 16777216],
];

const FLOATS: readonly [string, number][] = [
  ["float.zero", 0],
  ["float.half", 0.5],
  ["float.negative", -1.5],
  ["float.1e300", 1e300],
  ["float.-1e300", -1e300],
  ["float.max", Number.MAX_VALUE],
  ["float.min-subnormal", 5e-324],
  ["float.tiny", 1e-10],
  ["float.int-max+1", 2147483648],
];

/** Strings a client can send that are awkward for whatever stores, compares or prints them. */
const STRINGS: readonly [string, string][] = [
  ["string.empty", ""],
  ["string.space", " "],
  ["string.whitespace", " \t\n\r "],
  ["string.nul", "\u0000"],
  ["string.nul-inside", "ab\u0000cd"],
  ["string.control", "\u0001\u0002\u0007\u0008\u000b\u000c\u001b\u001f"],
  ["string.del-c1", "\u007f\u0080\u0085\u009f"],
  ["string.newlines", "line1\nline2\r\nline3"],
  ["string.emoji", "😀👍🏽👨‍👩‍👧‍👦🇩🇪"],
  ["string.rtl", "\u202eabc\u202c \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627"],
  ["string.combining", "e\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a"],
  ["string.zero-width", "\u200b\u200c\u200d\ufeff\u2060"],
  ["string.noncharacter", "\ufffe\uffff\ufffd"],
  ["string.astral", "\u{10ffff}\u{1d11e}\u{20000}"],
  ["string.cjk", "東京都渋谷区"],
  ["string.sql", "' OR '1'='1'; DROP TABLE users; --"],
  ["string.mongo-operator", '{"$gt":""}'],
  ["string.regex", "(a+)+$[.*?^$\u007b}()|\\"],
  ["string.backslashes", "\\\\\\"],
  ["string.html", "<script>alert(1)</script>"],
  ["string.format", "%s%n%d%x{0}$\u007bx}"],
  ["string.path", "../../../etc/passwd"],
  ["string.numeric", "12345"],
  ["string.nan", "NaN"],
  ["string.null-word", "null"],
  ["string.ascii", "Hello, world"],
];

const LONE_SURROGATES: readonly [string, string][] = [
  ["string.lone-high-surrogate", "ab\ud800cd"],
  ["string.lone-low-surrogate", "\udfff"],
  ["string.reversed-surrogates", "\udc00\ud800"],
];

const DATE_TIMES: readonly [string, unknown][] = [
  ["datetime.valid", "2026-01-15T09:30:00.000Z"],
  ["datetime.epoch", "1970-01-01T00:00:00.000Z"],
  ["datetime.far-future", "9999-12-31T23:59:59.999Z"],
  ["datetime.extended-year", "+275760-09-13T00:00:00.000Z"],
  ["datetime.beyond-js", "+275760-09-14T00:00:00.000Z"],
  ["datetime.negative-year", "-000001-01-01T00:00:00.000Z"],
  ["datetime.impossible-day", "2026-02-30T00:00:00.000Z"],
  ["datetime.offset", "2026-01-15T09:30:00+14:00"],
  ["datetime.date-only", "2026-01-15"],
  ["datetime.garbage", "not a date"],
  ["datetime.empty", ""],
  ["datetime.number", 0],
  ["datetime.huge-number", 8.64e15 + 1],
  ["datetime.nul", "2026-01-15T09:30:00.000Z\u0000"],
];

const hex = (random: Random, length: number): string =>
  Array.from({ length }, () => "0123456789abcdef"[random.int(0, 15)]).join("");

const uuid = (random: Random): string =>
  `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-${"89ab"[random.int(0, 3)]}${hex(random, 3)}-${hex(random, 12)}`;

function longString(random: Random): GeneratedValue {
  const unit = random.pick(["a", "é", "😀", "\u0000", "ab "]);
  // A NUL is six bytes in JSON: 20,000 of them would only meet the body size limit.
  const length = random.pick(unit === "\u0000" ? [256, 1001, 5000] : [256, 1001, 5000, 20000]);
  // Whole units: slicing "😀" in half would leave a lone surrogate where a literal cannot hold one.
  return { value: unit.repeat(Math.ceil(length / unit.length)), kind: `string.long-${length}` };
}

function anyString(context: ValueContext): GeneratedValue {
  const { random, inline } = context;
  const roll = random.next();
  if (roll < 0.08) return longString(random);
  if (roll < 0.14 && !inline) {
    const [kind, value] = random.pick(LONE_SURROGATES);
    return { value, kind };
  }
  const [kind, value] = random.pick(STRINGS);
  return { value, kind };
}

function anyId(context: ValueContext): GeneratedValue {
  const { random, known } = context;
  const productish = /product/i.test(context.name);
  const categoryish = /category|parent/i.test(context.name);
  const userish = /user/i.test(context.name);
  const roll = random.next();
  if (roll < 0.3 && /order/i.test(context.name) && known.orderIds.length > 0)
    return { value: random.pick(known.orderIds), kind: "id.known-order" };
  if (roll < 0.3 && /review/i.test(context.name))
    return { value: random.pick(known.reviewIds), kind: "id.known-review" };
  if (roll < 0.3) {
    if (productish || (!categoryish && !userish && random.chance(0.5)))
      return { value: random.pick(known.productIds), kind: "id.known-product" };
    if (categoryish) return { value: random.pick(known.categoryIds), kind: "id.known-category" };
    return { value: random.pick(known.userIds), kind: "id.known-user" };
  }
  const kinds: (() => GeneratedValue)[] = [
    () => ({ value: hex(random, 24), kind: "id.objectid" }),
    () => ({ value: hex(random, 24).toUpperCase(), kind: "id.objectid-upper" }),
    () => ({ value: hex(random, random.pick([23, 25])), kind: "id.objectid-wrong-length" }),
    () => ({ value: "000000000000000000000000", kind: "id.objectid-zero" }),
    () => ({ value: uuid(random), kind: "id.uuid" }),
    () => ({ value: uuid(random).toUpperCase(), kind: "id.uuid-upper" }),
    () => ({ value: "00000000-0000-0000-0000-000000000000", kind: "id.uuid-nil" }),
    () => ({ value: uuid(random).replaceAll("-", ""), kind: "id.uuid-no-dashes" }),
    () => ({ value: random.int(-5, 1000), kind: "id.number" }),
    () => ({ value: String(INT_MAX), kind: "id.numeric-string" }),
    () => ({ value: `${hex(random, 24)}\u0000`, kind: "id.objectid-nul" }),
    () => ({ value: "gid://nexus/Product/1", kind: "id.gid" }),
    () => anyString(context),
  ];
  const generated = random.pick(kinds)();
  return generated.kind.startsWith("string.") ? { ...generated, kind: `id.${generated.kind}` } : generated;
}

/** Cursors are opaque strings; crafted ones decode to something the server did not write. */
function cursor(context: ValueContext): GeneratedValue {
  const { random } = context;
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  const crafted: [string, string][] = [
    ["cursor.base64-garbage", b64("garbage")],
    ["cursor.base64-json", b64(JSON.stringify({ id: hex(random, 24), offset: -1 }))],
    ["cursor.base64-number", b64(String(random.pick([-1, 0, 1e21, INT_MAX])))],
    ["cursor.base64-empty", b64("")],
    ["cursor.base64-nul", b64("\u0000")],
    ["cursor.not-base64", "%%%not base64%%%"],
    [
      "cursor.base64url",
      b64(`${hex(random, 24)}:${uuid(random)}`)
        .replaceAll("+", "-")
        .replaceAll("/", "_"),
    ],
  ];
  if (random.chance(0.5)) {
    const [kind, value] = random.pick(crafted);
    return { value, kind };
  }
  return anyString(context);
}

function hinted(context: ValueContext): GeneratedValue | null {
  const { random, known, name } = context;
  if (!random.chance(0.5)) return null;
  switch (name) {
    case "email":
      return { value: random.pick(known.emails), kind: "string.known-email" };
    case "password":
    case "currentPassword":
    case "newPassword":
      return {
        value: random.pick([...known.passwords, "correct horse battery staple"]),
        kind: "string.password",
      };
    case "slug":
      return {
        value: random.pick([...known.productSlugs, ...known.categorySlugs]),
        kind: "string.known-slug",
      };
    case "countryCode":
      return { value: random.pick(["US", "DE", "us", "ZZ", "USA"]), kind: "string.country" };
    case "currencyCode":
      return { value: random.pick(["USD", "EUR", "usd", "XXX"]), kind: "string.currency" };
    case "idempotencyKey":
      return { value: uuid(random), kind: "string.uuid" };
    case "paymentToken":
      return {
        value: random.pick(["tok_test_visa", "tok_test_decline", "tok_test_insufficient_funds"]),
        kind: "string.payment-token",
      };
    case "search":
    case "prefix":
      return { value: random.pick(["lap", "coffee", "a", "ünï", "usb-c 16gb"]), kind: "string.search-word" };
    default:
      return null;
  }
}

/** A value of the named scalar, as a variable (JSON) or literal would carry it. */
export function scalarValue(scalar: string, context: ValueContext): GeneratedValue {
  const { random } = context;
  switch (scalar) {
    case "Int": {
      if (random.chance(0.2)) return { value: random.int(INT_MIN, INT_MAX), kind: "int.random" };
      const [kind, value] = random.pick(INTS);
      return { value, kind };
    }
    case "Float": {
      const [kind, value] = random.pick(FLOATS);
      return { value, kind };
    }
    case "Boolean":
      return { value: random.chance(0.5), kind: "boolean" };
    case "ID":
      return anyId(context);
    case "DateTime": {
      const [kind, value] = random.pick(DATE_TIMES);
      return { value, kind };
    }
    default: {
      if (context.name === "after" || context.name === "before") return cursor(context);
      return hinted(context) ?? anyString(context);
    }
  }
}
