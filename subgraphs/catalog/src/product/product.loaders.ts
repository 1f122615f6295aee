import { isObjectIdHex, type Logger } from "@nexus/core";
import DataLoader from "dataloader";
import type { CatalogDb } from "../db/collections.ts";
import type { ProductCache } from "./product.cache.ts";
import { type ProductModel, toProductModel } from "./product.model.ts";
import { findProductsByIds, findProductsBySkus, findProductsBySlugs } from "./product.repository.ts";

/**
 * `productById` serves `product(id)`, `_entities` and `Review.product`: one Redis round trip for
 * the whole batch, then one `$in` find for the ids Redis did not have. A Redis failure is
 * logged and the batch is served from MongoDB, so the cache can never take the catalog down.
 */
export function createProductLoaders(db: CatalogDb, cache: ProductCache | null, logger: Logger) {
  return {
    /** Ids that are not 24-hex ObjectIds cannot exist, so they resolve to null without a query. */
    productById: new DataLoader<string, ProductModel | null>(async (ids) => {
      const wanted = [...new Set(ids.filter(isObjectIdHex).map((id) => id.toLowerCase()))];
      let hits = new Map<string, ProductModel>();
      let generations: Map<string, string> | null = null;
      if (cache) {
        try {
          ({ hits, generations } = await cache.read(wanted));
        } catch (error) {
          logger.warn("product cache read failed; reading MongoDB", { error });
        }
      }
      const missing = wanted.filter((id) => !hits.has(id));
      const loaded = (await findProductsByIds(db, missing)).map(toProductModel);
      if (cache && generations && loaded.length > 0) {
        await cache.fill(loaded, generations).catch((error: unknown) => {
          logger.warn("product cache fill failed", { error });
        });
      }
      const byId = new Map([...hits, ...loaded.map((p) => [p.id, p] as const)]);
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    }),
    /** `product(slug)`: one find for every slug asked in the request, straight from MongoDB. */
    productBySlug: new DataLoader<string, ProductModel | null>(async (slugs) => {
      const bySlug = new Map(
        (await findProductsBySlugs(db, slugs)).map((doc) => [doc.slug, toProductModel(doc)]),
      );
      return slugs.map((slug) => bySlug.get(slug) ?? null);
    }),
    /** `product(sku)`: keys are stored skus (trimmed, upper-case); one find for the request. */
    productBySku: new DataLoader<string, ProductModel | null>(async (skus) => {
      const bySku = new Map(
        (await findProductsBySkus(db, skus)).map((doc) => [doc.sku, toProductModel(doc)]),
      );
      return skus.map((sku) => bySku.get(sku) ?? null);
    }),
  };
}

export type ProductLoaders = ReturnType<typeof createProductLoaders>;
