import { randomUUID } from "node:crypto";
import { createLogger, encodeCursor } from "@nexus/core";
import type { EventEnvelope } from "@nexus/events";
import { rawId } from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCategories, demoProducts } from "../db/demo.ts";
import { applyCatalogEvent } from "../events/catalog.consumer.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";

const ACTIVE = demoProducts().filter((p) => p.status === "ACTIVE");
const categoryId = (slug: string) => demoCategories().find((c) => c.slug === slug)?.id ?? "";
const activeIn = (slug: string) => ACTIVE.filter((p) => p.categoryId === categoryId(slug));
const LAPTOPS = activeIn("laptops");

const SEARCH = `query ($filter: ProductFilter, $first: Int, $after: String, $sort: ProductSort) {
  products(filter: $filter, first: $first, after: $after, sort: $sort) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name brand price { amount } category { slug } } }
  }
}`;

interface Node {
  id: string;
  name: string;
  brand: string;
  price: { amount: number };
  category: { slug: string };
}
interface Page {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: Node }[];
}

async function search(env: TestEnv, variables: Record<string, unknown>): Promise<Page> {
  const result = await env.run(SEARCH, variables);
  expect(result.errors).toBeUndefined();
  const page = (result.data as { products: Page }).products;
  // In the seed's terms: the raw ids inside the global ids clients see.
  return {
    ...page,
    edges: page.edges.map((edge) => ({ ...edge, node: { ...edge.node, id: rawId(edge.node.id) } })),
  };
}

/** Every page of a search, in order. */
async function walk(env: TestEnv, variables: Record<string, unknown>, first: number): Promise<Node[]> {
  const nodes: Node[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await search(env, { ...variables, first, after });
    nodes.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return nodes;
    after = page.pageInfo.endCursor;
  }
}

/** Polls `check` until it holds or `ms` pass; answers how long it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - started;
}

const logger = createLogger("search-test", "silent");

function stockEvent(
  type: "ProductBackInStock" | "ProductOutOfStock",
  productId: string,
  occurredAt: Date,
): EventEnvelope {
  return {
    id: randomUUID(),
    type,
    aggregateId: productId,
    occurredAt: occurredAt.toISOString(),
    payload: type === "ProductBackInStock" ? { productId, available: 3 } : { productId },
  } as EventEnvelope;
}

describe("search through the index", () => {
  let t: TestEnv;
  beforeAll(async () => {
    t = await createTestEnv("catalog_search_index", { seed: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("is built from every ACTIVE product before the env serves", () => {
    expect(t.search.engine()?.size()).toBe(ACTIVE.length);
  });

  it.each([
    ["laptop", "laptops"],
    ["laptops", "laptops"],
    ["jacket", "jackets"],
    ["headphones", "headphones"],
  ])("finds %s: the products of %s", async (text, slug) => {
    const nodes = await walk(t, { filter: { search: text } }, 100);
    expect(nodes.length).toBe(activeIn(slug).length);
    expect(new Set(nodes.map((n) => n.category.slug))).toEqual(new Set([slug]));
  });

  it("forgives a typo: lenvo finds Lenovo", async () => {
    const page = await search(t, { filter: { search: "lenvo" }, first: 20 });
    expect(page.totalCount).toBe(ACTIVE.filter((p) => p.brand === "Lenovo").length);
    expect(page.edges.every((e) => e.node.brand === "Lenovo")).toBe(true);
  });

  it("pages RELEVANCE by the engine's cursor, each match once, and other sorts agree on the set", async () => {
    const ranked = await walk(t, { filter: { search: "laptop" } }, 7);
    expect(new Set(ranked.map((n) => n.id)).size).toBe(ranked.length);
    const byPrice = await walk(t, { filter: { search: "laptop" }, sort: "PRICE_ASC" }, 9);
    expect(byPrice.map((n) => n.price.amount)).toEqual(
      [...byPrice.map((n) => n.price.amount)].sort((a, b) => a - b),
    );
    expect(new Set(byPrice.map((n) => n.id))).toEqual(new Set(ranked.map((n) => n.id)));
    const page = await search(t, {
      filter: { search: "laptop", maxPrice: 100_000 },
      sort: "NEWEST",
      first: 3,
    });
    expect(page.totalCount).toBe(LAPTOPS.filter((p) => p.price <= 100_000).length);
  });

  it("refuses a cursor of another sort or shape with BAD_USER_INPUT", async () => {
    const sorted = await search(t, { filter: { search: "laptop" }, sort: "NEWEST", first: 2 });
    for (const after of [
      sorted.pageInfo.endCursor,
      encodeCursor(["RELEVANCE", 1, "0".repeat(24)]),
      encodeCursor(["RELEVANCE", 1, 2, 0, "0".repeat(24)]),
      encodeCursor(["RELEVANCE", 1, 1, -1, "0".repeat(24)]),
      encodeCursor(["RELEVANCE", 1, 1, 0, "nope"]),
    ]) {
      const result = await t.run(SEARCH, { filter: { search: "laptop" }, first: 2, after });
      expect(result.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "after" });
    }
  });

  it("answers facets and totals from the engine, without a MongoDB aggregation", async () => {
    t.mongo.commands.length = 0;
    const result = await t.run(
      `{ products(filter: { search: "laptop", brand: ["Lenovo"] }, first: 1) {
        totalCount facets { brands { value count } categories { category { slug } count } priceRange { min { amount } max { amount } } }
      } }`,
    );
    expect(result.errors).toBeUndefined();
    const lenovo = LAPTOPS.filter((p) => p.brand === "Lenovo");
    const prices = lenovo.map((p) => p.price);
    expect(result.data).toMatchObject({
      products: {
        totalCount: lenovo.length,
        facets: {
          // Each facet ignores its own filter: every laptop brand is offered.
          brands: expect.arrayContaining([{ value: "Lenovo", count: lenovo.length }]),
          categories: expect.arrayContaining([
            { category: { slug: "laptops" }, count: lenovo.length },
            { category: { slug: "electronics" }, count: lenovo.length },
          ]),
          priceRange: { min: { amount: Math.min(...prices) }, max: { amount: Math.max(...prices) } },
        },
      },
    });
    expect(t.count("aggregate", "products")).toBe(0);
  });

  it("suggests the Laptops category, laptop products and brands for lapt", async () => {
    const result = await t.run(
      `{ searchSuggestions(prefix: "lapt", first: 5) { products { id category { slug } } categories { slug name } brands } }`,
    );
    expect(result.errors).toBeUndefined();
    const suggestions = (
      result.data as {
        searchSuggestions: {
          products: { category: { slug: string } }[];
          categories: { slug: string }[];
          brands: string[];
        };
      }
    ).searchSuggestions;
    expect(suggestions.categories.map((c) => c.slug)).toContain("laptops");
    expect(suggestions.products.length).toBeGreaterThan(0);
    expect(suggestions.products.every((p) => p.category.slug === "laptops")).toBe(true);
    const bad = await t.run(`{ searchSuggestions(prefix: " !! ") { brands } }`);
    expect(bad.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "prefix" });
    const tooMany = await t.run(`{ searchSuggestions(prefix: "lapt", first: 21) { brands } }`);
    expect(tooMany.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "first" });
    const brands = await t.run(`{ searchSuggestions(prefix: "leno") { brands } }`);
    expect(brands.data).toEqual({ searchSuggestions: { brands: expect.arrayContaining(["Lenovo"]) } });
  });

  it("follows stock events: inStock filters and ranking, newest event wins, with and without a search", async () => {
    const before = await search(t, { filter: { search: "laptop" }, first: 100 });
    const top = before.edges[0]?.node.id ?? "";
    const now = Date.now();
    await applyCatalogEvent(t.db, stockEvent("ProductOutOfStock", top, new Date(now)), logger, {
      cache: t.cache,
      search: t.search,
      autoApproveVerified: false,
    });
    // An older event arriving late does not undo it.
    await applyCatalogEvent(t.db, stockEvent("ProductBackInStock", top, new Date(now - 60_000)), logger, {
      cache: t.cache,
      search: t.search,
      autoApproveVerified: false,
    });
    const stored = await t.db.products.findOne({ sku: LAPTOPS.find((p) => p.id === top)?.sku ?? "" });
    expect(stored).toMatchObject({ inStock: false, inStockAt: new Date(now) });
    expect(stored?.updatedAt.getTime()).toBeGreaterThanOrEqual(now - 1000);

    const out = await search(t, { filter: { search: "laptop", inStock: false }, first: 10 });
    expect(out.edges.map((e) => e.node.id)).toEqual([top]);
    const inStock = await search(t, { filter: { search: "laptop", inStock: true }, first: 100 });
    expect(inStock.totalCount).toBe(before.totalCount - 1);
    expect(inStock.edges.map((e) => e.node.id)).not.toContain(top);
    const after = await search(t, { filter: { search: "laptop" }, first: 100 });
    expect(after.edges[0]?.node.id).not.toBe(top);
    // Without a search, MongoDB filters on the same flag.
    const listed = await search(t, { filter: { categorySlug: "laptops", inStock: false }, first: 10 });
    expect(listed.edges.map((e) => e.node.id)).toEqual([top]);
    const listedIn = await search(t, { filter: { categorySlug: "laptops", inStock: true }, first: 1 });
    expect(listedIn.totalCount).toBe(LAPTOPS.length - 1);

    await applyCatalogEvent(t.db, stockEvent("ProductBackInStock", top, new Date(now + 1)), logger, {
      cache: t.cache,
      search: t.search,
      autoApproveVerified: false,
    });
    const back = await search(t, { filter: { search: "laptop", inStock: false }, first: 10 });
    expect(back.totalCount).toBe(0);
  });

  it("reindexCatalog needs catalog:write, rebuilds beside the served index and swaps", async () => {
    const mutation = `mutation { reindexCatalog { indexed tookMs } }`;
    const anonymous = await t.run(mutation);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const customer = await t.run(mutation, {}, await t.auth.bearer("c-1"));
    expect(customer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const served = t.search.engine();
    const result = await t.run(mutation, {}, await t.auth.bearer("admin-1", "ADMIN"));
    expect(result.errors).toBeUndefined();
    const payload = (result.data as { reindexCatalog: { indexed: number; tookMs: number } }).reindexCatalog;
    expect(payload.indexed).toBe(ACTIVE.length);
    expect(payload.tookMs).toBeGreaterThanOrEqual(0);
    console.log(`reindexCatalog: ${payload.indexed} products from MongoDB in ${payload.tookMs} ms`);
    expect(t.search.engine()).not.toBe(served);
    expect((await search(t, { filter: { search: "laptops" }, first: 1 })).totalCount).toBe(LAPTOPS.length);
  });
});

describe("two catalog replicas on one database", () => {
  let a: TestEnv;
  let b: TestEnv;
  let admin: string;
  beforeAll(async () => {
    a = await createTestEnv("catalog_search_a", { seed: true });
    b = await createTestEnv("catalog_search_b", { seed: false, replicaOf: a, search: { catchUpMs: 200 } });
    admin = await a.auth.bearer("admin-1", "ADMIN");
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const UPDATE = `mutation ($input: UpdateProductInput!) { updateProduct(input: $input) { userErrors { code } } }`;

  it("makes an admin's price change searchable in the other replica within a second, and an archive disappear", async () => {
    const laptop = LAPTOPS[0];
    if (!laptop) throw new Error("no laptop in the demo data");
    const price = 4_242_42;
    const priced = (env: TestEnv) => async () => {
      const page = await search(env, {
        filter: { search: "laptop", minPrice: price, maxPrice: price },
        first: 5,
      });
      return page.edges.some((e) => e.node.id === laptop.id) && page.totalCount === 1;
    };
    expect(await priced(b)()).toBe(false);
    const started = performance.now();
    const result = await a.run(
      UPDATE,
      { input: { id: laptop.id, price: { amount: price, currencyCode: "USD" } } },
      admin,
    );
    expect(result.data).toEqual({ updateProduct: { userErrors: [] } });
    // The writer reads its own write at once.
    expect(await priced(a)()).toBe(true);
    const written = performance.now() - started;
    await within(1000, priced(b));
    const took = performance.now() - started;
    expect(took).toBeLessThan(1000);
    console.log(
      `price change: mutation answered in ${Math.round(written)} ms, searchable in the other replica ${Math.round(took)} ms after it was sent`,
    );
    const facets = await b.run(
      `{ products(filter: { search: "laptop", brand: ["${laptop.brand}"] }, first: 1) { facets { priceRange { max { amount } } } } }`,
    );
    expect(facets.data).toMatchObject({ products: { facets: { priceRange: { max: { amount: price } } } } });

    await a.run(
      `mutation ($id: ID!) { archiveProduct(input: { id: $id }) { userErrors { code } } }`,
      { id: laptop.id },
      admin,
    );
    // The total is the index's own answer (nodes are read from MongoDB, which hides the product at once).
    await within(1000, async () => {
      const page = await search(b, {
        filter: { search: "laptop", minPrice: price, maxPrice: price },
        first: 5,
      });
      return page.totalCount === 0;
    });
    expect(b.search.engine()?.size()).toBe(ACTIVE.length - 1);
  });

  it("heals a change no message announced with the catch-up pass", async () => {
    const laptop = LAPTOPS[1];
    if (!laptop) throw new Error("no laptop in the demo data");
    const price = 1_234_56;
    // Written behind the services' back: no message, only `updatedAt`.
    await a.db.products.updateOne(
      { sku: laptop.sku },
      { $set: { "price.amount": price, updatedAt: new Date() } },
    );
    const took = await within(2000, async () => {
      const page = await search(b, {
        filter: { search: "laptop", minPrice: price, maxPrice: price },
        first: 5,
      });
      return page.edges.some((e) => e.node.id === laptop.id);
    });
    console.log(`unannounced change found by catch-up after ${Math.round(took)} ms`);
  });

  it("rebuilds every replica on reindexCatalog", async () => {
    const servedB = b.search.engine();
    const result = await a.run(`mutation { reindexCatalog { indexed } }`, {}, admin);
    expect(result.errors).toBeUndefined();
    await within(2000, async () => b.search.engine() !== servedB);
    expect(b.search.engine()?.size()).toBe(a.search.engine()?.size());
  });
});

describe("before the first build", () => {
  let t: TestEnv;
  let release: () => void = () => undefined;
  beforeAll(async () => {
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    t = await createTestEnv("catalog_search_cold", { seed: true, search: { holdFirstBuild: hold } });
  });
  afterAll(async () => {
    release();
    await t?.close();
  });

  it("answers searches and suggestions from MongoDB, then from the index once it is in", async () => {
    expect(t.search.engine()).toBeNull();
    const lenovo = ACTIVE.filter((p) => p.brand === "Lenovo").length;
    // MongoDB matches name, brand, sku, tag and attribute words by prefix: no category names, no typos.
    expect((await search(t, { filter: { search: "lenovo" }, first: 1 })).totalCount).toBe(lenovo);
    expect((await search(t, { filter: { search: "laptop" }, first: 1 })).totalCount).toBe(0);
    const suggested = await t.run(
      `{ searchSuggestions(prefix: "leno") { products { brand } categories { slug } brands } }`,
    );
    expect(suggested.errors).toBeUndefined();
    expect(suggested.data).toMatchObject({ searchSuggestions: { brands: ["Lenovo"] } });
    const laptopsCategory = await t.run(`{ searchSuggestions(prefix: "lapt") { categories { slug } } }`);
    expect(laptopsCategory.data).toEqual({ searchSuggestions: { categories: [{ slug: "laptops" }] } });

    release();
    await t.search.ready();
    expect(t.search.engine()?.size()).toBe(ACTIVE.length);
    expect((await search(t, { filter: { search: "laptop" }, first: 1 })).totalCount).toBe(LAPTOPS.length);
  });
});
