import type { Selectable } from "kysely";
import type { WishlistItemsTable } from "../db/database.ts";

/** What WishlistItem resolvers receive. */
export interface WishlistItemModel {
  customerId: string;
  /** The catalog's product id, lower case. */
  productId: string;
  addedAt: Date;
}

export const toWishlistItemModel = (
  row: Pick<Selectable<WishlistItemsTable>, "customer_id" | "product_id" | "added_at">,
): WishlistItemModel => ({
  customerId: row.customer_id,
  productId: row.product_id,
  addedAt: row.added_at,
});
