import { encodeCursor } from "@nexus/core";
import { globalId } from "@nexus/testing";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { insertMissingProducts, type NewProduct, updateProductFields } from "./product.repository.ts";

let t: TestEnv;
let partner: string;

const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const at = (hours: number) => new Date(T0 + hours * 3_600_000);
const id = (n: number) => `66f0000000000000000000${n.toString(16).padStart(2, "0")}`;
/** The global id clients see for `id(n)`. */
const gid = (n: number) => globalId("Product", id(n));

function product(n: number, hours: number, status: NewProduct["status"]): NewProduct {
  return {
    id: id(n),
    sku: `FEED-${n}`,
    slug: `feed-${n}`,
    name: `Feed product ${n}`,
    description: "For the feed tests.",
    brand: "Nexus",
    categoryId: "66f0000000000000000000ff",
    price: { amount: 1000 + n, currencyCode: "USD" },
    compareAtPrice: null,
    attributes: [],
    images: [],
    tags: [],
    status,
    createdAt: at(hours),
  };
}

// Products 3 and 4 share one updatedAt: the id breaks the tie. 5 is a draft, never in the feed.
const PRODUCTS = [
  product(1, 1, "ACTIVE"),
  product(2, 2, "ARCHIVED"),
  product(4, 3, "ACTIVE"),
  product(3, 3, "ACTIVE"),
  product(5, 4, "DRAFT"),
  product(6, 5, "ACTIVE"),
];

const FEED = `query ($first: Int, $after: String, $updatedSince: DateTime) {
  productFeed(first: $first, after: $after, updatedSince: $updatedSince) {
    edges { cursor node { id sku status price { amount currencyCode } updatedAt } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    totalCount
  }
}`;

interface FeedPage {
  edges: { cursor: string; node: { id: string; sku: string; status: string; updatedAt: string } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  totalCount: number;
}

async function feed(variables: Record<string, unknown>, authorization = partner): Promise<FeedPage> {
  const result = await t.run(FEED, variables, authorization);
  expect(result.errors).toBeUndefined();
  return (result.data as { productFeed: FeedPage }).productFeed;
}

/** Every product of the feed, page by page. */
async function drain(variables: Record<string, unknown>, first: number): Promise<string[]> {
  const skus: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 20; pages++) {
    const page = await feed({ ...variables, first, after });
    skus.push(...page.edges.map((edge) => edge.node.sku));
    if (!page.pageInfo.hasNextPage) return skus;
    after = page.pageInfo.endCursor;
  }
  throw new Error("the feed did not end");
}

beforeAll(async () => {
  t = await createTestEnv("catalog_feed", { seed: false });
  await insertMissingProducts(t.db, PRODUCTS);
  partner = await t.auth.bearer("partner-1", "PARTNER");
});
afterAll(async () => t?.close());
beforeEach(() => {
  t.mongo.commands.length = 0;
});

describe("productFeed", () => {
  it("lists ACTIVE and ARCHIVED products, never drafts, by updatedAt then id, with price", async () => {
    const page = await feed({ first: 10 });
    expect(page.edges.map((edge) => edge.node)).toEqual([
      {
        id: gid(1),
        sku: "FEED-1",
        status: "ACTIVE",
        price: { amount: 1001, currencyCode: "USD" },
        updatedAt: at(1).toISOString(),
      },
      {
        id: gid(2),
        sku: "FEED-2",
        status: "ARCHIVED",
        price: { amount: 1002, currencyCode: "USD" },
        updatedAt: at(2).toISOString(),
      },
      {
        id: gid(3),
        sku: "FEED-3",
        status: "ACTIVE",
        price: { amount: 1003, currencyCode: "USD" },
        updatedAt: at(3).toISOString(),
      },
      {
        id: gid(4),
        sku: "FEED-4",
        status: "ACTIVE",
        price: { amount: 1004, currencyCode: "USD" },
        updatedAt: at(3).toISOString(),
      },
      {
        id: gid(6),
        sku: "FEED-6",
        status: "ACTIVE",
        price: { amount: 1006, currencyCode: "USD" },
        updatedAt: at(5).toISOString(),
      },
    ]);
    expect(page.pageInfo).toEqual({
      hasNextPage: false,
      hasPreviousPage: false,
      endCursor: page.edges[4]?.cursor,
    });
    expect(page.totalCount).toBe(5);
    // One find for the page, one count for totalCount.
    expect(t.count("find", "products")).toBe(1);
    expect(t.count("aggregate", "products")).toBe(1);
  });

  it("pages with exact cursors, the tie on updatedAt included", async () => {
    expect(await drain({}, 1)).toEqual(["FEED-1", "FEED-2", "FEED-3", "FEED-4", "FEED-6"]);
    expect(await drain({}, 2)).toEqual(["FEED-1", "FEED-2", "FEED-3", "FEED-4", "FEED-6"]);
    const second = await feed({ first: 2, after: (await feed({ first: 2 })).pageInfo.endCursor });
    expect(second.pageInfo.hasPreviousPage).toBe(true);
  });

  it("lists only what changed at or after updatedSince, and counts only that", async () => {
    const page = await feed({ first: 10, updatedSince: at(3).toISOString() });
    expect(page.edges.map((edge) => edge.node.sku)).toEqual(["FEED-3", "FEED-4", "FEED-6"]);
    expect(page.totalCount).toBe(3);
    expect(await drain({ updatedSince: at(3).toISOString() }, 1)).toEqual(["FEED-3", "FEED-4", "FEED-6"]);
  });

  it("moves a product changed while paging to the end, so an incremental sync never misses it", async () => {
    const first = await feed({ first: 2 });
    expect(first.edges.map((edge) => edge.node.sku)).toEqual(["FEED-1", "FEED-2"]);
    const changed = PRODUCTS[0];
    if (!changed) throw new Error("no product");
    const { id: _id, createdAt: _createdAt, rating: _rating, ...fields } = changed;
    await updateProductFields(
      t.db,
      id(1),
      { ...fields, price: { amount: 999, currencyCode: "USD" } },
      at(10),
    );
    const rest = await drain({ updatedSince: undefined }, 10);
    expect(rest).toEqual(["FEED-2", "FEED-3", "FEED-4", "FEED-6", "FEED-1"]);
    const since = await feed({ first: 10, updatedSince: at(6).toISOString() });
    expect(since.edges.map((edge) => [edge.node.sku, edge.node.updatedAt])).toEqual([
      ["FEED-1", at(10).toISOString()],
    ]);
  });

  it("is for partners (catalog:feed) and catalog editors only", async () => {
    const anonymous = await t.run(FEED, { first: 1 });
    expect(anonymous.data).toEqual({ productFeed: null });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
    const customer = await t.run(FEED, { first: 1 }, await t.auth.bearer("c-1"));
    expect(customer.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    const admin = await feed({ first: 1 }, await t.auth.bearer("admin-1", "ADMIN"));
    expect(admin.edges).toHaveLength(1);
    expect(t.count("find", "products")).toBe(1);
  });

  it("refuses a bad page size or a cursor it did not hand out", async () => {
    const codes = async (variables: Record<string, unknown>) =>
      (await t.run(FEED, variables, partner)).errors?.map((e) => [e.extensions?.code, e.message]);
    expect(await codes({ first: 0 })).toEqual([["BAD_USER_INPUT", "first must be between 1 and 100."]]);
    const notOurs = "after is not a cursor returned by productFeed.";
    expect(await codes({ after: encodeCursor(["NEWEST", 1, id(1)]) })).toEqual([["BAD_USER_INPUT", notOurs]]);
    expect(await codes({ after: encodeCursor(["feed", "x", id(1)]) })).toEqual([["BAD_USER_INPUT", notOurs]]);
    expect(await codes({ after: encodeCursor(["feed", 1, "nope"]) })).toEqual([["BAD_USER_INPUT", notOurs]]);
    expect(await codes({ after: encodeCursor(["feed", 1e300, id(1)]) })).toEqual([
      ["BAD_USER_INPUT", notOurs],
    ]);
    expect(await codes({ after: encodeCursor(["feed", -1.5, id(1)]) })).toEqual([
      ["BAD_USER_INPUT", notOurs],
    ]);
    expect(await codes({ after: "garbage" })).toEqual([
      ["BAD_USER_INPUT", "after is not a cursor returned by this field."],
    ]);
  });

  it("resolves feed products as _entities for partners, archived ones included and drafts not", async () => {
    const result = await t.run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id sku status } } }`,
      {
        reps: [
          { __typename: "Product", id: id(2) },
          { __typename: "Product", id: id(5) },
          { __typename: "Product", id: new ObjectId().toHexString() },
        ],
      },
      partner,
    );
    expect(result.data).toEqual({
      _entities: [{ id: gid(2), sku: "FEED-2", status: "ARCHIVED" }, null, null],
    });
  });
});

describe("insertMissingProducts", () => {
  it("skips the products already stored and inserts the others of the same batch, saying how many", async () => {
    const fresh = [product(90, 1, "DRAFT"), product(91, 1, "DRAFT")];
    // PRODUCTS[0] is stored already: the batch has a duplicate key.
    expect(await insertMissingProducts(t.db, [PRODUCTS[0] as NewProduct, ...fresh])).toBe(2);
    const stored = await t.db.products
      .find({ _id: { $in: [new ObjectId(id(90)), new ObjectId(id(91))] } })
      .toArray();
    expect(stored.map((doc) => doc.sku).sort()).toEqual(["FEED-90", "FEED-91"]);
    expect(await insertMissingProducts(t.db, fresh)).toBe(0);
    await t.db.products.deleteMany({ _id: { $in: [new ObjectId(id(90)), new ObjectId(id(91))] } });
  });
});
