import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { findForecastRows } from "./forecast.repository.ts";
import { buildHistories, type ProductHistory } from "./history.model.ts";

export interface ForecastLoaders {
  /** A product's weekly history and seasonal shape; null when it never sold. */
  productHistory: DataLoader<string, ProductHistory | null>;
}

export function createForecastLoaders(deps: { db: Kysely<Database> }): ForecastLoaders {
  return {
    productHistory: new DataLoader(async (productIds) => {
      const histories = buildHistories(await findForecastRows(deps.db, productIds, null));
      return productIds.map((id) => histories.get(id) ?? null);
    }),
  };
}
