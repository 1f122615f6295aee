import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type InventoryLevelModel, noInventoryLevel, toInventoryLevelModel } from "./stock.model.ts";
import { findStockLevelsByProductIds } from "./stock.repository.ts";

export interface StockLoaderOptions {
  /** LOW_STOCK_THRESHOLD: the threshold of products without one of their own. */
  lowStockThreshold: number;
}

export function createStockLoaders(db: Kysely<Database>, { lowStockThreshold }: StockLoaderOptions) {
  return {
    stockByProductId: new DataLoader<string, InventoryLevelModel>(async (productIds) => {
      const rows = await findStockLevelsByProductIds(db, productIds);
      const byId = new Map(
        rows.map((row) => [row.product_id, toInventoryLevelModel(row, lowStockThreshold)]),
      );
      return productIds.map((id) => byId.get(id) ?? noInventoryLevel(id, lowStockThreshold));
    }),
  };
}

export type StockLoaders = ReturnType<typeof createStockLoaders>;
