import { isUuid } from "@nexus/core";
import DataLoader from "dataloader";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { toWishlistItemModel, type WishlistItemModel } from "./wishlist.model.ts";
import {
  countWishlistItemsByCustomerIds,
  findWishlistPages,
  type WishlistPageRequest,
} from "./wishlist.repository.ts";

export type { WishlistKey, WishlistPageRequest } from "./wishlist.repository.ts";

const pageKey = (request: WishlistPageRequest): string =>
  JSON.stringify([
    request.customerId,
    request.after?.addedAt.toISOString(),
    request.after?.productId,
    request.limit,
  ]);

export function createWishlistLoaders(db: Kysely<Database>) {
  return {
    /** Pages of several customers' wishlists (e.g. staff's `_entities` over many users) in one query. */
    wishlistPage: new DataLoader<WishlistPageRequest, WishlistItemModel[], string>(
      async (requests) => {
        const pages = requests.map((): WishlistItemModel[] => []);
        for (const row of await findWishlistPages(db, requests))
          pages[row.request]?.push(toWishlistItemModel(row));
        return pages;
      },
      { cacheKeyFn: pageKey },
    ),

    wishlistCountByCustomerId: new DataLoader<string, number>(async (customerIds) => {
      const counts = await countWishlistItemsByCustomerIds(db, customerIds.filter(isUuid));
      const byCustomer = new Map(counts.map((row) => [row.customerId, row.count]));
      return customerIds.map((id) => byCustomer.get(id) ?? 0);
    }),
  };
}

export type WishlistLoaders = ReturnType<typeof createWishlistLoaders>;
