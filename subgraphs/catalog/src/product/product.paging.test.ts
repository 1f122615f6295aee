import { encodeCursor } from "@nexus/core";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCategories, demoProducts } from "../db/demo.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";

/**
 * `products` paged backward: from the end of every sort (search relevance included, from the
 * engine and from MongoDB before the engine is built) the pages are the forward pages in
 * reverse, ties and all, and cursors of either direction work in the other.
 */

let t: TestEnv;
/** Another replica on the same database whose index is never built: its searches go to MongoDB. */
let cold: TestEnv;
let release: () => void = () => {};
let admin: string;

const ACTIVE = demoProducts().filter((p) => p.status === "ACTIVE");
const laptops = demoCategories().find((c) => c.slug === "laptops")?.id;
/** The brand with the most products: MongoDB matches brand words, so its search has many equal scores. */
const brand = (() => {
  const counts = new Map<string, number>();
  for (const p of ACTIVE) counts.set(p.brand, (counts.get(p.brand) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
})();

beforeAll(async () => {
  t = await createTestEnv("catalog_paging", { seed: true });
  const hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  cold = await createTestEnv("catalog_paging", {
    seed: false,
    replicaOf: t,
    search: { holdFirstBuild: hold },
  });
  admin = await t.auth.bearer("admin-1", "ADMIN");
  await makeTies();
});

/**
 * Ties on every sort key among the laptops: groups of products share a creation time, a price
 * or a rating, as after a bulk import or a sale. The pages must still never overlap or skip.
 */
async function makeTies() {
  const docs = await t.db.products
    .find({ categoryId: new ObjectId(laptops) })
    .sort({ _id: 1 })
    .toArray();
  const at = new Date("2025-06-01T12:00:00.000Z");
  for (const [index, doc] of docs.entries()) {
    const set: Record<string, unknown> = {};
    if (index % 3 === 0) set.createdAt = new Date(at.getTime() + (index % 2) * 3_600_000);
    if (index % 4 === 0) set["price.amount"] = index % 8 === 0 ? 99_900 : 149_900;
    if (index % 5 === 0) {
      Object.assign(set, { "rating.average": 4.5, "rating.count": index % 10 === 0 ? 2 : 4 });
    }
    if (Object.keys(set).length > 0) await t.db.products.updateOne({ _id: doc._id }, { $set: set });
  }
}
afterAll(async () => {
  release();
  await cold?.close();
  await t?.close();
});

const PAGE = `query ($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String, $last: Int, $before: String) {
  products(filter: $filter, sort: $sort, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id createdAt price { amount } rating { average count } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

interface Node {
  id: string;
  createdAt: string;
  price: { amount: number };
  rating: { average: number; count: number };
}
interface Page {
  totalCount: number;
  edges: { cursor: string; node: Node }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}
type Variables = Record<string, unknown>;

async function page(env: TestEnv, variables: Variables, authorization?: string): Promise<Page> {
  const result = await env.run(PAGE, variables, authorization);
  expect(result.errors, JSON.stringify(variables)).toBeUndefined();
  return (result.data as { products: Page }).products;
}

const ids = (pages: readonly Page[]) => pages.flatMap((p) => p.edges.map((e) => e.node.id));

/** Every page from the start, `first` at a time. */
async function forward(env: TestEnv, variables: Variables, size: number, authorization?: string) {
  const pages: Page[] = [];
  let after: string | null = null;
  for (let n = 0; n < 300; n++) {
    const current = await page(env, { ...variables, first: size, after }, authorization);
    pages.push(current);
    if (!current.pageInfo.hasNextPage) return pages;
    after = current.pageInfo.endCursor;
  }
  throw new Error("did not reach the end");
}

/** Every page from the end, `last` at a time, in the order fetched (the last page first). */
async function backward(env: TestEnv, variables: Variables, size: number, authorization?: string) {
  const pages: Page[] = [];
  let before: string | null = null;
  for (let n = 0; n < 300; n++) {
    const current = await page(env, { ...variables, last: size, before }, authorization);
    pages.push(current);
    if (!current.pageInfo.hasPreviousPage) return pages;
    before = current.pageInfo.startCursor;
  }
  throw new Error("did not reach the start");
}

/**
 * The property every listing must have: backward from the end is the forward sequence, page
 * for page; pageInfo right at both ends; cursors of one direction work in the other.
 */
async function expectBothWays(env: TestEnv, variables: Variables, size: number, authorization?: string) {
  const ahead = await forward(env, variables, size, authorization);
  const back = await backward(env, variables, size, authorization);
  const sequence = ids(ahead);
  const total = ahead[0]?.totalCount ?? 0;
  expect(sequence).toHaveLength(total);
  expect(new Set(sequence).size).toBe(total);
  expect(ids([...back].reverse())).toEqual(sequence);
  expect(back.every((p) => p.totalCount === total)).toBe(true);
  // Backward pages are cut from the end: all full but the first of the list.
  expect(back.slice(0, -1).every((p) => p.edges.length === size)).toBe(true);

  const [start, end] = [ahead[0], back[0]];
  expect(start?.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: total > size });
  expect(end?.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: total > size });
  if (total > size) {
    expect(ahead.at(-1)?.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(back.at(-1)?.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
  }
  for (const p of [...ahead, ...back]) {
    expect(p.pageInfo.startCursor).toBe(p.edges[0]?.cursor ?? null);
    expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
  }

  // A forward page's start cursor as `before` gives the page before it; a backward page's end
  // cursor as `after` gives the page after it.
  for (const i of [1, Math.floor(ahead.length / 2), ahead.length - 1]) {
    const here = ahead[i];
    if (i < 1 || !here) continue;
    const previous = await page(
      env,
      { ...variables, last: size, before: here.pageInfo.startCursor },
      authorization,
    );
    expect(ids([previous])).toEqual(ids([ahead[i - 1] as Page]));
  }
  for (const j of [1, back.length - 1]) {
    const here = back[j];
    if (j < 1 || !here) continue;
    const next = await page(
      env,
      { ...variables, first: size, after: here.pageInfo.endCursor },
      authorization,
    );
    expect(ids([next])).toEqual(ids([back[j - 1] as Page]));
  }
  return ahead.flatMap((p) => p.edges.map((e) => e.node));
}

/** How many neighbours in `nodes` share `key`: the listing must have ties for the test to mean anything. */
const ties = (nodes: readonly Node[], key: (node: Node) => string) =>
  nodes.filter((node, i) => i > 0 && key(node) === key(nodes[i - 1] as Node)).length;

describe("products paged backward", () => {
  it("every sort, within a category and over the whole catalog, with ties on every key", async () => {
    expect(laptops).toBeDefined();
    const filter = { categorySlug: "laptops" };
    const newest = await expectBothWays(t, { filter, sort: "NEWEST" }, 7);
    expect(ties(newest, (n) => n.createdAt)).toBeGreaterThan(0);
    const cheap = await expectBothWays(t, { filter, sort: "PRICE_ASC" }, 9);
    expect(ties(cheap, (n) => String(n.price.amount))).toBeGreaterThan(0);
    const dear = await expectBothWays(t, { filter, sort: "PRICE_DESC" }, 9);
    expect(ties(dear, (n) => String(n.price.amount))).toBeGreaterThan(0);
    const rated = await expectBothWays(t, { filter, sort: "RATING" }, 8);
    expect(ties(rated, (n) => `${n.rating.average}/${n.rating.count}`)).toBeGreaterThan(0);
    const all = await expectBothWays(t, { sort: "NEWEST" }, 100);
    expect(all.length).toBe(ACTIVE.length);
  });

  it("search: relevance and the other sorts from the engine, relevance from MongoDB before it is built", async () => {
    expect(t.search.engine()).not.toBeNull();
    expect(cold.search.engine()).toBeNull();
    const filter = { search: "pro" };
    const ranked = await expectBothWays(t, { filter }, 6);
    expect(ranked.length).toBeGreaterThan(12);
    await expectBothWays(t, { filter, sort: "PRICE_DESC" }, 6);
    await expectBothWays(t, { filter: { ...filter, inStock: true }, sort: "NEWEST" }, 11);
    const fromMongo = await expectBothWays(cold, { filter: { search: brand } }, 6);
    expect(fromMongo.length).toBeGreaterThan(12);
    // Statuses other than ACTIVE are never in the index: staff searches go to MongoDB.
    await expectBothWays(t, { filter: { search: "a", status: "DRAFT" } }, 3, admin);
  });

  it("an empty listing pages backward to nothing, and a category that does not exist too", async () => {
    const none = await page(t, { filter: { minPrice: 2 ** 31 - 1 }, last: 5 });
    expect(none).toMatchObject({
      totalCount: 0,
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
    const nowhere = await page(t, { filter: { categorySlug: "no-such-category" }, last: 5 });
    expect(nowhere.edges).toEqual([]);
    expect(nowhere.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it("refuses mixed directions, sizes out of range and foreign cursors, naming the argument", async () => {
    const cursor = (await page(t, { sort: "PRICE_ASC", first: 1 })).pageInfo.endCursor;
    const searchCursor = (await page(t, { filter: { search: "pro" }, first: 1 })).pageInfo.endCursor;
    const cases: [Variables, string][] = [
      [{ first: 2, last: 2 }, "last"],
      [{ last: 2, after: cursor, sort: "PRICE_ASC" }, "after"],
      [{ first: 2, before: cursor, sort: "PRICE_ASC" }, "before"],
      [{ after: cursor, before: cursor, sort: "PRICE_ASC" }, "before"],
      [{ last: 0 }, "last"],
      [{ last: 101 }, "last"],
      [{ first: 0 }, "first"],
      [{ last: 2, before: cursor, sort: "NEWEST" }, "before"],
      [{ last: 2, before: cursor, sort: "PRICE_DESC" }, "before"],
      [{ last: 2, before: searchCursor, sort: "RATING" }, "before"],
      [{ last: 2, before: cursor, filter: { search: "pro" } }, "before"],
      [{ last: 2, before: encodeCursor(["PRICE_ASC", -1, "0".repeat(24)]), sort: "PRICE_ASC" }, "before"],
      [{ last: 2, before: "not a cursor" }, "before"],
    ];
    for (const [variables, field] of cases) {
      const result = await t.run(PAGE, variables);
      expect(result.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({
        code: "BAD_USER_INPUT",
        field,
      });
    }
    // The same refusals before the index is built.
    const result = await cold.run(PAGE, { last: 2, before: cursor, filter: { search: "pro" } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "before" });
  });
});
