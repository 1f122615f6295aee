/**
 * `pnpm bench`: faceted search and `_entities` for 50 ids against the seeded demo catalog,
 * through the whole subgraph (executeOperation), with p50/p95 latency, MongoDB commands per
 * request and the product cache hit rate printed after the run.
 */

import { afterAll, beforeAll, test } from "vitest";
import { demoProducts } from "../db/demo.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";

let t: TestEnv;
const ids = demoProducts()
  .filter((_, i) => i % 21 === 0)
  .slice(0, 50)
  .map((p) => ({ __typename: "Product", id: p.id }));
const samples: Record<string, { ms: number[]; commands: number[] }> = {};

async function measure(name: string, query: string, variables: Record<string, unknown>) {
  const sample = samples[name] ?? { ms: [], commands: [] };
  samples[name] = sample;
  t.mongo.commands.length = 0;
  const start = performance.now();
  const result = await t.run(query, variables);
  sample.ms.push(performance.now() - start);
  sample.commands.push(t.mongo.commands.length);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

const FACETED = `query ($filter: ProductFilter) { products(filter: $filter, first: 24, sort: PRICE_ASC) {
  totalCount edges { node { id name price { amount } rating { average count } } }
  facets { attributes { name values { value count } } brands { value count } categories { category { slug } count } priceRange { min { amount } max { amount } } } } }`;
const SEARCH = `query ($filter: ProductFilter) { products(filter: $filter, first: 24) {
  totalCount edges { node { id name } } facets { brands { value count } } } }`;
const ENTITIES = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id name price { amount } } } }`;

beforeAll(async () => {
  t = await createTestEnv("catalog_bench", { seed: true });
});

afterAll(async () => {
  const rows = Object.entries(samples).map(([name, s]) => ({
    name,
    requests: s.ms.length,
    p50ms: Number(percentile(s.ms, 50).toFixed(2)),
    p95ms: Number(percentile(s.ms, 95).toFixed(2)),
    mongoCommandsPerRequest: Number((s.commands.reduce((a, b) => a + b, 0) / s.commands.length).toFixed(2)),
  }));
  const { hits, misses } = t.cache.stats();
  console.table(rows);
  console.log(
    `product cache: ${hits} hits, ${misses} misses, hit rate ${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)}%`,
  );
  await t.close();
});

test("catalog hot paths on the seeded demo catalog", async ({ bench }) => {
  await bench.compare(
    bench("faceted listing: electronics, ram in [16GB, 32GB], max price", async () => {
      await measure("faceted listing", FACETED, {
        filter: {
          categorySlug: "electronics",
          attributes: [{ name: "ram", values: ["16GB", "32GB"] }],
          maxPrice: 250000,
        },
      });
    }),
    bench("keyword search with facets: 'black cotton tee'", async () => {
      await measure("keyword search", SEARCH, { filter: { search: "black cotton tee" } });
    }),
    bench("_entities for 50 product ids (Redis read-through cache)", async () => {
      await measure("_entities x50", ENTITIES, { reps: ids });
    }),
    { time: 3000 },
  );
});
