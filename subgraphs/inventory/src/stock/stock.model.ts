import type { StockLevelRow } from "./stock.repository.ts";

/** What InventoryLevel resolvers receive: a stock row seen through the store's rules. */
export interface InventoryLevelModel {
  productId: string;
  available: number;
  inStock: boolean;
  lowStock: boolean;
  onHand: number;
  reserved: number;
  lowStockThreshold: number;
}

/** Units that can still be promised to an order. */
export const availableUnits = (row: Pick<StockLevelRow, "on_hand" | "reserved">): number =>
  Math.max(0, row.on_hand - row.reserved);

/** `defaultThreshold` applies to products without a threshold of their own (LOW_STOCK_THRESHOLD). */
export function toInventoryLevelModel(row: StockLevelRow, defaultThreshold: number): InventoryLevelModel {
  const available = availableUnits(row);
  const lowStockThreshold = row.low_stock_threshold ?? defaultThreshold;
  return {
    productId: row.product_id,
    available,
    inStock: available > 0,
    lowStock: available <= lowStockThreshold,
    onHand: row.on_hand,
    reserved: row.reserved,
    lowStockThreshold,
  };
}

/** A product inventory has never stocked: nothing to sell, which is not an error. */
export const noInventoryLevel = (productId: string, defaultThreshold: number): InventoryLevelModel => ({
  productId,
  available: 0,
  inStock: false,
  lowStock: true,
  onHand: 0,
  reserved: 0,
  lowStockThreshold: defaultThreshold,
});
