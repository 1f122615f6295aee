/**
 * The response cache's parts on their own: keys, the tags an answer is filed under, the notices
 * that remove them, and the store against a real Redis (races with invalidations included).
 * The whole path through the stack is e2e/src/response-cache.e2e.test.ts.
 */
import { createLogger } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import { TEST_REDIS_URL, testRedisPrefix } from "@nexus/testing";
import { buildSchema, parse } from "graphql";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFailOpen } from "../edge/fail-open.ts";
import { entryKey, operationKey, shapeKey, stableJson } from "./cache-key.ts";
import { entityTags } from "./entity-tags.ts";
import {
  ALL_TAG,
  CATEGORY_LISTINGS,
  noticeChannels,
  PRODUCT_LISTINGS,
  tagsOfNotice,
} from "./invalidation.ts";
import { createLocalLayer } from "./local-layer.ts";
import { createResponseStore } from "./response-store.ts";

const schema = buildSchema(`
  type Query { product(id: ID!): Product, products: ProductConnection!, node: Node, search: [Hit!]! }
  interface Node { id: ID! }
  type Product implements Node { id: ID!, name: String!, category: Category!, related: [Product!]! }
  type Category implements Node { id: ID!, name: String! }
  type ProductConnection { edges: [Edge!]!, total: Int! }
  type Edge { node: Product! }
  union Hit = Product | Category
`);

const tagsOf = (query: string, data: unknown, variables?: string) =>
  entityTags(schema, parse(query), variables, data);

describe("keys", () => {
  it("names one entry whatever the whitespace, comments and key order, and keeps viewers apart", () => {
    const a = shapeKey(parse("query P($id: ID!) { product(id: $id) { id } }"), "P");
    const b = shapeKey(parse("# page\nquery P($id: ID!) {\n  product(id: $id) {\n    id\n  }\n}"), "P");
    expect(a).toBe(b);
    expect(shapeKey(parse("query P($id: ID!) { product(id: $id) { id name } }"), "P")).not.toBe(a);
    expect(operationKey(a, { x: 1, y: [1, 2] })).toBe(operationKey(a, { y: [1, 2], x: 1 }));
    expect(operationKey(a, { y: [2, 1] })).not.toBe(operationKey(a, { y: [1, 2] }));
    expect(stableJson({ b: { d: 1, c: null }, a: undefined })).toBe('{"b":{"c":null,"d":1}}');
    const key = operationKey(a, {});
    const alice = entryKey(key, { kind: "viewer", id: "alice" });
    expect(alice).not.toBe(entryKey(key, { kind: "viewer", id: "bob" }));
    expect(alice).not.toBe(entryKey(key, { kind: "shared" }));
    expect(alice).not.toContain("alice");
  });
});

describe("entity tags", () => {
  it("files an answer under each entity it holds, by id, through aliases and fragments", () => {
    const tags = tagsOf(
      `query { p: product(id: "1") { key: id ...F } }
       fragment F on Product { category { id name } related { id } }`,
      { p: { key: "p1", category: { id: "c1", name: "Shoes" }, related: [{ id: "p2" }, { id: "p3" }] } },
    );
    expect(tags).toEqual([
      "Category:c1",
      "Product.related",
      "Product:p1",
      "Product:p2",
      "Product:p3",
      "Query.product",
    ]);
  });

  it("falls back to the type's * tag when the id was not selected, and tags listings by root field", () => {
    expect(
      tagsOf("{ products { total edges { node { name category { name } } } } }", {
        products: { total: 1, edges: [{ node: { name: "A", category: { name: "C" } } }] },
      }),
    ).toEqual(["Category:*", "Product:*", "Query.products"]);
    // Nothing held but a count: only the root field's tag, which product notices remove.
    expect(tagsOf("{ products { total } }", { products: { total: 3 } })).toEqual(["Query.products"]);
  });

  it("files a null where an entity could be under the type's * tag", () => {
    expect(tagsOf('{ product(id: "x") { id } }', { product: null })).toEqual(["Product:*", "Query.product"]);
  });

  it("files global ids under the raw ids change notices name, and reads the type of a node from its id", () => {
    const product = "gid://nexus/Product/65a1b2c3d4e5f60718293a4b";
    expect(tagsOf('{ product(id: "x") { id } }', { product: { id: product } })).toEqual([
      "Product:65a1b2c3d4e5f60718293a4b",
      "Query.product",
    ]);
    expect(tagsOf("{ node { id } }", { node: { id: "gid://nexus/Category/c1" } })).toEqual([
      "Category:c1",
      "Query.node",
    ]);
  });

  it("names abstract types by __typename, and every possible type without it", () => {
    expect(
      tagsOf("{ search { __typename ... on Product { id } ... on Category { id } } }", {
        search: [
          { __typename: "Product", id: "p1" },
          { __typename: "Category", id: "c1" },
        ],
      }),
    ).toEqual(["Category:c1", "Product:p1", "Query.search"]);
    expect(tagsOf("{ node { id } }", { node: { id: "x" } })).toEqual([
      "Category:*",
      "Product:*",
      "Query.node",
    ]);
  });
});

describe("change notices", () => {
  const channels = noticeChannels("shop");

  it("turns catalog's changed product ids into their tags, the type's * tag and the listings", () => {
    const id = "65a1b2c3d4e5f60718293a4b";
    expect(channels).toEqual({ catalogSearch: "shop:catalog:search", invalidate: "shop:cache:invalidate" });
    expect(
      tagsOfNotice(channels, channels.catalogSearch, JSON.stringify({ ids: [id], from: "r1" }))?.sort(),
    ).toEqual([`Product:${id}`, "Product:*", ...PRODUCT_LISTINGS].sort());
    expect(
      tagsOfNotice(channels, channels.catalogSearch, JSON.stringify({ reindex: true, from: "r" })),
    ).toEqual([ALL_TAG]);
  });

  it("takes tags as they come on the invalidate channel, and refuses malformed notices", () => {
    expect(tagsOfNotice(channels, channels.invalidate, '{"tags":["Product:abc","bad tag"]}')).toEqual([
      "Product:abc",
      "Product:*",
    ]);
    expect(tagsOfNotice(channels, channels.invalidate, '{"tags":["Category:c1"]}')?.sort()).toEqual(
      ["Category:c1", "Category:*", ...CATEGORY_LISTINGS].sort(),
    );
    expect(tagsOfNotice(channels, channels.invalidate, "not json")).toBeNull();
    expect(tagsOfNotice(channels, channels.invalidate, '{"ids":[]}')).toBeNull();
    expect(tagsOfNotice(channels, "elsewhere", '{"tags":[]}')).toBeNull();
  });
});

describe("the in-process layer", () => {
  const entry = (tags: string[]) => ({
    data: { x: 1 },
    maxAge: 60,
    scope: "PUBLIC" as const,
    storedAt: Date.now(),
    bytes: 10,
    tags,
  });

  it("evicts the least recently used, removes by tag, and refuses a write an invalidation overtook", () => {
    let evictions = 0;
    const layer = createLocalLayer(2, { onEvict: () => (evictions += 1), onBytes: () => {} });
    const seen = layer.generation();
    expect(layer.set("a", entry(["Product:1"]), seen)).toBe(true);
    expect(layer.set("b", entry(["Product:2"]), seen)).toBe(true);
    layer.get("a", Date.now());
    layer.set("c", entry(["Product:3"]), seen);
    expect(evictions).toBe(1);
    expect(layer.get("b", Date.now())).toBeUndefined();
    expect(layer.invalidate(["Product:1"])).toBe(1);
    expect(layer.get("a", Date.now())).toBeUndefined();
    // Read before the invalidation, written after it: refused.
    expect(layer.set("d", entry(["Product:4"]), seen)).toBe(false);
    expect(layer.get("c", Date.now() + 61_000)).toBeUndefined();
  });
});

describe("the store, in Redis", () => {
  let redis: Redis;
  const logger = createLogger("test", "silent");
  const guard = createFailOpen({ timeoutMs: 1000, logger, what: "response cache" });
  // One deployment: every replica's store shares the prefix.
  const prefix = testRedisPrefix("response-cache");
  const newStore = (localEntries = 100) =>
    createResponseStore({
      redis,
      prefix,
      localEntries,
      onEvict: () => {},
      onLocalBytes: () => {},
      guard,
    });

  beforeAll(async () => {
    redis = await connectRedis(TEST_REDIS_URL);
  });
  afterAll(() => redis?.disconnect());

  const value = (amount: number) => ({
    data: { product: { id: "p1", price: amount } },
    maxAge: 60,
    scope: "PUBLIC" as const,
    tags: ["Product:p1", ALL_TAG],
  });

  it("shares an entry between replicas and removes it from both on a notice", async () => {
    const first = newStore();
    const second = newStore();
    first.setListening(true);
    second.setListening(true);
    const miss = await first.get(["k1"]);
    expect(miss?.entry).toBeNull();
    expect(await first.set("k1", value(100), miss ?? never())).toBe("stored");
    const other = await second.get(["k1"]);
    expect(other?.layer).toBe("redis");
    expect(other?.entry?.data).toEqual({ product: { id: "p1", price: 100 } });
    expect((await second.get(["k1"]))?.layer).toBe("local");
    const removed = await first.invalidate(["Product:p1"]);
    expect(removed.redis).toBe(1);
    // The other replica hears the same notice and drops its memory copy.
    await second.invalidate(["Product:p1"]);
    expect((await second.get(["k1"]))?.entry).toBeNull();
  });

  it("refuses to store an answer read before an invalidation that arrived while it was computed", async () => {
    const store = newStore();
    store.setListening(true);
    const before = await store.get(["k2"]);
    // A price changes while the subgraphs answer with the old one.
    await store.invalidate(["Product:p1"]);
    expect(await store.set("k2", value(100), before ?? never())).toBe("stale");
    expect((await store.get(["k2"]))?.entry).toBeNull();
  });

  it("keeps nothing in memory while notices cannot arrive", async () => {
    const store = newStore();
    const miss = await store.get(["k3"]);
    expect(await store.set("k3", value(1), miss ?? never())).toBe("stored");
    expect((await store.get(["k3"]))?.layer).toBe("redis");
    expect((await store.get(["k3"]))?.layer).toBe("redis");
    await store.invalidate(["Product:p1"]);
  });
});

function never(): never {
  throw new Error("Redis did not answer");
}
