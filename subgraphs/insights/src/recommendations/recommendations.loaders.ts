import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { CatalogClient } from "./catalog.client.ts";
import type { Neighbour } from "./recommendations.model.ts";
import { findNeighbours } from "./recommendations.repository.ts";

export interface RecommendationLoaders {
  /** A product's stored co-purchase neighbours, strongest first: one query per batch. */
  neighbours: DataLoader<string, Neighbour[]>;
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
    activeProduct: new DataLoader(async (productIds) => {
      const active = await deps.catalog.findActiveIds(productIds, { requestId });
      return productIds.map((id) => active.has(id));
    }),
  };
}
