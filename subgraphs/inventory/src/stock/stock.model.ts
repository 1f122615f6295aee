import type { StockLevelRow } from "./stock.repository.ts";

/** What InventoryLevel resolvers receive: the sellable view of a stock row. */
export interface InventoryLevelModel {
  productId: string;
  available: number;
  inStock: boolean;
}

/** Units that can still be promised to an order. */
export const availableUnits = (row: Pick<StockLevelRow, "on_hand" | "reserved">): number =>
  Math.max(0, row.on_hand - row.reserved);

export function toInventoryLevelModel(row: StockLevelRow): InventoryLevelModel {
  const available = availableUnits(row);
  return { productId: row.product_id, available, inStock: available > 0 };
}

/** A product inventory has never stocked: nothing to sell, which is not an error. */
export const noInventoryLevel = (productId: string): InventoryLevelModel => ({
  productId,
  available: 0,
  inStock: false,
});
