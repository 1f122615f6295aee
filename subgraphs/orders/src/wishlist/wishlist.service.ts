import { isObjectIdHex, isUuid, type Logger, userError } from "@nexus/core";
import { appendManyToOutbox } from "@nexus/events";
import { GraphQLError } from "graphql";
import type { Kysely, Transaction } from "kysely";
import type { CatalogLoaders } from "../cart/cart.loaders.ts";
import {
  type CatalogClient,
  type CatalogProduct,
  CatalogUnavailableError,
} from "../catalog/catalog.client.ts";
import type { Database } from "../db/database.ts";
import type { UserError } from "../user-error.ts";
import { toWishlistItemModel, type WishlistItemModel } from "./wishlist.model.ts";
import {
  countWishlistItems,
  deleteWishlistItem,
  deleteWishlistOf,
  findWishlistItem,
  insertWishlistItem,
  lockCustomersToNotify,
  lockWishlist,
  markNotified,
} from "./wishlist.repository.ts";

/** A wishlist is a list to come back to, not a catalog export; this bounds one customer's rows. */
export const MAX_WISHLIST_ITEMS = 200;
/** A product whose stock flickers in and out is announced to one customer at most this often. */
export const BACK_IN_STOCK_NOTICE_HOURS = 24;

/** What changing a wishlist needs: the database and this request's catalog loader (is it for sale?). */
export interface WishlistDeps {
  db: Kysely<Database>;
  loaders: Pick<CatalogLoaders, "catalogProductById">;
  logger: Logger;
  requestId: string;
}

export type AddToWishlistResult =
  | { ok: true; item: WishlistItemModel }
  | { ok: false; userErrors: UserError[] };

/** Catalog ids are ObjectIds, matched in any case and stored in lower case, as in the cart. */
const normalizeId = (productId: string) => productId.trim().toLowerCase();

const noSuchProduct = () =>
  userError("PRODUCT_NOT_FOUND", "There is no such product for sale.", ["input", "productId"]);

/**
 * Puts a product for sale on the customer's wishlist. Idempotent: a product already there keeps
 * its first `addedAt`. The per-customer lock makes the count and the insert one step, so
 * concurrent adds cannot go past the cap.
 */
export async function addToWishlist(
  deps: WishlistDeps,
  customerId: string,
  input: { productId: string },
): Promise<AddToWishlistResult> {
  const productId = normalizeId(input.productId);
  if (!isObjectIdHex(productId)) return { ok: false, userErrors: [noSuchProduct()] };
  let product: CatalogProduct | null;
  try {
    product = await deps.loaders.catalogProductById.load(productId);
  } catch (error) {
    if (!(error instanceof CatalogUnavailableError)) throw error;
    deps.logger.warn("catalog unavailable; wishlist change refused", { requestId: deps.requestId, error });
    throw new GraphQLError("The catalog is unavailable; the wishlist was not changed.", {
      extensions: { code: "INTERNAL_SERVER_ERROR" },
      originalError: error,
    });
  }
  // DRAFT and ARCHIVED products get the same answer as unknown ids: nothing unpublished can be probed.
  if (!product) return { ok: false, userErrors: [noSuchProduct()] };

  return deps.db.transaction().execute(async (trx): Promise<AddToWishlistResult> => {
    await lockWishlist(trx, customerId);
    const existing = await findWishlistItem(trx, customerId, productId);
    if (existing) return { ok: true, item: toWishlistItemModel(existing) };
    if ((await countWishlistItems(trx, customerId)) >= MAX_WISHLIST_ITEMS) {
      return {
        ok: false,
        userErrors: [
          userError(
            "WISHLIST_FULL",
            `A wishlist holds ${MAX_WISHLIST_ITEMS} products at most; remove one to add another.`,
            ["input", "productId"],
          ),
        ],
      };
    }
    return { ok: true, item: toWishlistItemModel(await insertWishlistItem(trx, customerId, productId)) };
  });
}

/**
 * Takes a product off the wishlist. A product that is not on it is not an error: the customer
 * wants it gone and it is, and a retried removal must not fail.
 */
export async function removeFromWishlist(
  db: Kysely<Database>,
  customerId: string,
  input: { productId: string },
): Promise<{ removed: boolean; userErrors: UserError[] }> {
  const productId = normalizeId(input.productId);
  if (!isObjectIdHex(productId)) {
    return {
      removed: false,
      userErrors: [
        userError("INVALID_PRODUCT_ID", "A product id is 24 hexadecimal characters.", ["input", "productId"]),
      ],
    };
  }
  return { removed: await deleteWishlistItem(db, customerId, productId), userErrors: [] };
}

/** What announcing a product back in stock needs. */
export interface BackInStockDeps {
  catalog: CatalogClient;
  logger: Logger;
}

/**
 * In the consumer's transaction: one WishlistItemBackInStock per customer whose wishlist holds
 * the product and who was not told in the last 24 hours, and their items stamped as told, so a
 * product flickering in and out of stock does not spam. Whether the customer wants the message
 * is the notifications service's business. Returns how many customers it announced.
 *
 * The name comes from the catalog when it answers (null when it cannot). When it answers that
 * the product is not for sale (DRAFT, ARCHIVED, gone), nobody is told and nothing is stamped:
 * a message about a product no one can buy helps no one, and its next return to stock after it
 * is published again is announced as usual.
 */
export async function announceBackInStock(
  deps: BackInStockDeps,
  trx: Transaction<Database>,
  payload: { productId: string },
): Promise<number> {
  const productId = normalizeId(payload.productId);
  if (!isObjectIdHex(productId)) {
    deps.logger.warn("ProductBackInStock names no valid product id; ignored", {
      productId: payload.productId,
    });
    return 0;
  }
  const customerIds = await lockCustomersToNotify(trx, productId, BACK_IN_STOCK_NOTICE_HOURS);
  if (customerIds.length === 0) return 0;

  let productName: string | null = null;
  try {
    const [product] = await deps.catalog.findProductsByIds([productId]);
    if (!product) {
      deps.logger.info("product back in stock is not for sale; wishlists not told", { productId });
      return 0;
    }
    productName = product.name;
  } catch (error) {
    if (!(error instanceof CatalogUnavailableError)) throw error;
    deps.logger.warn("catalog unavailable; back-in-stock announced without the product's name", {
      productId,
      error,
    });
  }

  await markNotified(trx, productId, customerIds);
  await appendManyToOutbox(
    trx,
    customerIds.map((customerId) => ({
      type: "WishlistItemBackInStock" as const,
      aggregateId: customerId,
      payload: { customerId, productId, productName },
    })),
  );
  return customerIds.length;
}

/**
 * In the consumer's transaction: an account was deleted, so its wishlist goes (no one is left to
 * tell when a product returns). Its orders stay, they are the store's records; its Redis cart
 * runs out with the cart TTL and names products only.
 */
export async function forgetWishlistOf(trx: Transaction<Database>, userId: string): Promise<number> {
  if (!isUuid(userId)) return 0;
  return deleteWishlistOf(trx, userId.toLowerCase());
}
