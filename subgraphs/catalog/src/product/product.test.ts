import { encodeCursor } from "@nexus/core";
import { globalId, rawId } from "@nexus/testing";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DemoProduct, demoCategories, demoProducts, demoReviews } from "../db/demo.ts";
import { words } from "../search/text.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";

let t: TestEnv;
const PRODUCTS = demoProducts();
const CATEGORIES = demoCategories();
const ACTIVE = PRODUCTS.filter((p) => p.status === "ACTIVE");

beforeAll(async () => {
  t = await createTestEnv("catalog_products", { seed: true });
});
afterAll(async () => t?.close());
beforeEach(() => {
  t.mongo.commands.length = 0;
});

/** The category and every category below it, from the demo data alone. */
function subtree(slug: string): Set<string> {
  const root = CATEGORIES.find((c) => c.slug === slug);
  const ids = new Set(root ? [root.id] : []);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of CATEGORIES) {
      if (c.parentId && ids.has(c.parentId) && !ids.has(c.id)) {
        ids.add(c.id);
        grew = true;
      }
    }
  }
  return ids;
}

interface Filter {
  search?: string;
  categorySlug?: string;
  minPrice?: number;
  maxPrice?: number;
  attributes?: { name: string; values: string[] }[];
  brand?: string[];
}

const prefixMatch = (p: DemoProduct, query: string) => {
  const terms = [p.name, p.brand, p.sku, ...p.tags, ...p.attributes.map((a) => a.value)].flatMap(words);
  return words(query).some((w) => terms.some((term) => term.startsWith(w)));
};

/**
 * What the search index matches for a text alone, learned through `products` (`learnSearch`):
 * which words match which products is the engine's to decide and its tests' to check; these
 * tests check that filters, totals, facets and pages agree with that set.
 */
const searchMatches = new Map<string, Set<string>>();

async function learnSearch(text: string): Promise<Set<string>> {
  let ids = searchMatches.get(text);
  if (!ids) {
    ids = new Set(await walk({ filter: { search: text } }, 100));
    searchMatches.set(text, ids);
  }
  return ids;
}

/** Brute force over the demo data: which ACTIVE products match, leaving out one dimension if asked. */
function matching(filter: Filter, skip?: "price" | "brand" | string) {
  const searched = filter.search ? searchMatches.get(filter.search) : undefined;
  if (filter.search && !searched) throw new Error(`learnSearch(${filter.search}) first`);
  return ACTIVE.filter((p) => {
    if (searched && !searched.has(p.id)) return false;
    if (filter.categorySlug && !subtree(filter.categorySlug).has(p.categoryId)) return false;
    if (skip !== "price" && filter.minPrice !== undefined && p.price < filter.minPrice) return false;
    if (skip !== "price" && filter.maxPrice !== undefined && p.price > filter.maxPrice) return false;
    if (skip !== "brand" && filter.brand && !filter.brand.includes(p.brand)) return false;
    for (const a of filter.attributes ?? []) {
      if (a.name === skip) continue;
      if (!p.attributes.some((pa) => pa.name === a.name && a.values.includes(pa.value))) return false;
    }
    return true;
  });
}

const tally = (values: string[]) => {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
};

function expectedFacets(filter: Filter) {
  const all = matching(filter);
  const names = [...new Set(ACTIVE.flatMap((p) => p.attributes.map((a) => a.name)))].sort();
  const attributes = names
    .map((name) => ({
      name,
      values: tally(
        matching(filter, name).flatMap((p) =>
          p.attributes.filter((a) => a.name === name).map((a) => a.value),
        ),
      ),
    }))
    .filter((a) => a.values.length > 0);
  const categoryCounts = new Map<string, number>();
  for (const p of all) {
    for (const c of CATEGORIES)
      if (subtree(c.slug).has(p.categoryId))
        categoryCounts.set(c.slug, (categoryCounts.get(c.slug) ?? 0) + 1);
  }
  const prices = matching(filter, "price").map((p) => p.price);
  return {
    totalCount: all.length,
    facets: {
      attributes,
      brands: tally(matching(filter, "brand").map((p) => p.brand)),
      categories: [...categoryCounts]
        .map(([slug, count]) => ({
          category: { slug, name: CATEGORIES.find((c) => c.slug === slug)?.name ?? "" },
          count,
        }))
        .sort((a, b) => b.count - a.count || a.category.name.localeCompare(b.category.name))
        .map(({ category, count }) => ({ category: { slug: category.slug }, count })),
      priceRange:
        prices.length === 0
          ? null
          : { min: { amount: Math.min(...prices) }, max: { amount: Math.max(...prices) } },
    },
  };
}

const FACETS = `query ($filter: ProductFilter) {
  products(filter: $filter, first: 1) {
    totalCount
    facets {
      attributes { name values { value count } }
      brands { value count }
      categories { category { slug } count }
      priceRange { min { amount } max { amount } }
    }
  }
}`;

describe("facets", () => {
  const matrix: [string, Filter][] = [
    ["everything", {}],
    ["a top-level category (with subcategories)", { categorySlug: "electronics" }],
    ["a leaf category", { categorySlug: "laptops" }],
    [
      "one attribute, two values",
      { categorySlug: "laptops", attributes: [{ name: "ram", values: ["16GB", "32GB"] }] },
    ],
    [
      "two attributes",
      {
        attributes: [
          { name: "colour", values: ["black", "white"] },
          { name: "size", values: ["M", "L", "42"] },
        ],
      },
    ],
    ["a price range", { minPrice: 2000, maxPrice: 5000 }],
    ["brands and price", { brand: ["Patagonia", "Nike"], maxPrice: 10000 }],
    ["a search", { search: "black cotton" }],
    [
      "a search in a category with an attribute",
      { search: "tee", categorySlug: "apparel", attributes: [{ name: "colour", values: ["red"] }] },
    ],
    ["nothing matching", { categorySlug: "books", brand: ["Nike"] }],
  ];

  it.each(matrix)("match a brute-force count over the seed: %s", async (_label, filter) => {
    if (filter.search) {
      expect((await learnSearch(filter.search)).size).toBeGreaterThan(0);
      t.mongo.commands.length = 0;
    }
    const result = await t.run(FACETS, { filter });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ products: expectedFacets(filter) });
    // The page, the tree and one aggregation for the total and every facet; a search's total
    // and facets come from the index instead.
    expect(t.count("aggregate", "products")).toBe(filter.search ? 0 : 1);
    expect(t.count("find", "categories")).toBe(1);
  });

  it("answers an unknown category with an empty list and no product query", async () => {
    const result = await t.run(FACETS, { filter: { categorySlug: "no-such-category" } });
    expect(result.data).toEqual({
      products: { totalCount: 0, facets: { attributes: [], brands: [], categories: [], priceRange: null } },
    });
    expect(t.count("find", "products") + t.count("aggregate", "products")).toBe(0);
  });
});

type Page = {
  totalCount: number;
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
};
const PAGE = `query ($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String) {
  products(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor }
  }
}`;

async function walk(variables: Record<string, unknown>, first: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 200; pages++) {
    const result = await t.run(PAGE, { ...variables, first, after });
    expect(result.errors).toBeUndefined();
    const page = (result.data as { products: Page }).products;
    ids.push(...page.edges.map((e) => rawId(e.node.id)));
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
  }
  throw new Error("did not reach the last page");
}

/** Expected order per sort, computed from the demo data and the seeded ratings. */
function ratingsOf() {
  const ratings = new Map<string, { sum: number; count: number }>();
  for (const r of demoReviews()) {
    if (r.status !== "APPROVED") continue;
    const x = ratings.get(r.productId) ?? { sum: 0, count: 0 };
    x.sum += r.rating;
    x.count++;
    ratings.set(r.productId, x);
  }
  return ratings;
}

describe("pagination", () => {
  const ratings = ratingsOf();
  const avg = (p: DemoProduct) => {
    const r = ratings.get(p.id);
    return r ? r.sum / r.count : 0;
  };
  const byId = (a: DemoProduct, b: DemoProduct) => (a.id < b.id ? -1 : 1);
  const orders: [string, (a: DemoProduct, b: DemoProduct) => number][] = [
    ["NEWEST", (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || -byId(a, b)],
    ["PRICE_ASC", (a, b) => a.price - b.price || byId(a, b)],
    ["PRICE_DESC", (a, b) => b.price - a.price || -byId(a, b)],
    [
      "RATING",
      (a, b) =>
        avg(b) - avg(a) || (ratings.get(b.id)?.count ?? 0) - (ratings.get(a.id)?.count ?? 0) || -byId(a, b),
    ],
  ];

  it.each(orders)("visits every ACTIVE product exactly once in %s order", async (sort, compare) => {
    const ids = await walk({ sort }, 100);
    expect(ids).toEqual([...ACTIVE].sort(compare).map((p) => p.id));
  });

  it.each(orders)("pages a filtered list in %s order with odd page sizes", async (sort, compare) => {
    const filter = { categorySlug: "apparel", maxPrice: 20000 };
    const ids = await walk({ sort, filter }, 7);
    expect(ids).toEqual(
      matching(filter)
        .sort(compare)
        .map((p) => p.id),
    );
  });

  it("pages a RELEVANCE search and visits every match once", async () => {
    // Every word must match, so a broad search: one word.
    const ids = await walk({ filter: { search: "black" } }, 9);
    const first = await t.run(PAGE, { filter: { search: "black" }, first: 1 });
    const total = (first.data as { products: { totalCount: number } }).products.totalCount;
    expect(total).toBeGreaterThan(50);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    // The same matches in price order, paged by MongoDB over the index's ids.
    const byPrice = await walk({ filter: { search: "black" }, sort: "PRICE_ASC" }, 11);
    expect(new Set(byPrice)).toEqual(new Set(ids));
    expect(byPrice).toEqual(
      ACTIVE.filter((p) => ids.includes(p.id))
        .sort((a, b) => a.price - b.price || (a.id < b.id ? -1 : 1))
        .map((p) => p.id),
    );
  });

  it("refuses a cursor from another sort or a tampered one", async () => {
    const first = await t.run(PAGE, { sort: "NEWEST", first: 2 });
    const cursor = (first.data as { products: Page }).products.pageInfo.endCursor;
    for (const variables of [
      { sort: "PRICE_ASC", after: cursor },
      { sort: "NEWEST", after: encodeCursor(["NEWEST", "x", "y"]) },
      { sort: "NEWEST", after: "not a cursor" },
      { sort: "RATING", after: encodeCursor(["RATING", 1, 1, "zz"]) },
      { filter: { search: "tee" }, after: encodeCursor(["RELEVANCE", 1, "nope"]) },
      { filter: { search: "tee" }, after: encodeCursor(["RELEVANCE", 1, 1, 0, "nope"]) },
      // A time no Date can hold, and one past the year 9999.
      { sort: "NEWEST", after: encodeCursor(["NEWEST", 1e300, "0".repeat(24)]) },
      { sort: "NEWEST", after: encodeCursor(["NEWEST", 8.64e15, "0".repeat(24)]) },
      { sort: "PRICE_ASC", after: encodeCursor(["PRICE_ASC", 1.5, "0".repeat(24)]) },
    ]) {
      const result = await t.run(PAGE, { first: 2, ...variables });
      expect(result.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "after" });
    }
  });

  it.each([
    [{ first: 0 }, "first"],
    [{ first: 101 }, "first"],
    [{ filter: { minPrice: -1 } }, "filter.minPrice"],
    [{ filter: { minPrice: 10, maxPrice: 5 } }, "filter.minPrice"],
    [{ filter: { attributes: [{ name: "ram", values: [] }] } }, "filter.attributes"],
  ])("refuses invalid arguments %j", async (variables, field) => {
    const result = await t.run(PAGE, variables);
    expect(result.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field });
  });
});

describe("search", () => {
  const SEARCH = `query ($search: String!, $first: Int) {
    products(filter: { search: $search }, first: $first) { totalCount edges { node { id name } } }
  }`;

  it("puts the exact-name match first", async () => {
    for (const product of [ACTIVE[3], ACTIVE[500], ACTIVE[900]]) {
      const result = await t.run(SEARCH, { search: product?.name, first: 5 });
      const edges = (result.data as { products: { edges: { node: { id: string } }[] } }).products.edges;
      expect(rawId(edges[0]?.node.id)).toBe(product?.id);
    }
  });

  it("ranks products that match more words higher", async () => {
    const result = await t.run(SEARCH, { search: "patagonia fleece", first: 100 });
    const names = (result.data as { products: { edges: { node: { name: string } }[] } }).products.edges.map(
      (e) => e.node.name,
    );
    const both = names.filter((n) => n.includes("Patagonia") && n.includes("Fleece"));
    expect(both.length).toBeGreaterThan(0);
    expect(names.slice(0, both.length)).toEqual(both);
  });

  it("ignores case and accents and matches word prefixes", async () => {
    // Every product with a word starting "cafe" matches each spelling; "cafe" (four letters)
    // also forgives a typo, "caf" (three) does not, so their totals differ.
    const prefixed = ACTIVE.filter((p) => prefixMatch(p, "cafe")).map((p) => p.id);
    expect(prefixed.length).toBeGreaterThan(0);
    const totals = new Set<number>();
    for (const search of ["CAFE", "café", "cAFÉ"]) {
      const ids = await walk({ filter: { search } }, 100);
      expect(ids).toEqual(expect.arrayContaining(prefixed));
      totals.add(ids.length);
    }
    expect(totals.size).toBe(1);
    expect(await walk({ filter: { search: "Caf" } }, 100)).toEqual(expect.arrayContaining(prefixed));
    const muller = await t.run(SEARCH, { search: "muller", first: 1 });
    expect((muller.data as { products: { totalCount: number } }).products.totalCount).toBe(
      ACTIVE.filter((p) => p.brand === "Müller Audio").length,
    );
  });

  it("suggests products for type-ahead, names starting with the prefix first", async () => {
    const result = await t.run(`{ productSuggestions(prefix: "Crème Cuis", first: 5) { name status } }`);
    const names = (result.data as { productSuggestions: { name: string; status: string }[] })
      .productSuggestions;
    expect(names).toHaveLength(5);
    for (const s of names) {
      expect(s.name.startsWith("Crème Cuisine")).toBe(true);
      expect(s.status).toBe("ACTIVE");
    }
    const none = await t.run(`{ productSuggestions(prefix: "zzzqqq") { name } }`);
    expect(none.data).toEqual({ productSuggestions: [] });
    const bad = await t.run(`{ productSuggestions(prefix: "  !! ") { name } }`);
    expect(bad.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "prefix" });
  });
});

describe("injection", () => {
  it.each([
    '{"$gt": ""}',
    "$where",
    "this.price > 0",
    "price.amount",
    "$ne",
    ".*",
    "^(a+)+$",
    "attributeKeys.0",
  ])("treats %s as data in every filter field", async (hostile) => {
    const filter = {
      search: hostile,
      brand: [hostile],
      categorySlug: hostile,
      attributes: [{ name: hostile, values: [hostile] }],
    };
    const result = await t.run(FACETS, { filter });
    expect(result.errors).toBeUndefined();
    expect((result.data as { products: { totalCount: number } }).products.totalCount).toBe(0);
    // Each field alone: still data, never an operator or a field path.
    for (const single of [
      { brand: [hostile] },
      { attributes: [{ name: hostile, values: [hostile] }] },
      { attributes: [{ name: "ram", values: [hostile] }] },
    ]) {
      const one = await t.run(FACETS, { filter: single });
      expect((one.data as { products: { totalCount: number } }).products.totalCount).toBe(0);
    }
    const bySlug = await t.run(`query ($s: String) { product(slug: $s) { id } }`, { s: hostile });
    expect(bySlug.data).toEqual({ product: null });
  });

  it("rejects an object where a string belongs before any resolver runs", async () => {
    const result = await t.run(FACETS, { filter: { brand: [{ $gt: "" }] } });
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(t.mongo.commands).toEqual([]);
  });
});

describe("_entities", () => {
  const ENTITIES = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id name status price { amount } category { slug } } } }`;

  it("resolves 50 references with one find, then from the cache with none", async () => {
    const picks = PRODUCTS.filter((_, i) => i % 21 === 0).slice(0, 48);
    const reps = [...picks.map((p) => p.id), new ObjectId().toHexString(), "not-an-id"].map((id) => ({
      __typename: "Product",
      id,
    }));
    expect(reps).toHaveLength(50);
    expect(new Set(picks.map((p) => p.status))).toEqual(new Set(["ACTIVE", "DRAFT", "ARCHIVED"]));
    // Anonymous, like orders' pricing calls: products that are not ACTIVE are null.
    const expected = [
      ...picks.map((p) =>
        p.status === "ACTIVE"
          ? {
              id: globalId("Product", p.id),
              name: p.name,
              status: p.status,
              price: { amount: p.price },
              category: { slug: CATEGORIES.find((c) => c.id === p.categoryId)?.slug },
            }
          : null,
      ),
      null,
      null,
    ];
    // Searches earlier in this file read their pages through the cache: start it cold.
    await t.cache.invalidate(picks.map((p) => p.id));
    const before = t.cache.stats();
    const cold = await t.run(ENTITIES, { reps });
    expect(cold.errors).toBeUndefined();
    expect(cold.data).toEqual({ _entities: expected });
    expect(t.count("find", "products")).toBe(1);
    expect(t.count("find", "categories")).toBe(1);

    t.mongo.commands.length = 0;
    const warm = await t.run(ENTITIES, { reps });
    expect(warm.data).toEqual({ _entities: expected });
    // The unknown id is looked up again (nothing to cache); the 48 known ones come from Redis.
    expect(t.count("find", "products")).toBe(1);
    const after = t.cache.stats();
    expect(after.hits - before.hits).toBe(48);
    expect(after.misses - before.misses).toBe(49 + 1);
  });

  it("hides DRAFT and ARCHIVED products from anonymous callers and customers, not from catalog editors", async () => {
    const draft = PRODUCTS.find((p) => p.status === "DRAFT");
    const archived = PRODUCTS.find((p) => p.status === "ARCHIVED");
    const active = ACTIVE[0];
    const reps = [draft, archived, active].map((p) => ({ __typename: "Product", id: p?.id }));
    const ask = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id status price { amount } } } }`;
    const shown = (p: DemoProduct | undefined) => ({
      id: globalId("Product", p?.id ?? ""),
      status: p?.status,
      price: { amount: p?.price },
    });

    for (const who of [undefined, await t.auth.bearer("c-1")]) {
      const result = await t.run(ask, { reps }, who);
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ _entities: [null, null, shown(active)] });
    }
    const admin = await t.run(ask, { reps }, await t.auth.bearer("admin-1", "ADMIN"));
    expect(admin.errors).toBeUndefined();
    expect(admin.data).toEqual({ _entities: [shown(draft), shown(archived), shown(active)] });
  });

  it("serves product(id) and product(slug), hiding drafts and archived products from shoppers", async () => {
    const draft = PRODUCTS.find((p) => p.status === "DRAFT");
    const archived = PRODUCTS.find((p) => p.status === "ARCHIVED");
    const q = `query ($id: ID, $slug: String) { product(id: $id, slug: $slug) { id status } }`;
    const customer = await t.auth.bearer("c-1");
    for (const who of [undefined, customer]) {
      expect((await t.run(q, { id: draft?.id }, who)).data).toEqual({ product: null });
      expect((await t.run(q, { slug: draft?.slug }, who)).data).toEqual({ product: null });
      expect((await t.run(q, { id: archived?.id }, who)).data).toEqual({ product: null });
      expect((await t.run(q, { slug: archived?.slug }, who)).data).toEqual({ product: null });
    }
    const admin = await t.auth.bearer("admin-1", "ADMIN");
    expect((await t.run(q, { id: draft?.id }, admin)).data).toEqual({
      product: { id: globalId("Product", draft?.id ?? ""), status: "DRAFT" },
    });
    expect((await t.run(q, { slug: archived?.slug }, admin)).data).toEqual({
      product: { id: globalId("Product", archived?.id ?? ""), status: "ARCHIVED" },
    });
    const both = await t.run(q, { id: draft?.id, slug: draft?.slug });
    expect(both.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("lists non-ACTIVE products only for catalog editors", async () => {
    const q = `{ products(filter: { status: DRAFT }, first: 100) { totalCount } }`;
    const anonymous = await t.run(q);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const customer = await t.run(q, {}, await t.auth.bearer("c-1"));
    expect(customer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const admin = await t.run(q, {}, await t.auth.bearer("admin-1", "ADMIN"));
    expect(admin.data).toEqual({
      products: { totalCount: PRODUCTS.filter((p) => p.status === "DRAFT").length },
    });
  });
});

describe("categories", () => {
  it("lists the tree parents first with breadcrumbs and inherited attributes", async () => {
    const result = await t.run(
      `{ categories { slug path parent { slug } children { slug } ancestors { slug } } }`,
    );
    const list = (result.data as { categories: { slug: string; path: string }[] }).categories;
    expect(list.map((c) => c.slug)).toEqual([
      "apparel",
      "jackets",
      "shoes",
      "t-shirts",
      "books",
      "electronics",
      "headphones",
      "laptops",
      "phones",
      "home-kitchen",
      "coffee",
      "cookware",
    ]);
    expect(list.find((c) => c.slug === "laptops")).toEqual({
      slug: "laptops",
      path: "electronics/laptops",
      parent: { slug: "electronics" },
      children: [],
      ancestors: [{ slug: "electronics" }, { slug: "laptops" }],
    });
    const one = await t.run(
      `{ category(slug: "shoes") { name attributes { name type unit allowedValues } } }`,
    );
    expect(one.data).toEqual({
      category: {
        name: "Shoes",
        attributes: CATEGORIES.find((c) => c.slug === "shoes")?.attributes.map(({ label: _l, ...a }) => a),
      },
    });
    expect((await t.run(`{ category(slug: "nope") { id } }`)).data).toEqual({ category: null });
  });
});
