import type { StockLevelRow, StockMovementRow } from "./stock.repository.ts";

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

/** What StockMovement resolvers receive: one ledger row as staff read it. */
export interface StockMovementModel {
  id: string;
  reason: StockMovementRow["reason"];
  onHandDelta: number;
  reservedDelta: number;
  orderId: string | null;
  actorId: string | null;
  note: string | null;
  at: Date;
}

export const toStockMovementModel = (row: StockMovementRow): StockMovementModel => ({
  id: String(row.id),
  reason: row.reason,
  onHandDelta: row.on_hand_delta,
  reservedDelta: row.reserved_delta,
  orderId: row.order_id,
  actorId: row.actor_id,
  note: row.note,
  at: row.created_at,
});
