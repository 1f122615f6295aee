/**
 * What the per-request DataLoader buys on the hottest catalog path: the gateway asking for
 * the products of a 20-line order. Batched = one `find` with `$in`; naive = one `find` per id.
 */
import { createLogger } from "@nexus/core";
import { demoProducts } from "@nexus/demo";
import { createTestMongo, type TestMongo } from "@nexus/testing";
import { afterAll, beforeAll, test } from "vitest";
import { type CatalogDb, createCatalogDb, ensureIndexes } from "../db/collections.ts";
import { seedDemoData } from "../db/seed.ts";
import { createProductLoaders } from "./product.loaders.ts";
import { findProductsByIds } from "./product.repository.ts";

let mongo: TestMongo;
let db: CatalogDb;
const ids = demoProducts()
  .filter((_, i) => i % 12 === 0)
  .map((p) => p.id);

beforeAll(async () => {
  mongo = await createTestMongo("catalog_bench");
  db = createCatalogDb(mongo.db);
  await ensureIndexes(db);
  await seedDemoData(db, createLogger("bench", "silent"));
});

afterAll(async () => {
  await mongo.close();
});

test(`resolve ${ids.length} product references`, async ({ bench }) => {
  await bench.compare(
    bench("batched through productById (1 query)", async () => {
      const { productById } = createProductLoaders(db);
      await Promise.all(ids.map((id) => productById.load(id)));
    }),
    bench("one query per reference (what the loader prevents)", async () => {
      await Promise.all(ids.map((id) => findProductsByIds(db, [id])));
    }),
    { time: 2000 },
  );
});
