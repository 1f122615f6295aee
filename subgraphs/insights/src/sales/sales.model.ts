import type { ProductSalesRow } from "./sales.repository.ts";

/** What ProductSales resolvers receive; `product` becomes a stub the gateway completes from catalog. */
export interface ProductSalesModel {
  productId: string;
  unitsSold: number;
  orderCount: number;
}

export const toProductSalesModel = (row: ProductSalesRow): ProductSalesModel => ({
  productId: row.product_id,
  unitsSold: row.units_sold,
  orderCount: row.order_count,
});
