import { rawId } from "@nexus/testing";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCategories, demoProducts } from "../db/demo.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";

// A store that sells in yen: no minor unit, so every amount is whole yen.
let t: TestEnv;
let admin: string;
const LAPTOPS = demoCategories().find((c) => c.slug === "laptops")?.id ?? "";
const SEEDED = demoProducts();

beforeAll(async () => {
  t = await createTestEnv("catalog_currency", { seed: true, storeCurrency: "JPY" });
  admin = await t.auth.bearer("admin-1", "ADMIN");
});
afterAll(async () => t?.close());

const CREATE = `mutation ($input: CreateProductInput!) {
  createProduct(input: $input) { product { id price { amount currencyCode } } userErrors { field code message } }
}`;
const UPDATE = `mutation ($input: UpdateProductInput!) {
  updateProduct(input: $input) {
    product { name price { amount currencyCode } compareAtPrice { amount currencyCode } }
    userErrors { field code }
  }
}`;
const IMPORT = `mutation ($input: ImportProductsInput!) {
  importProducts(input: $input) { products { sku product { price { amount currencyCode } } } userErrors { field code } }
}`;

const laptop = (sku: string, currencyCode: string) => ({
  sku,
  name: `Laptop ${sku}`,
  description: "",
  brand: "Nexus",
  categoryId: LAPTOPS,
  price: { amount: 149800, currencyCode },
});

describe("a store priced in JPY", () => {
  it("seeds the demo catalog in yen, the demo's amounts as whole yen", async () => {
    const first = SEEDED[0];
    if (!first) throw new Error("no demo products");
    const result = await t.run(`query ($id: ID!) { product(id: $id) { price { amount currencyCode } } }`, {
      id: first.id,
    });
    expect(result.data).toEqual({ product: { price: { amount: first.price, currencyCode: "JPY" } } });
    expect(await t.db.products.countDocuments({ "price.currencyCode": { $ne: "JPY" } })).toBe(0);
  });

  it("creates a product priced in yen and stores whole yen", async () => {
    const result = await t.run(CREATE, { input: laptop("YEN-1", "JPY") }, admin);
    expect(result.data).toEqual({
      createProduct: {
        product: { id: expect.any(String), price: { amount: 149800, currencyCode: "JPY" } },
        userErrors: [],
      },
    });
    expect(await t.db.products.findOne({ sku: "YEN-1" })).toMatchObject({
      price: { amount: 149800, currencyCode: "JPY" },
    });
  });

  it("refuses a price or a compare-at price in another currency, writing nothing", async () => {
    const inDollars = await t.run(CREATE, { input: laptop("USD-1", "USD") }, admin);
    expect(inDollars.data).toEqual({
      createProduct: {
        product: null,
        userErrors: [
          {
            field: ["input", "price", "currencyCode"],
            code: "UNSUPPORTED_CURRENCY",
            message: "The store sells in JPY only; give price in JPY, in its minor units.",
          },
        ],
      },
    });
    const compareAt = await t.run(
      CREATE,
      { input: { ...laptop("USD-2", "JPY"), compareAtPrice: { amount: 199800, currencyCode: "EUR" } } },
      admin,
    );
    expect(compareAt.data).toMatchObject({
      createProduct: {
        product: null,
        userErrors: [{ field: ["input", "compareAtPrice", "currencyCode"], code: "UNSUPPORTED_CURRENCY" }],
      },
    });
    expect(await t.db.products.countDocuments({ sku: { $in: ["USD-1", "USD-2"] } })).toBe(0);
  });

  it("refuses an import in another currency and takes one in yen", async () => {
    const refused = await t.run(
      IMPORT,
      {
        input: {
          products: [{ sku: "IMP-1", name: "Imported", price: { amount: 500, currencyCode: "USD" } }],
        },
      },
      admin,
    );
    expect(refused.data).toEqual({
      importProducts: {
        products: [],
        userErrors: [
          { field: ["input", "products", "0", "price", "currencyCode"], code: "UNSUPPORTED_CURRENCY" },
        ],
      },
    });
    expect(await t.db.products.countDocuments({ sku: "IMP-1" })).toBe(0);
    const taken = await t.run(
      IMPORT,
      {
        input: {
          products: [{ sku: "IMP-1", name: "Imported", price: { amount: 500, currencyCode: "JPY" } }],
        },
      },
      admin,
    );
    expect(taken.data).toEqual({
      importProducts: {
        products: [{ sku: "IMP-1", product: { price: { amount: 500, currencyCode: "JPY" } } }],
        userErrors: [],
      },
    });
  });

  describe("a product priced before the store currency changed", () => {
    let id: string;

    beforeAll(async () => {
      const created = await t.run(CREATE, { input: laptop("OLD-1", "JPY") }, admin);
      id = rawId((created.data as { createProduct: { product: { id: string } } }).createProduct.product.id);
      // As a USD store left it: the catalog never rewrites stored prices.
      await t.db.products.updateOne(
        { _id: new ObjectId(id) },
        {
          $set: {
            price: { amount: 1999, currencyCode: "USD" },
            compareAtPrice: { amount: 2499, currencyCode: "USD" },
          },
        },
      );
      await t.cache.invalidate([id]);
    });

    it("keeps its prices through an update that sets none", async () => {
      const result = await t.run(UPDATE, { input: { id, name: "Renamed" } }, admin);
      expect(result.data).toEqual({
        updateProduct: {
          product: {
            name: "Renamed",
            price: { amount: 1999, currencyCode: "USD" },
            compareAtPrice: { amount: 2499, currencyCode: "USD" },
          },
          userErrors: [],
        },
      });
    });

    it("is repriced only wholly in the store currency", async () => {
      const dollars = await t.run(
        UPDATE,
        { input: { id, price: { amount: 1899, currencyCode: "USD" } } },
        admin,
      );
      expect(dollars.data).toMatchObject({
        updateProduct: {
          product: null,
          userErrors: [
            { field: ["input", "price", "currencyCode"], code: "UNSUPPORTED_CURRENCY" },
            { field: ["input", "compareAtPrice", "currencyCode"], code: "UNSUPPORTED_CURRENCY" },
          ],
        },
      });
      const halfway = await t.run(
        UPDATE,
        { input: { id, price: { amount: 2980, currencyCode: "JPY" } } },
        admin,
      );
      expect(halfway.data).toMatchObject({
        updateProduct: {
          product: null,
          userErrors: [{ field: ["input", "compareAtPrice", "currencyCode"], code: "UNSUPPORTED_CURRENCY" }],
        },
      });
      expect(await t.db.products.findOne({ _id: new ObjectId(id) })).toMatchObject({
        price: { amount: 1999, currencyCode: "USD" },
      });
      const repriced = await t.run(
        UPDATE,
        { input: { id, price: { amount: 2980, currencyCode: "JPY" }, clearCompareAtPrice: true } },
        admin,
      );
      expect(repriced.data).toEqual({
        updateProduct: {
          product: { name: "Renamed", price: { amount: 2980, currencyCode: "JPY" }, compareAtPrice: null },
          userErrors: [],
        },
      });
    });
  });
});
