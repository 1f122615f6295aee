import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { CatalogClient } from "./catalog.client.ts";
import type { Neighbour, ProductStats } from "./recommendations.model.ts";
import { findNeighbours, findPopularity } from "./recommendations.repository.ts";

export interface RecommendationLoaders {
  /** A product's stored co-purchase neighbours, strongest first: one query per batch. */
  neighbours: DataLoader<string, Neighbour[]>;
  /** A product's orders and share of recent orders; null when it never sold: one query per batch. */
  productStats: DataLoader<string, ProductStats | null>;
  /** Whether the catalog sells the product now: one catalog request per batch (and its cache). */
  activeProduct: DataLoader<string, boolean>;
}

export function createRecommendationLoaders(
  deps: { db: Kysely<Database>; catalog: CatalogClient },
  requestId: string,
): RecommendationLoaders {
  return {
    neighbours: new DataLoader(async (productIds) => {
      const byProduct = new Map<string, Neighbour[]>();
      for (const row of await findNeighbours(deps.db, productIds)) {
        const list = byProduct.get(row.product_id) ?? [];
        list.push({ productId: row.neighbour_id, score: row.score });
        byProduct.set(row.product_id, list);
      }
      return productIds.map((id) => byProduct.get(id) ?? []);
    }),
    productStats: new DataLoader(async (productIds) => {
      const rows = new Map((await findPopularity(deps.db, productIds)).map((row) => [row.product_id, row]));
      return productIds.map((id) => {
        const row = rows.get(id);
        return row ? { orders: row.orders, share: row.share } : null;
      });
    }),
    activeProduct: new DataLoader(async (productIds) => {
      const active = await deps.catalog.findActiveIds(productIds, { requestId });
      return productIds.map((id) => active.has(id));
    }),
  };
}
