import { createTokenSigner, type Scope } from "@nexus/core";
import { globalId, rawId, TEST_TOKEN_AUDIENCE } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { importedSlug } from "./product-import.service.ts";

let t: TestEnv;
let admin: string;

beforeAll(async () => {
  // The import's own currency, as for the UK history it was built for.
  t = await createTestEnv("catalog_import", { seed: false, storeCurrency: "GBP" });
  admin = await t.auth.bearer("admin-1", "ADMIN");
});
afterAll(async () => t?.close());
beforeEach(async () => {
  await t.db.products.deleteMany({});
  await t.db.categories.deleteMany({});
});

/** A token with exactly these scopes, to show which one a field needs. */
async function bearerWith(scopes: Scope[]): Promise<string> {
  const signer = await createTokenSigner({
    ...TEST_TOKEN_AUDIENCE,
    privateKeyPem: t.auth.privateKeyPem,
    ttlSeconds: 900,
  });
  const { token } = await signer.sign({ sub: "importer-1", role: "ADMIN", scopes });
  return `Bearer ${token}`;
}

const IMPORT = `mutation ($input: ImportProductsInput!) {
  importProducts(input: $input) {
    products { sku categoryId created product { id sku slug name status price { amount currencyCode } category { id slug name } } }
    userErrors { field code message }
  }
}`;

interface Imported {
  sku: string;
  categoryId: string;
  created: boolean;
  product: {
    id: string;
    sku: string;
    slug: string;
    name: string;
    status: string;
    price: { amount: number; currencyCode: string };
    category: { id: string; slug: string; name: string };
  };
}
interface ImportPayload {
  products: Imported[];
  userErrors: { field: string[] | null; code: string; message: string }[];
}

const item = (sku: string, name = `Product ${sku}`, amount = 250, currencyCode = "GBP") => ({
  sku,
  name,
  price: { amount, currencyCode },
});

async function importAs(products: unknown[], authorization = admin): Promise<ImportPayload> {
  const result = await t.run(IMPORT, { input: { products } }, authorization);
  expect(result.errors).toBeUndefined();
  return (result.data as { importProducts: ImportPayload }).importProducts;
}

describe("importProducts", () => {
  it("needs store:import: anonymous, customers and catalog editors are refused, an importer is not", async () => {
    const input = { input: { products: [item("A-1")] } };
    const anonymous = await t.run(IMPORT, input);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const customer = await t.run(IMPORT, input, await t.auth.bearer("c-1"));
    expect(customer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const editor = await t.run(IMPORT, input, await bearerWith(["catalog:write"]));
    expect(editor.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await t.db.products.countDocuments()).toBe(0);
    expect(await t.db.categories.countDocuments()).toBe(0);

    const importer = await importAs([item("A-1")], await bearerWith(["store:import"]));
    expect(importer.products.map((p) => [p.sku, p.created])).toEqual([["A-1", true]]);
  });

  it("creates ACTIVE products in the Imported category, in input order, with slugs from name and sku", async () => {
    const payload = await importAs([
      item(" 85123a ", "  WHITE HANGING HEART T-LIGHT HOLDER ", 255),
      item("22423", "Regency Cakestand 3 Tier", 1275),
      item("POST", "Postage", 1800, "gbp"),
    ]);
    expect(payload.userErrors).toEqual([]);
    const category = await t.db.categories.findOne({ slug: "imported" });
    expect(category).toMatchObject({ name: "Imported", parentId: null, ancestorIds: [] });
    const categoryId = globalId("Category", category?._id.toHexString() ?? "");
    expect(payload.products).toEqual([
      {
        sku: "85123A",
        categoryId,
        created: true,
        product: {
          id: expect.stringMatching(/^gid:\/\/nexus\/Product\/[0-9a-f]{24}$/),
          sku: "85123A",
          slug: "white-hanging-heart-t-light-holder-85123a",
          name: "WHITE HANGING HEART T-LIGHT HOLDER",
          status: "ACTIVE",
          price: { amount: 255, currencyCode: "GBP" },
          category: { id: categoryId, slug: "imported", name: "Imported" },
        },
      },
      expect.objectContaining({ sku: "22423", created: true, categoryId }),
      expect.objectContaining({ sku: "POST", created: true, categoryId }),
    ]);
    expect(payload.products[2]?.product.price).toEqual({ amount: 1800, currencyCode: "GBP" });

    // What is stored, read back from MongoDB rather than from the answer.
    const stored = await t.db.products.find({}).sort({ sku: 1 }).toArray();
    expect(stored.map((doc) => [doc.sku, doc.slug, doc.status, doc.categoryId.toHexString()])).toEqual([
      ["22423", "regency-cakestand-3-tier-22423", "ACTIVE", rawId(categoryId)],
      ["85123A", "white-hanging-heart-t-light-holder-85123a", "ACTIVE", rawId(categoryId)],
      ["POST", "postage-post", "ACTIVE", rawId(categoryId)],
    ]);
    expect(stored.map((doc) => doc._id.toHexString()).sort()).toEqual(
      payload.products.map((p) => rawId(p.product.id)).sort(),
    );
    // Searchable like any product: derived fields are written too.
    const found = await t.run(`{ products(filter: { search: "cakestand" }) { edges { node { sku } } } }`);
    expect(found.data).toEqual({ products: { edges: [{ node: { sku: "22423" } }] } });
  });

  it("changes nothing when run again: the same products come back with created false", async () => {
    const batch = [item("R-1"), item("R-2"), item("R-3")];
    const first = await importAs(batch);
    const again = await importAs([...batch.reverse(), item("R-4")]);
    expect(again.products.map((p) => [p.sku, p.created])).toEqual([
      ["R-3", false],
      ["R-2", false],
      ["R-1", false],
      ["R-4", true],
    ]);
    const ids = new Map(first.products.map((p) => [p.sku, p.product.id]));
    for (const p of again.products.slice(0, 3)) expect(p.product.id).toBe(ids.get(p.sku));
    expect(await t.db.products.countDocuments()).toBe(4);
    expect(await t.db.categories.countDocuments({ slug: "imported" })).toBe(1);
  });

  it("returns a product that already had the sku as it is, whatever its category and status", async () => {
    const laptops = await t.run(
      `mutation { createCategory(input: { slug: "laptops", name: "Laptops" }) { category { id } } }`,
      {},
      admin,
    );
    const laptopsId = (laptops.data as { createCategory: { category: { id: string } } }).createCategory
      .category.id;
    const created = await t.run(
      `mutation ($input: CreateProductInput!) { createProduct(input: $input) { product { id } userErrors { code } } }`,
      {
        input: {
          sku: "LAP-1",
          name: "A laptop",
          description: "",
          brand: "Nexus",
          categoryId: laptopsId,
          price: { amount: 99900, currencyCode: "GBP" },
        },
      },
      admin,
    );
    const id = (created.data as { createProduct: { product: { id: string } } }).createProduct.product.id;
    const payload = await importAs([item("lap-1", "Another name", 1), item("NEW-1")]);
    expect(payload.products[0]).toMatchObject({
      sku: "LAP-1",
      created: false,
      categoryId: laptopsId,
      product: {
        id,
        name: "A laptop",
        status: "DRAFT",
        price: { amount: 99900, currencyCode: "GBP" },
        category: { id: laptopsId, slug: "laptops" },
      },
    });
    expect(payload.products[1]).toMatchObject({ sku: "NEW-1", created: true, product: { status: "ACTIVE" } });
    const stored = await t.db.products.findOne({ sku: "LAP-1" });
    expect(stored).toMatchObject({ name: "A laptop", status: "DRAFT", price: { amount: 99900 } });
  });

  it("creates no category when every sku exists already", async () => {
    await importAs([item("C-1")]);
    await t.db.categories.deleteMany({});
    const result = await t.run(
      `mutation ($input: ImportProductsInput!) { importProducts(input: $input) { products { sku created } userErrors { code } } }`,
      { input: { products: [item("C-1")] } },
      admin,
    );
    expect(result.data).toEqual({
      importProducts: { products: [{ sku: "C-1", created: false }], userErrors: [] },
    });
    expect(await t.db.categories.countDocuments()).toBe(0);
  });

  it.each([
    ["an empty sku", item("   "), ["sku"], "INVALID_SKU"],
    ["a sku over 64 characters", item("A".repeat(65)), ["sku"], "INVALID_SKU"],
    ["a sku with spaces", item("BANK CHARGES"), ["sku"], "INVALID_SKU"],
    ["a sku with underscores", item("gift_0001_40"), ["sku"], "INVALID_SKU"],
    ["a sku starting with a dash", item("-12"), ["sku"], "INVALID_SKU"],
    ["an empty name", item("N-1", "  "), ["name"], "INVALID_NAME"],
    ["a name over 200 characters", item("N-1", "x".repeat(201)), ["name"], "INVALID_NAME"],
    ["a negative price", item("N-1", "Name", -1), ["price", "amount"], "NEGATIVE_PRICE"],
    ["a made-up currency", item("N-1", "Name", 1, "ABC"), ["price", "currencyCode"], "INVALID_CURRENCY"],
    [
      "a currency that is not a code",
      item("N-1", "Name", 1, "pounds"),
      ["price", "currencyCode"],
      "INVALID_CURRENCY",
    ],
    ["an empty currency", item("N-1", "Name", 1, ""), ["price", "currencyCode"], "INVALID_CURRENCY"],
    [
      "a price in another currency than the store's",
      item("N-1", "Name", 1, "USD"),
      ["price", "currencyCode"],
      "UNSUPPORTED_CURRENCY",
    ],
  ])("refuses %s, writing nothing", async (_label, bad, field, code) => {
    const payload = await importAs([item("OK-1"), bad]);
    expect(payload).toEqual({
      products: [],
      userErrors: [{ field: ["input", "products", "1", ...field], code, message: expect.any(String) }],
    });
    expect(await t.db.products.countDocuments()).toBe(0);
    expect(await t.db.categories.countDocuments()).toBe(0);
  });

  it("refuses a sku given twice in one call, in any case, and reports every error at once", async () => {
    const payload = await importAs([item("D-1"), item("d-1 "), item("", ""), item("D-2", "Name", -5)]);
    expect(payload.userErrors.map((e) => [e.field?.join("."), e.code])).toEqual([
      ["input.products.1.sku", "DUPLICATE_SKU"],
      ["input.products.2.sku", "INVALID_SKU"],
      ["input.products.2.name", "INVALID_NAME"],
      ["input.products.3.price.amount", "NEGATIVE_PRICE"],
    ]);
    expect(await t.db.products.countDocuments()).toBe(0);
  });

  it("refuses more than 500 products in one call", async () => {
    const products = Array.from({ length: 501 }, (_, i) => item(`M-${i}`));
    const payload = await importAs(products);
    expect(payload.userErrors).toEqual([
      { field: ["input", "products"], code: "TOO_MANY_PRODUCTS", message: "At most 500 products per call." },
    ]);
    expect(await t.db.products.countDocuments()).toBe(0);
    const exactly = await importAs(products.slice(0, 500));
    expect(exactly.products).toHaveLength(500);
  });

  it("refuses a price that is not an integer before anything runs", async () => {
    const result = await t.run(IMPORT, { input: { products: [item("F-1", "Name", 2.5)] } }, admin);
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(await t.db.products.countDocuments()).toBe(0);
  });

  it("accepts an empty list and writes nothing", async () => {
    expect(await importAs([])).toEqual({ products: [], userErrors: [] });
    expect(await t.db.categories.countDocuments()).toBe(0);
  });

  it("gives skus whose slugs would clash a distinct slug", async () => {
    const payload = await importAs([item("AB-1", "Same"), item("AB--1", "Same")]);
    expect(payload.userErrors).toEqual([]);
    const slugs = payload.products.map((p) => p.product.slug);
    expect(slugs[0]).toBe("same-ab-1");
    expect(slugs[1]).toMatch(/^same-ab-1-[0-9a-f]{8}$/);
    expect(new Set((await t.db.products.find({}).toArray()).map((doc) => doc.slug)).size).toBe(2);
  });

  it("suffixes a slug another product holds, and still inserts the rest of the batch", async () => {
    const category = await t.run(
      `mutation { createCategory(input: { slug: "misc", name: "Misc" }) { category { id } } }`,
      {},
      admin,
    );
    const categoryId = (category.data as { createCategory: { category: { id: string } } }).createCategory
      .category.id;
    const holder = await t.run(
      `mutation ($input: CreateProductInput!) { createProduct(input: $input) { userErrors { code } } }`,
      {
        input: {
          sku: "OTHER-1",
          slug: "same-ab-9",
          name: "Other",
          description: "",
          brand: "Nexus",
          categoryId,
          price: { amount: 1, currencyCode: "GBP" },
        },
      },
      admin,
    );
    expect(holder.data).toEqual({ createProduct: { userErrors: [] } });
    t.mongo.commands.length = 0;
    const payload = await importAs([item("OK-8"), item("AB-9", "Same"), item("OK-9")]);
    expect(payload.userErrors).toEqual([]);
    expect(payload.products.map((p) => [p.sku, p.created])).toEqual([
      ["OK-8", true],
      ["AB-9", true],
      ["OK-9", true],
    ]);
    expect(payload.products[1]?.product.slug).toMatch(/^same-ab-9-[0-9a-f]{8}$/);
    expect(t.count("insert", "products")).toBe(2);
    const stored = await t.db.products.find({ sku: { $in: ["OK-8", "AB-9", "OK-9"] } }).toArray();
    expect(stored.map((doc) => doc._id.toHexString()).sort()).toEqual(
      payload.products.map((p) => rawId(p.product.id)).sort(),
    );
  });

  it("keeps the sku whole in the slug of a long name", () => {
    const slug = importedSlug("word ".repeat(60), "SKU-12345");
    expect(slug.length).toBeLessThanOrEqual(120);
    expect(slug).toMatch(/^word(-word)+-sku-12345$/);
    expect(importedSlug("???", "X1")).toBe("x1");
  });

  it("lets concurrent imports of the same skus create each product and the category once", async () => {
    const batch = Array.from({ length: 50 }, (_, i) => item(`CC-${i}`));
    const results = await Promise.all([importAs(batch), importAs([...batch].reverse()), importAs(batch)]);
    for (const payload of results) {
      expect(payload.userErrors).toEqual([]);
      expect(payload.products).toHaveLength(50);
    }
    const createdCount = results.flatMap((r) => r.products).filter((p) => p.created).length;
    expect(createdCount).toBe(50);
    const ids = (payload: ImportPayload) =>
      Object.fromEntries(payload.products.map((p) => [p.sku, p.product.id]));
    expect(ids(results[1] as ImportPayload)).toEqual(ids(results[0] as ImportPayload));
    expect(ids(results[2] as ImportPayload)).toEqual(ids(results[0] as ImportPayload));
    expect(await t.db.products.countDocuments()).toBe(50);
    expect(await t.db.categories.countDocuments({ slug: "imported" })).toBe(1);
  });

  it("lets concurrent imports of overlapping batches create each product once", async () => {
    const skus = Array.from({ length: 75 }, (_, i) => `OV-${i}`);
    const [a, b] = await Promise.all([
      importAs(skus.slice(0, 50).map((sku) => item(sku))),
      importAs(skus.slice(25).map((sku) => item(sku))),
    ]);
    const created = [...(a?.products ?? []), ...(b?.products ?? [])]
      .filter((p) => p.created)
      .map((p) => p.sku);
    expect(created.sort()).toEqual([...skus].sort());
    const idOf = new Map(a?.products.map((p) => [p.sku, p.product.id]));
    for (const p of b?.products ?? []) if (idOf.has(p.sku)) expect(p.product.id).toBe(idOf.get(p.sku));
    expect(await t.db.products.countDocuments()).toBe(75);
  });

  it("imports 3,700 products in batches of 500 in seconds, with one find and one insert per batch", async () => {
    const all = Array.from({ length: 3700 }, (_, i) =>
      item(`P${String(i).padStart(5, "0")}`, `Imported product number ${i}`, 100 + i),
    );
    t.mongo.commands.length = 0;
    const started = performance.now();
    for (let i = 0; i < all.length; i += 500) {
      const payload = await importAs(all.slice(i, i + 500));
      expect(payload.products.filter((p) => p.created)).toHaveLength(Math.min(500, all.length - i));
    }
    const elapsed = performance.now() - started;
    expect(t.count("insert", "products")).toBe(8);
    // One find per batch for the skus, one for the search index to read what was inserted.
    expect(t.count("find", "products")).toBe(16);
    const againStarted = performance.now();
    for (let i = 0; i < all.length; i += 500) {
      const payload = await importAs(all.slice(i, i + 500));
      expect(payload.products.every((p) => !p.created)).toBe(true);
    }
    const again = performance.now() - againStarted;
    console.log(
      `importProducts: 3,700 products in 8 batches: ${Math.round(elapsed)} ms; re-run: ${Math.round(again)} ms`,
    );
    expect(elapsed).toBeLessThan(20_000);
    expect(await t.db.products.countDocuments()).toBe(3700);
    expect(await t.db.products.countDocuments({ status: "ACTIVE" })).toBe(3700);
    const sample = await t.db.products.findOne({ sku: "P01234" });
    expect(sample).toMatchObject({ name: "Imported product number 1234", price: { amount: 1334 } });
  }, 60_000);
});

describe("product(sku:)", () => {
  const BY_SKU = `query ($sku: String, $id: ID, $slug: String) { product(sku: $sku, id: $id, slug: $slug) { id sku status } }`;

  it("finds a product by sku in any case, with the same visibility rule as id and slug", async () => {
    const [active] = (await importAs([item("VIS-1")])).products;
    expect((await t.run(BY_SKU, { sku: " vis-1 " })).data).toEqual({
      product: { id: active?.product.id, sku: "VIS-1", status: "ACTIVE" },
    });
    expect((await t.run(BY_SKU, { sku: "NOPE-1" })).data).toEqual({ product: null });
    // A sku is only ever an operand: an operator-shaped string matches nothing.
    expect((await t.run(BY_SKU, { sku: '{"$gt": ""}' })).data).toEqual({ product: null });

    await t.db.products.updateOne({ sku: "VIS-1" }, { $set: { status: "DRAFT" } });
    const shopper = await t.run(BY_SKU, { sku: "VIS-1" });
    expect(shopper.errors).toBeUndefined();
    expect(shopper.data).toEqual({ product: null });
    const editor = await t.run(BY_SKU, { sku: "VIS-1" }, await bearerWith(["catalog:write"]));
    expect(editor.data).toEqual({ product: { id: active?.product.id, sku: "VIS-1", status: "DRAFT" } });
  });

  it("needs exactly one of id, slug and sku", async () => {
    const [imported] = (await importAs([item("ONE-1")])).products;
    for (const variables of [
      {},
      { sku: "ONE-1", id: imported?.product.id },
      { sku: "ONE-1", slug: imported?.product.slug },
      { sku: "ONE-1", id: imported?.product.id, slug: imported?.product.slug },
    ]) {
      const result = await t.run(BY_SKU, variables);
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
    expect((await t.run(BY_SKU, { slug: imported?.product.slug })).data).toEqual({
      product: { id: imported?.product.id, sku: "ONE-1", status: "ACTIVE" },
    });
  });
});

describe("_entities", () => {
  it("resolves imported products like any other, hiding one that is no longer ACTIVE", async () => {
    const { products } = await importAs([item("E-1", "Entity one", 500), item("E-2")]);
    const [one, two] = products.map((p) => p.product.id);
    await t.db.products.updateOne({ sku: "E-2" }, { $set: { status: "ARCHIVED" } });
    const result = await t.run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id sku name price { amount currencyCode } category { slug } } } }`,
      {
        reps: [
          { __typename: "Product", id: one },
          { __typename: "Product", id: two },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      _entities: [
        {
          id: one,
          sku: "E-1",
          name: "Entity one",
          price: { amount: 500, currencyCode: "GBP" },
          category: { slug: "imported" },
        },
        null,
      ],
    });
  });
});
