import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { demoProducts } from "./db/demo.ts";
import { createTestEnv, type TestEnv } from "./test-env.ts";

/**
 * The example storefront queries in README.md, run as written against the demo catalog, so the
 * documentation cannot drift from the schema or the data.
 */
let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv("catalog_storefront", { seed: true });
});
afterAll(async () => t?.close());

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const example = (name: string): string => {
  const fence = "`".repeat(3);
  const match = new RegExp(`${fence}graphql\\n(query ${name}[\\s\\S]*?)${fence}`).exec(readme);
  if (!match?.[1]) throw new Error(`README has no query ${name}`);
  return match[1];
};

it("README: a category listing with facets", async () => {
  const result = await t.run(example("StorefrontListing"));
  expect(result.errors).toBeUndefined();
  const products = (
    result.data as {
      products: { totalCount: number; edges: unknown[]; facets: { attributes: { name: string }[] } };
    }
  ).products;
  expect(products.totalCount).toBeGreaterThan(0);
  expect(products.edges.length).toBeGreaterThan(0);
  expect(products.facets.attributes.map((a) => a.name)).toContain("ram");
});

it("README: a product page with reviews", async () => {
  const slug = demoProducts()[0]?.slug;
  expect(readme).toContain(`"slug": "${slug}"`);
  const result = await t.run(example("StorefrontProductPage"), { slug });
  expect(result.errors).toBeUndefined();
  expect(result.data).toMatchObject({ product: { slug, reviews: { edges: expect.any(Array) } } });
});
