import type { ApolloServer } from "@apollo/server";
import { createLogger, encodeCursor } from "@nexus/core";
import { demoCategories, demoProducts } from "@nexus/demo";
import {
  createTestAuth,
  createTestMongo,
  executeSingle,
  type TestAuth,
  type TestMongo,
} from "@nexus/testing";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Context, createContext, type Deps } from "../context.ts";
import { type CatalogDb, createCatalogDb, ensureIndexes } from "../db/collections.ts";
import { seedDemoData } from "../db/seed.ts";
import { createServer } from "../server.ts";
import { insertMissingProducts } from "./product.repository.ts";

let mongo: TestMongo;
let db: CatalogDb;
let server: ApolloServer<Context>;
let deps: Deps;
let auth: TestAuth;
let firstSeed: { categories: number; products: number };
/** The time the seed stamped on every product. */
let seededAt: string;

const logger = createLogger("catalog-test", "silent");
const DEMO_PRODUCTS = demoProducts();
const DEMO_CATEGORIES = demoCategories();

beforeAll(async () => {
  mongo = await createTestMongo("catalog");
  db = createCatalogDb(mongo.db);
  await ensureIndexes(db);
  firstSeed = await seedDemoData(db, logger);
  seededAt = (await db.products.findOne())?.createdAt.toISOString() ?? "";
  auth = await createTestAuth();
  deps = { db, verify: auth.verify, logger };
  server = createServer(logger);
  await server.start();
});

afterAll(async () => {
  await server?.stop();
  await mongo?.close();
});

beforeEach(() => {
  mongo.commands.length = 0;
});

async function run(query: string, variables: Record<string, unknown> = {}, authorization?: string) {
  return executeSingle(server, await createContext(deps, { authorization }), query, variables);
}

const findsOn = (collection: string) =>
  mongo.commands.filter((c) => c.name === "find" && c.collection === collection).length;

const categoryOf = (categoryId: string) => {
  const category = DEMO_CATEGORIES.find((c) => c.id === categoryId);
  if (!category) throw new Error(`no demo category ${categoryId}`);
  return category;
};

/** What the API must answer for a demo product, field for field. */
function expectedProduct(index: number) {
  const product = DEMO_PRODUCTS[index];
  if (!product) throw new Error(`no demo product ${index}`);
  return {
    id: product.id,
    name: product.name,
    slug: product.slug,
    description: product.description,
    price: { amount: product.price, currencyCode: "USD" },
    attributes: product.attributes,
    createdAt: seededAt,
    category: categoryOf(product.categoryId),
  };
}

const PRODUCT_FIELDS = `id name slug description price { amount currencyCode } attributes { key value }
  createdAt category { id slug name }`;

describe("seed", () => {
  it("loads 240 products in 6 categories once, with derived attribute keys", async () => {
    expect(firstSeed).toEqual({ categories: 6, products: 240 });
    expect(await db.products.countDocuments()).toBe(240);
    expect(await db.categories.countDocuments()).toBe(6);
    for (const category of DEMO_CATEGORIES) {
      expect(await db.products.countDocuments({ categoryId: new ObjectId(category.id) })).toBe(40);
    }
    const demo = DEMO_PRODUCTS[0];
    const stored = await db.products.findOne({ _id: new ObjectId(demo?.id) });
    expect(stored).toEqual({
      _id: new ObjectId(demo?.id),
      slug: demo?.slug,
      name: demo?.name,
      description: demo?.description,
      categoryId: new ObjectId(demo?.categoryId),
      price: { amount: demo?.price, currencyCode: "USD" },
      attributes: demo?.attributes,
      attributeKeys: demo?.attributes.map((a) => `${a.key}=${a.value}`),
      createdAt: new Date(seededAt),
    });

    mongo.commands.length = 0;
    expect(await seedDemoData(db, logger)).toEqual({ categories: 0, products: 0 });
    // A catalog that holds products is only counted, never written to.
    expect(mongo.commands.map((c) => c.name)).toEqual(["aggregate"]);
    expect(await db.products.countDocuments()).toBe(240);
    expect(await db.categories.countDocuments()).toBe(6);
  });

  it("lets two processes seed an empty catalog at once without duplicates or errors", async () => {
    const other = await createTestMongo("catalog_race");
    try {
      const otherDb = createCatalogDb(other.db);
      await ensureIndexes(otherDb);
      const [a, b] = await Promise.all([seedDemoData(otherDb, logger), seedDemoData(otherDb, logger)]);
      expect((a?.products ?? 0) + (b?.products ?? 0)).toBe(240);
      expect((a?.categories ?? 0) + (b?.categories ?? 0)).toBe(6);
      expect(await otherDb.products.countDocuments()).toBe(240);
      expect(await otherDb.categories.countDocuments()).toBe(6);
    } finally {
      await other.close();
    }
  });

  it("refuses a second product with a taken slug (unique index)", async () => {
    const demo = DEMO_PRODUCTS[0];
    if (!demo) throw new Error("no demo product");
    await expect(
      insertMissingProducts(db, [
        {
          ...demo,
          id: new ObjectId().toHexString(),
          price: { amount: 1, currencyCode: "USD" },
          createdAt: new Date(),
        },
      ]),
    ).rejects.toMatchObject({ code: 11000 });
    expect(await db.products.countDocuments()).toBe(240);
  });
});

describe("_entities", () => {
  it("resolves 20 mixed references in order with one find for products and one for categories", async () => {
    const picks = [239, 0, 45, 120, 200, 81, 160, 33, 199, 5, 77, 150, 222];
    const ids = picks.map((i) => DEMO_PRODUCTS[i]?.id ?? "");
    const unknown = [new ObjectId().toHexString(), "000000000000000000000000"];
    const invalid = ["not-an-object-id", "", "6e65787573000200000000zz", `${ids[0]}0`];
    const representations = [
      ids[0],
      unknown[0],
      ids[1],
      invalid[0],
      ids[2],
      ids[3],
      invalid[1],
      ids[4],
      unknown[1],
      ids[5],
      ids[6],
      invalid[2],
      ids[7],
      ids[8],
      ids[9],
      ids[0],
      invalid[3],
      ids[10],
      ids[11],
      ids[12],
    ].map((id) => ({ __typename: "Product", id }));
    expect(representations).toHaveLength(20);

    const result = await run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { ${PRODUCT_FIELDS} } } }`,
      { reps: representations },
    );

    expect(result.errors).toBeUndefined();
    const expected = representations.map(({ id }) => {
      const index = DEMO_PRODUCTS.findIndex((p) => p.id === id);
      return index === -1 ? null : expectedProduct(index);
    });
    expect(expected.filter((p) => p === null)).toHaveLength(6);
    expect(result.data).toEqual({ _entities: expected });
    expect(findsOn("products")).toBe(1);
    expect(findsOn("categories")).toBe(1);
    expect(mongo.commands).toHaveLength(2);
  });

  it("answers a reference in upper-case hex with the product under its canonical id", async () => {
    const demo = DEMO_PRODUCTS[7];
    const result = await run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id name } } }`,
      { reps: [{ __typename: "Product", id: demo?.id.toUpperCase() }] },
    );
    expect(result.data).toEqual({ _entities: [{ id: demo?.id, name: demo?.name }] });
  });
});

describe("product", () => {
  it("returns one product with its category and price", async () => {
    const result = await run(`query ($id: ID!) { product(id: $id) { ${PRODUCT_FIELDS} } }`, {
      id: DEMO_PRODUCTS[42]?.id,
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ product: expectedProduct(42) });
  });

  it("answers null for a malformed id without asking the database", async () => {
    for (const id of ["xyz", "6e65787573000200000000zz", "6e6578757300020000000001aa"]) {
      const result = await run("query ($id: ID!) { product(id: $id) { id } }", { id });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ product: null });
    }
    expect(mongo.commands).toEqual([]);
  });

  it("answers null for a well-formed id that is not in the catalog", async () => {
    const result = await run("query ($id: ID!) { product(id: $id) { id } }", {
      id: new ObjectId().toHexString(),
    });
    expect(result.data).toEqual({ product: null });
    expect(findsOn("products")).toBe(1);
  });

  it("reports a product whose category is gone as an internal error, without details", async () => {
    const id = new ObjectId().toHexString();
    await insertMissingProducts(db, [
      {
        id,
        slug: "orphan",
        name: "Orphan",
        description: "A product in a category that does not exist.",
        categoryId: new ObjectId().toHexString(),
        price: { amount: 100, currencyCode: "USD" },
        attributes: [],
        createdAt: new Date(),
      },
    ]);
    try {
      const result = await run("query ($id: ID!) { product(id: $id) { name category { id } } }", { id });
      expect(result.data).toEqual({ product: null });
      expect(result.errors).toEqual([
        expect.objectContaining({
          message: "Internal server error.",
          path: ["product", "category"],
          extensions: { code: "INTERNAL_SERVER_ERROR" },
        }),
      ]);
    } finally {
      await db.products.deleteOne({ _id: new ObjectId(id) });
    }
  });
});

type Page = {
  totalCount: number;
  edges: { cursor: string; node: { id: string; category: { slug: string } } }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
};

const PRODUCTS = `query ($first: Int, $after: String, $category: String) {
  products(first: $first, after: $after, category: $category) {
    totalCount
    edges { cursor node { id category { slug } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

/** Follows `endCursor` to the end, checking each page's shape and its MongoDB round trips. */
async function walk(first: number, category?: string) {
  const pages: Page[] = [];
  let after: string | null = null;
  do {
    mongo.commands.length = 0;
    const result = await run(PRODUCTS, { first, after, category });
    expect(result.errors).toBeUndefined();
    const page = (result.data as { products: Page }).products;
    // The page's products in one find, all their categories in one more (or none when filtered).
    expect(findsOn("products")).toBe(1);
    expect(findsOn("categories")).toBe(1);
    expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
    expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor);
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor);
    pages.push(page);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after !== null && pages.length < 50);
  return pages;
}

describe("products", () => {
  it("walks every product newest first without duplicates or gaps", async () => {
    const pages = await walk(100);
    expect(pages.map((p) => p.edges.length)).toEqual([100, 100, 40]);
    expect(pages.map((p) => p.totalCount)).toEqual([240, 240, 240]);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    const walked = pages.flatMap((p) => p.edges.map((e) => e.node));
    // Demo ids grow with their index, so newest first is the data set reversed.
    const expected = DEMO_PRODUCTS.map((p) => ({
      id: p.id,
      category: { slug: categoryOf(p.categoryId).slug },
    }));
    expect(walked).toEqual(expected.reverse());
  });

  it("pages through one category by slug", async () => {
    const pages = await walk(15, "shoes");
    expect(pages.map((p) => p.edges.length)).toEqual([15, 15, 10]);
    expect(pages.map((p) => p.totalCount)).toEqual([40, 40, 40]);
    const shoes = DEMO_CATEGORIES.find((c) => c.slug === "shoes");
    const expected = DEMO_PRODUCTS.filter((p) => p.categoryId === shoes?.id)
      .map((p) => ({ id: p.id, category: { slug: "shoes" } }))
      .reverse();
    expect(pages.flatMap((p) => p.edges.map((e) => e.node))).toEqual(expected);
  });

  it("defaults to 20 products", async () => {
    const result = await run("{ products { totalCount edges { node { id } } pageInfo { hasNextPage } } }");
    expect(result.data).toEqual({
      products: {
        totalCount: 240,
        edges: DEMO_PRODUCTS.slice(220)
          .reverse()
          .map((p) => ({ node: { id: p.id } })),
        pageInfo: { hasNextPage: true },
      },
    });
  });

  it("answers an unknown category with an empty connection", async () => {
    const result = await run(PRODUCTS, { category: "no-such-category" });
    expect(result.data).toEqual({
      products: {
        totalCount: 0,
        edges: [],
        pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
      },
    });
    expect(findsOn("products")).toBe(0);
  });

  it.each([
    ["first 0", { first: 0 }, "first"],
    ["first 101", { first: 101 }, "first"],
    ["negative first", { first: -1 }, "first"],
    ["a cursor that is not base64 JSON", { after: "not a cursor" }, "after"],
    ["a cursor holding a non-ObjectId", { after: encodeCursor(["zz"]) }, "after"],
    ["a cursor holding a number", { after: encodeCursor([5]) }, "after"],
    ["a cursor with two values", { after: encodeCursor([DEMO_PRODUCTS[0]?.id ?? "", 1]) }, "after"],
  ])("refuses %s with BAD_USER_INPUT before any query", async (_label, variables, field) => {
    const result = await run(PRODUCTS, variables);
    expect(result.data).toBeNull();
    expect(result.errors).toEqual([
      expect.objectContaining({ path: ["products"], extensions: { code: "BAD_USER_INPUT", field } }),
    ]);
    expect(mongo.commands).toEqual([]);
  });
});

describe("categories", () => {
  it("lists every category by name", async () => {
    const result = await run("{ categories { id slug name } }");
    expect(result.data).toEqual({
      categories: [...DEMO_CATEGORIES].sort((a, b) => a.name.localeCompare(b.name)),
    });
    expect((result.data as { categories: { name: string }[] }).categories.map((c) => c.name)).toEqual([
      "Books",
      "Coffee",
      "Laptops",
      "Phones",
      "Shoes",
      "T-shirts",
    ]);
  });
});

describe("context", () => {
  it("builds the viewer from a valid token, and rejects a malformed or forged one", async () => {
    const context = await createContext(deps, { authorization: await auth.bearer("user-1") });
    expect(context.viewer).toMatchObject({ userId: "user-1", role: "CUSTOMER" });
    expect((await createContext(deps, {})).viewer).toBeNull();

    const forged = await createTestAuth();
    for (const authorization of ["Bearer not-a-jwt", await forged.bearer("user-1")]) {
      await expect(createContext(deps, { authorization })).rejects.toMatchObject({
        extensions: { code: "UNAUTHENTICATED" },
      });
    }
  });
});
