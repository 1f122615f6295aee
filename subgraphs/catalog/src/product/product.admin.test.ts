import { globalId } from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCategories, demoProducts } from "../db/demo.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";

let t: TestEnv;
let admin: string;
const LAPTOPS = demoCategories().find((c) => c.slug === "laptops")?.id ?? "";
const ELECTRONICS = demoCategories().find((c) => c.slug === "electronics")?.id ?? "";
const EXISTING = demoProducts()[0];

beforeAll(async () => {
  t = await createTestEnv("catalog_admin", { seed: true });
  admin = await t.auth.bearer("admin-1", "ADMIN");
});
afterAll(async () => t?.close());

const CREATE = `mutation ($input: CreateProductInput!) {
  createProduct(input: $input) { product { id sku slug status price { amount } attributes { name value type } } userErrors { field code } }
}`;
const UPDATE = `mutation ($input: UpdateProductInput!) {
  updateProduct(input: $input) { product { id name price { amount } status } userErrors { field code } }
}`;
const valid = {
  sku: "lap-test-1",
  name: "Test Laptop 1",
  description: "A laptop for tests.",
  brand: "Nexus",
  categoryId: LAPTOPS,
  price: { amount: 99900, currencyCode: "USD" },
  attributes: [
    { name: "ram", value: "16GB" },
    { name: "screen", value: "14" },
    { name: "touchscreen", value: "true" },
  ],
  images: [{ url: "https://images.nexus.dev/test.jpg" }],
  tags: ["Test"],
  status: "ACTIVE",
};

describe("admin mutations", () => {
  it("need catalog:write", async () => {
    const anonymous = await t.run(CREATE, { input: valid });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const customer = await t.run(CREATE, { input: valid }, await t.auth.bearer("c-1"));
    expect(customer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const category = await t.run(
      `mutation { createCategory(input: { slug: "x", name: "X" }) { category { id } } }`,
      {},
      await t.auth.bearer("c-1"),
    );
    expect(category.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("create a product, normalising sku and deriving the slug", async () => {
    const result = await t.run(CREATE, { input: valid }, admin);
    expect(result.data).toMatchObject({
      createProduct: {
        product: {
          sku: "LAP-TEST-1",
          slug: "test-laptop-1",
          status: "ACTIVE",
          attributes: [
            { name: "ram", value: "16GB", type: "TEXT" },
            { name: "screen", value: "14", type: "NUMBER" },
            { name: "touchscreen", value: "true", type: "BOOLEAN" },
          ],
        },
        userErrors: [],
      },
    });
    const found = await t.run(
      `{ products(filter: { search: "Test Laptop 1" }, first: 1) { edges { node { sku } } } }`,
    );
    expect(found.data).toEqual({ products: { edges: [{ node: { sku: "LAP-TEST-1" } }] } });
  });

  it.each([
    ["duplicate sku", { sku: EXISTING?.sku }, ["input", "sku"], "DUPLICATE_SKU"],
    ["duplicate slug", { slug: EXISTING?.slug }, ["input", "slug"], "DUPLICATE_SLUG"],
    [
      "negative price",
      { price: { amount: -1, currencyCode: "USD" } },
      ["input", "price", "amount"],
      "NEGATIVE_PRICE",
    ],
    [
      "another currency",
      { price: { amount: 1, currencyCode: "EUR" } },
      ["input", "price", "currencyCode"],
      "UNSUPPORTED_CURRENCY",
    ],
    [
      "compare-at below price",
      { compareAtPrice: { amount: 100, currencyCode: "USD" } },
      ["input", "compareAtPrice", "amount"],
      "INVALID_COMPARE_AT_PRICE",
    ],
    [
      "unknown category",
      { categoryId: "6955b9006e657801000000ff" },
      ["input", "categoryId"],
      "UNKNOWN_CATEGORY",
    ],
    ["malformed category", { categoryId: '{"$gt": ""}' }, ["input", "categoryId"], "UNKNOWN_CATEGORY"],
    [
      "number attribute with text",
      { attributes: [{ name: "screen", value: "big" }] },
      ["input", "attributes", "0", "value"],
      "ATTRIBUTE_TYPE_MISMATCH",
    ],
    [
      "boolean attribute with text",
      { attributes: [{ name: "touchscreen", value: "yes" }] },
      ["input", "attributes", "0", "value"],
      "ATTRIBUTE_TYPE_MISMATCH",
    ],
    [
      "value not allowed",
      { attributes: [{ name: "ram", value: "3GB" }] },
      ["input", "attributes", "0", "value"],
      "ATTRIBUTE_VALUE_NOT_ALLOWED",
    ],
    [
      "attribute of another category",
      { attributes: [{ name: "fabric", value: "cotton" }] },
      ["input", "attributes", "0", "name"],
      "UNKNOWN_ATTRIBUTE",
    ],
    [
      "dotted attribute name",
      { attributes: [{ name: "price.amount", value: "1" }] },
      ["input", "attributes", "0", "name"],
      "UNKNOWN_ATTRIBUTE",
    ],
    [
      "attribute twice",
      {
        attributes: [
          { name: "ram", value: "8GB" },
          { name: "ram", value: "16GB" },
        ],
      },
      ["input", "attributes", "1", "name"],
      "DUPLICATE_ATTRIBUTE",
    ],
    ["operator-shaped sku", { sku: "$where" }, ["input", "sku"], "INVALID_SKU"],
    ["bad slug", { slug: "Not A Slug" }, ["input", "slug"], "INVALID_SLUG"],
    ["empty name", { name: "  " }, ["input", "name"], "INVALID_NAME"],
    [
      "http image",
      { images: [{ url: "http://x.test/a.jpg" }] },
      ["input", "images", "0", "url"],
      "INVALID_IMAGE_URL",
    ],
  ])("refuse %s with a user error and write nothing", async (_label, change, field, code) => {
    const before = await t.db.products.countDocuments();
    const result = await t.run(
      CREATE,
      { input: { ...valid, sku: "LAP-NEW-9", slug: "lap-new-9", ...change } },
      admin,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ createProduct: { product: null, userErrors: [{ field, code }] } });
    expect(await t.db.products.countDocuments()).toBe(before);
  });

  it("update a product, invalidating its cached copy so every reader sees the change", async () => {
    const id = EXISTING?.id ?? "";
    const ENTITY = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { name price { amount } } } }`;
    const reps = [{ __typename: "Product", id }];
    await t.run(ENTITY, { reps });
    const cached = await t.run(ENTITY, { reps });
    expect(cached.data).toEqual({
      _entities: [{ name: EXISTING?.name, price: { amount: EXISTING?.price } }],
    });
    expect(await t.redis.exists(`${t.prefix}:product:${id}`)).toBe(1);

    const updated = await t.run(
      UPDATE,
      { input: { id, name: "Renamed", price: { amount: 12345, currencyCode: "USD" } } },
      admin,
    );
    expect(updated.data).toEqual({
      updateProduct: {
        product: {
          id: globalId("Product", id),
          name: "Renamed",
          price: { amount: 12345 },
          status: EXISTING?.status,
        },
        userErrors: [],
      },
    });
    expect(await t.redis.exists(`${t.prefix}:product:${id}`)).toBe(0);
    t.mongo.commands.length = 0;
    expect((await t.run(ENTITY, { reps })).data).toEqual({
      _entities: [{ name: "Renamed", price: { amount: 12345 } }],
    });
    expect(t.count("find", "products")).toBe(1);

    const archived = await t.run(
      `mutation ($id: ID!) { archiveProduct(input: { id: $id }) { product { status } userErrors { code } } }`,
      { id },
      admin,
    );
    expect(archived.data).toEqual({ archiveProduct: { product: { status: "ARCHIVED" }, userErrors: [] } });
    const listed = await t.run(`{ products(filter: { search: "Renamed" }) { totalCount } }`);
    expect(listed.data).toEqual({ products: { totalCount: 0 } });
    // No longer for sale: gone for shoppers and orders' pricing calls, still there for editors.
    expect((await t.run(ENTITY, { reps })).data).toEqual({ _entities: [null] });
    expect((await t.run(ENTITY, { reps }, admin)).data).toEqual({
      _entities: [{ name: "Renamed", price: { amount: 12345 } }],
    });
  });

  it("refuse an update of an unknown product, or one that breaks the category's attributes", async () => {
    const unknown = await t.run(UPDATE, { input: { id: "6955b9006e657802ffffffff", name: "x" } }, admin);
    expect(unknown.data).toEqual({
      updateProduct: { product: null, userErrors: [{ field: ["input", "id"], code: "PRODUCT_NOT_FOUND" }] },
    });
    // A laptop moved to Books keeps laptop attributes that Books does not define.
    const books = demoCategories().find((c) => c.slug === "books")?.id;
    const moved = await t.run(UPDATE, { input: { id: demoProducts()[5]?.id, categoryId: books } }, admin);
    const { userErrors } = (moved.data as { updateProduct: { userErrors: { code: string }[] } })
      .updateProduct;
    expect(userErrors.length).toBeGreaterThan(0);
    expect(userErrors.every((e) => e.code === "UNKNOWN_ATTRIBUTE")).toBe(true);
  });
});

describe("category mutations", () => {
  const CREATE_CATEGORY = `mutation ($input: CreateCategoryInput!) {
    createCategory(input: $input) { category { id slug path attributes { name type } } userErrors { field code } }
  }`;

  it("create a subcategory that inherits attributes, and refuse invalid ones", async () => {
    const created = await t.run(
      CREATE_CATEGORY,
      {
        input: {
          slug: "tablets",
          name: "Tablets",
          parentId: ELECTRONICS,
          attributes: [{ name: "stylus", type: "BOOLEAN" }],
        },
      },
      admin,
    );
    expect(created.data).toMatchObject({
      createCategory: {
        category: {
          slug: "tablets",
          path: "electronics/tablets",
          attributes: [{ name: "stylus", type: "BOOLEAN" }],
        },
        userErrors: [],
      },
    });
    for (const [input, code] of [
      [{ slug: "tablets", name: "Again" }, "DUPLICATE_SLUG"],
      [{ slug: "Bad Slug", name: "x" }, "INVALID_SLUG"],
      [{ slug: "orphan", name: "x", parentId: "6955b9006e657801000000ff" }, "UNKNOWN_PARENT"],
      [
        { slug: "weird", name: "x", attributes: [{ name: "$where", type: "TEXT" }] },
        "INVALID_ATTRIBUTE_NAME",
      ],
      [
        { slug: "sizes", name: "x", attributes: [{ name: "n", type: "NUMBER", allowedValues: ["1"] }] },
        "INVALID_ALLOWED_VALUES",
      ],
    ] as const) {
      const result = await t.run(CREATE_CATEGORY, { input }, admin);
      expect(result.data).toMatchObject({ createCategory: { category: null, userErrors: [{ code }] } });
    }
  });

  it("move a category with its subtree and refuse a cycle", async () => {
    const apparel = demoCategories().find((c) => c.slug === "apparel")?.id;
    const UPDATE_CATEGORY = `mutation ($input: UpdateCategoryInput!) { updateCategory(input: $input) { category { path } userErrors { code } } }`;
    const cycle = await t.run(UPDATE_CATEGORY, { input: { id: ELECTRONICS, parentId: LAPTOPS } }, admin);
    expect(cycle.data).toEqual({
      updateCategory: { category: null, userErrors: [{ code: "CATEGORY_CYCLE" }] },
    });
    const moved = await t.run(UPDATE_CATEGORY, { input: { id: ELECTRONICS, parentId: apparel } }, admin);
    expect(moved.data).toEqual({
      updateCategory: { category: { path: "apparel/electronics" }, userErrors: [] },
    });
    const laptops = await t.run(
      `{ category(slug: "laptops") { path } products(filter: { categorySlug: "apparel" }) { totalCount } }`,
    );
    expect((laptops.data as { category: { path: string } }).category.path).toBe(
      "apparel/electronics/laptops",
    );
    await t.run(UPDATE_CATEGORY, { input: { id: ELECTRONICS, makeRoot: true } }, admin);
    expect((await t.run(`{ category(slug: "laptops") { path } }`)).data).toEqual({
      category: { path: "electronics/laptops" },
    });
  });
});
