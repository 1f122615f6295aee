import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { findForecastRows } from "./forecast.repository.ts";
import { buildHistories, type ProductHistory } from "./history.model.ts";

export interface ForecastLoaders {
  /** A product's weekly history and seasonal shape (empty when it never sold); null when the store never sold. */
  productHistory: DataLoader<string, ProductHistory | null>;
}

export function createForecastLoaders(deps: { db: Kysely<Database> }): ForecastLoaders {
  return {
    productHistory: new DataLoader(async (productIds) => {
      const rows = await findForecastRows(deps.db, productIds, null);
      const histories = buildHistories(rows);
      // A product that never sold gets an empty history from the store's forecast week on.
      return productIds.map(
        (id) =>
          histories.get(id) ??
          (rows.end === null
            ? null
            : {
                origin: rows.end,
                firstWeek: rows.end,
                series: [],
                seasonal: null,
                categorySeasonality: false,
              }),
      );
    }),
  };
}
