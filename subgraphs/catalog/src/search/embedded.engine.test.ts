import { describe, expect, it } from "vitest";
import { demoCategories, demoProducts } from "../db/demo.ts";
import { indexTerms } from "./analyzer.ts";
import { demoSearchDocuments } from "./demo-documents.ts";
import { createEmbeddedSearchEngine } from "./embedded.engine.ts";
import type { SearchDocument, SearchEngine, SearchFilters, SearchHit } from "./search-engine.ts";

const categories = demoCategories();
const categoryId = (name: string): string => categories.find((c) => c.name === name)?.id ?? "";
const documents = demoSearchDocuments(demoProducts(), categories, (_product, i) => ({
  inStock: i % 5 !== 0,
  popularity: (i * 7) % 13,
  rating: (i % 6) * 0.8,
}));
const byId = new Map(documents.map((d) => [d.id, d]));

function engineWith(docs: readonly SearchDocument[] = documents): SearchEngine {
  const engine = createEmbeddedSearchEngine();
  engine.upsert(docs);
  return engine;
}

const top = (engine: SearchEngine, text: string, limit = 20, filters: SearchFilters = {}) =>
  engine
    .search({ text, filters, limit, facets: false })
    .hits.map((hit) => byId.get(hit.id) as SearchDocument);

describe("the embedded search engine, as a shopper uses it", () => {
  const engine = engineWith();

  it.each([
    ["laptop", "Laptops"],
    ["laptops", "Laptops"],
    ["jacket", "Jackets"],
    ["jackets", "Jackets"],
    ["headphones", "Headphones"],
    ["headphone", "Headphones"],
    ["t-shirt", "T-shirts"],
    ["tshirts", "T-shirts"],
  ])("%s finds the %s first", (text, category) => {
    const hits = top(engine, text);
    expect(hits).toHaveLength(20);
    for (const doc of hits) expect(doc.categoryNames[0]).toBe(category);
  });

  it("forgives a typo: lenvo finds Lenovo laptops", () => {
    const hits = top(engine, "lenvo");
    expect(hits.length).toBeGreaterThan(0);
    for (const doc of hits) expect(doc.brand).toBe("Lenovo");
  });

  it("counts a swap of neighbouring letters as one typo: lneovo and lenvoo find Lenovo", () => {
    for (const text of ["lneovo", "lenvoo", "sony haedphones"]) {
      const hits = top(engine, text);
      expect(hits.length, text).toBeGreaterThan(0);
      for (const doc of hits) expect(doc.brand, text).toBe(text === "sony haedphones" ? "Sony" : "Lenovo");
    }
  });

  it("matches a one-letter last word against every word it starts, like a brute-force check", () => {
    for (const [text, first, letter] of [
      ["hp s", "hp", "s"],
      ["black l", "black", "l"],
      ["t", null, "t"],
    ] as const) {
      const wanted = documents.filter((d) => {
        const terms = indexTerms(
          [d.name, d.sku, d.brand, ...d.categoryNames, ...d.tags, d.description]
            .concat(d.attributes.flatMap((a) => [a.label, a.value]))
            .join(" "),
        );
        return (first === null || terms.includes(first)) && terms.some((t) => t.startsWith(letter));
      });
      expect(engine.search({ text, filters: {}, limit: 1, facets: false }).total, text).toBe(wanted.length);
    }
  });

  it("suggests products as search ranks them, without a search, completing words but not SKUs", () => {
    for (const prefix of ["lapt", "jack", "sony", "bl", "gr", "w", "lenvo", "hedphones"]) {
      const searched = engine.search({ text: prefix, filters: {}, limit: 5, facets: false }).hits;
      expect(
        engine.suggest(prefix, 5).products.map((p) => p.id),
        prefix,
      ).toEqual(searched.map((h) => h.id));
    }
  });

  it("suggests a product for its whole SKU", () => {
    const doc = documents[42] as SearchDocument;
    expect(engine.suggest(doc.sku, 5).products.map((p) => p.id)).toEqual([doc.id]);
    expect(engine.suggest(doc.sku.replace("-", ""), 5).products.map((p) => p.id)).toEqual([doc.id]);
  });

  it("suggests the Laptops category and laptops for lapt", () => {
    const suggestions = engine.suggest("lapt", 5);
    expect(suggestions.categories.map((c) => c.name)).toContain("Laptops");
    expect(suggestions.products).toHaveLength(5);
    for (const p of suggestions.products) expect(byId.get(p.id)?.categoryNames[0]).toBe("Laptops");
    expect(engine.suggest("lenvo", 5).brands).toEqual(["Lenovo"]);
  });

  it("narrows with every word (brand + noun)", () => {
    const laptops = engine.search({ text: "laptop", filters: {}, limit: 1, facets: false }).total;
    const dell = engine.search({ text: "dell laptop", filters: {}, limit: 200, facets: false });
    expect(dell.total).toBeGreaterThan(0);
    expect(dell.total).toBeLessThan(laptops);
    for (const hit of dell.hits) expect(byId.get(hit.id)?.brand).toBe("Dell");
  });

  it("ranks a judged set of queries", () => {
    const exact = documents[10] as SearchDocument;
    const judged: [string, (doc: SearchDocument) => boolean][] = [
      [exact.name, (d) => d.id === exact.id],
      [exact.sku, (d) => d.id === exact.id],
      ["creme", (d) => d.brand === "Crème Cuisine"],
      ["fjallraven", (d) => d.brand === "Fjällräven"],
      ["levis", (d) => d.brand === "Levi's"],
      ["coffee", (d) => d.categoryNames[0] === "Coffee"],
      ["cookware", (d) => d.categoryNames[0] === "Cookware"],
      ["books", (d) => d.categoryNames[0] === "Books"],
      ["boots", (d) => d.name.includes("Boot")],
      ["apple phone", (d) => d.brand === "Apple" && d.categoryNames[0] === "Phones"],
      ["sony headphones", (d) => d.brand === "Sony" && d.categoryNames[0] === "Headphones"],
      ["patagonia jacket", (d) => d.brand === "Patagonia" && d.categoryNames[0] === "Jackets"],
      ["electronics", (d) => d.categoryNames.includes("Electronics")],
      ["espresso", (d) => d.name.includes("Espresso")],
    ];
    for (const [text, wanted] of judged) {
      const hits = top(engine, text, 5);
      expect(hits.length, text).toBeGreaterThan(0);
      for (const doc of hits) expect(wanted(doc), `${text} → ${doc.name}`).toBe(true);
    }
  });

  it("breaks ties by stock, then popularity, then id", () => {
    const hits = engine.search({ text: "laptop", filters: {}, limit: 200, facets: false }).hits;
    for (let i = 1; i < hits.length; i++) {
      const [a, b] = [hits[i - 1] as SearchHit, hits[i] as SearchHit];
      expect(a.score).toBeGreaterThanOrEqual(b.score);
      if (a.score === b.score && a.inStock === b.inStock && a.popularity === b.popularity)
        expect(a.id < b.id).toBe(true);
      if (a.score === b.score && a.inStock === b.inStock)
        expect(a.popularity).toBeGreaterThanOrEqual(b.popularity);
      if (a.score === b.score) expect(Number(a.inStock)).toBeGreaterThanOrEqual(Number(b.inStock));
    }
  });

  it("matches everything for an empty or all-punctuation query", () => {
    expect(engine.search({ text: "", filters: {}, limit: 1, facets: false }).total).toBe(documents.length);
    expect(engine.search({ text: " ?!- ", filters: {}, limit: 1, facets: false }).total).toBe(
      documents.length,
    );
  });
});

describe("filters and facets", () => {
  const engine = engineWith();
  const cases: [string, SearchFilters][] = [
    ["laptop", { attributes: [{ name: "ram", values: ["16GB", "32GB"] }], brands: ["Dell", "HP", "Apple"] }],
    ["laptop", { minPrice: 100000, maxPrice: 250000, inStock: true }],
    ["", { categoryIds: [categoryId("Apparel")], attributes: [{ name: "colour", values: ["black"] }] }],
    ["organic", {}],
  ];

  it.each(cases)("counts %s %j like a brute-force count", (text, filters) => {
    const result = engine.search({ text, filters, limit: 500, facets: true });
    const matched = new Set(
      engine.search({ text, filters: {}, limit: 10_000, facets: false }).hits.map((h) => h.id),
    );
    const pool = documents.filter((d) => matched.has(d.id));
    const common = (d: SearchDocument) =>
      (filters.inStock === undefined || d.inStock === filters.inStock) &&
      (!filters.categoryIds || filters.categoryIds.some((id) => d.categoryIds.includes(id)));
    const price = (d: SearchDocument) =>
      (filters.minPrice === undefined || d.price >= filters.minPrice) &&
      (filters.maxPrice === undefined || d.price <= filters.maxPrice);
    const brand = (d: SearchDocument) => !filters.brands || filters.brands.includes(d.brand);
    const attribute = (name: string) => (d: SearchDocument) => {
      const f = filters.attributes?.find((a) => a.name === name);
      return !f || d.attributes.some((a) => a.name === name && f.values.includes(a.value));
    };
    const attributesBut = (name: string | null) => (d: SearchDocument) =>
      (filters.attributes ?? []).every((f) => f.name === name || attribute(f.name)(d));
    const all = pool.filter((d) => common(d) && price(d) && brand(d) && attributesBut(null)(d));
    expect(result.total).toBe(all.length);
    expect(new Set(result.hits.map((h) => h.id))).toEqual(new Set(all.map((d) => d.id).slice(0, 500)));
    const facets = result.facets;
    if (!facets) throw new Error("no facets");
    const count = <T>(items: T[]) => {
      const m = new Map<T, number>();
      for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
      return m;
    };
    expect(new Map(facets.categories.map((c) => [c.id, c.count]))).toEqual(
      count(all.map((d) => d.categoryIds[0])),
    );
    const brandPool = pool.filter((d) => common(d) && price(d) && attributesBut(null)(d));
    expect(new Map(facets.brands.map((b) => [b.value, b.count]))).toEqual(
      count(brandPool.map((d) => d.brand)),
    );
    const keys = new Map<string, number>();
    for (const d of pool.filter((x) => common(x) && price(x) && brand(x)))
      for (const a of d.attributes) {
        const filtered = filters.attributes?.some((f) => f.name === a.name);
        if (filtered ? attributesBut(a.name)(d) : attributesBut(null)(d)) bump(keys, `${a.name}=${a.value}`);
      }
    expect(new Map(facets.attributeKeys.map((k) => [k.key, k.count]))).toEqual(keys);
    const pricePool = pool.filter((d) => common(d) && brand(d) && attributesBut(null)(d)).map((d) => d.price);
    expect(facets.minPrice?.amount).toBe(pricePool.length ? Math.min(...pricePool) : undefined);
    expect(facets.maxPrice?.amount).toBe(pricePool.length ? Math.max(...pricePool) : undefined);
  });
});

function bump(m: Map<string, number>, key: string) {
  m.set(key, (m.get(key) ?? 0) + 1);
}

describe("pages and changes", () => {
  const pageThrough = (engine: SearchEngine, text: string, between?: (page: number) => void) => {
    const seen: string[] = [];
    let after: SearchHit | undefined;
    for (let page = 0; page < 1000; page++) {
      const result = engine.search({ text, filters: {}, limit: 7, after, facets: false });
      seen.push(...result.hits.map((h) => h.id));
      after = result.hits[result.hits.length - 1];
      if (!result.hasNextPage) break;
      between?.(page);
    }
    return seen;
  };

  it("pages backward from the end through the same ranking, with both flags exact", () => {
    const engine = engineWith();
    for (const text of ["laptop", "black", ""]) {
      const forward = pageThrough(engine, text);
      const backward: string[] = [];
      let before: SearchHit | undefined;
      for (let page = 0; page < 1000; page++) {
        const result = engine.search({ text, filters: {}, limit: 7, before, backward: true, facets: false });
        // Best first within the page, like every page.
        expect(result.hits.map((h) => h.id)).toEqual(
          forward.slice(
            forward.length - backward.length - result.hits.length,
            forward.length - backward.length,
          ),
        );
        expect(result.hasNextPage).toBe(before !== undefined);
        backward.unshift(...result.hits.map((h) => h.id));
        before = result.hits[0];
        expect(result.hasPreviousPage).toBe(backward.length < forward.length);
        if (!result.hasPreviousPage) break;
      }
      expect(backward).toEqual(forward);
    }
    const all = engine.search({ text: "laptop", filters: {}, limit: 1000, facets: false }).hits;
    const middle = all[Math.floor(all.length / 2)];
    const after = engine.search({ text: "laptop", filters: {}, limit: 3, after: middle, facets: false });
    expect(after.hasPreviousPage).toBe(true);
    const between = engine.search({
      text: "laptop",
      filters: {},
      limit: 1000,
      after: all[0],
      before: all.at(-1),
      facets: false,
    });
    expect(between.hits).toEqual(all.slice(1, -1));
    expect(between).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  });

  it("visits every match exactly once", () => {
    const engine = engineWith();
    for (const text of ["laptop", "black", "tee", ""]) {
      const seen = pageThrough(engine, text);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(engine.search({ text, filters: {}, limit: 1, facets: false }).total);
    }
  });

  it("stays stable when other products are added and removed between pages", () => {
    const others = documents.filter((d) => d.categoryNames[0] !== "Laptops");
    const engine = engineWith();
    const before = new Set(pageThrough(engineWith(), "laptop black"));
    const extra = (n: number): SearchDocument => ({
      ...(documents[0] as SearchDocument),
      id: `ffffffffffffffff${n.toString(16).padStart(8, "0")}`,
      sku: `NEW-${n}`,
      name: `Acer Laptop Black ${n}`,
      popularity: n % 20,
    });
    let added = 0;
    const seen = pageThrough(engine, "laptop black", (page) => {
      engine.upsert([extra(added++), extra(added++)]);
      engine.remove([others[page]?.id ?? ""]);
    });
    const unchanged = seen.filter((id) => before.has(id));
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(unchanged)).toEqual(before);
  });

  it("suggests as search ranks after products change, are removed and come back", () => {
    const engine = engineWith();
    const prefixes = ["lapt", "bl", "gr", "sony", "w"];
    const agree = () => {
      for (const prefix of prefixes) {
        const searched = engine.search({ text: prefix, filters: {}, limit: 5, facets: false }).hits;
        expect(
          engine.suggest(prefix, 5).products.map((p) => p.id),
          prefix,
        ).toEqual(searched.map((h) => h.id));
      }
    };
    agree();
    const leaders = prefixes.flatMap((prefix) => engine.suggest(prefix, 5).products.map((p) => p.id));
    const changed = documents
      .filter((d, i) => i % 3 === 0 && !leaders.includes(d.id))
      .map((d) => ({ ...d, popularity: 100 + (d.price % 7), inStock: true }));
    engine.upsert(changed);
    agree();
    engine.remove(changed.filter((_, i) => i % 2 === 0).map((d) => d.id));
    agree();
    engine.upsert(documents.filter((d) => leaders.includes(d.id)).map((d) => ({ ...d, inStock: false })));
    agree();
    engine.upsert(documents);
    agree();
  });

  it("searches a changed product at once and drops a removed one", () => {
    const engine = engineWith();
    const doc = documents[3] as SearchDocument;
    engine.upsert([{ ...doc, name: "Zephyrine Quasar 1", price: 12345 }]);
    expect(top(engine, "zephyrine").map((d) => d.id)).toEqual([doc.id]);
    expect(
      engine.search({ text: "zephyrine", filters: { maxPrice: 12345 }, limit: 5, facets: true }).facets
        ?.minPrice?.amount,
    ).toBe(12345);
    engine.remove([doc.id]);
    expect(engine.search({ text: "zephyrine", filters: {}, limit: 5, facets: false }).total).toBe(0);
    expect(engine.size()).toBe(documents.length - 1);
    expect(engine.suggest("zephyr", 5).products).toEqual([]);
  });
});
