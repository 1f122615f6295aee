import { isObjectIdHex, type Logger, type UserError, userError, type Viewer } from "@nexus/core";
import { appendToOutbox, type EventPayloads, type OutboxRelay } from "@nexus/events";
import { GraphQLError } from "graphql";
import type { Kysely } from "kysely";
import type { CatalogProduct } from "../catalog/catalog.client.ts";
import { CatalogUnavailableError } from "../catalog/catalog.client.ts";
import type { Database } from "../db/database.ts";
import type { CatalogLoaders } from "./cart.loaders.ts";
import type { CartModel } from "./cart.model.ts";
import type { CartChange, CartStore } from "./cart.store.ts";

/**
 * What changing a cart needs: the cart store, this request's catalog loader (one `_entities`
 * call for every product the request needs), the database and relay of the outbox that
 * announces each change (CartUpdated), and the logger with the request's id.
 */
export interface CartDeps extends CartEventDeps {
  carts: CartStore;
  loaders: Pick<CatalogLoaders, "catalogProductById">;
  requestId: string;
}

/** What announcing a cart change needs. */
export interface CartEventDeps {
  db: Kysely<Database>;
  relay: Pick<OutboxRelay, "flush">;
  logger: Logger;
}

export const MAX_CART_QUANTITY = 99;
export const MAX_CART_LINES = 50;

export type CartResult = { cart: CartModel; userErrors: UserError[] };

const quantityError = (quantity: number): UserError | null =>
  Number.isInteger(quantity) && quantity >= 1 && quantity <= MAX_CART_QUANTITY
    ? null
    : userError("INVALID_QUANTITY", `Quantities must be between 1 and ${MAX_CART_QUANTITY}.`, [
        "input",
        "quantity",
      ]);

const noSuchProduct = () =>
  userError("PRODUCT_NOT_FOUND", "There is no such product for sale.", ["input", "productId"]);
const noSuchLine = () =>
  userError("LINE_NOT_FOUND", "The cart has no line for this product.", ["input", "productId"]);

/** Catalog ids are ObjectIds, matched in any case and stored in lower case. */
const normalizeId = (productId: string) => productId.trim().toLowerCase();

/** The customer's cart as it is now. */
export async function getCart(deps: Pick<CartDeps, "carts">, customerId: string): Promise<CartModel> {
  return deps.carts.get(customerId);
}

async function answer(
  deps: Pick<CartDeps, "carts">,
  customerId: string,
  userErrors: UserError[],
): Promise<CartResult> {
  return { cart: await deps.carts.get(customerId), userErrors };
}

/** The cart after a change that went through, which is announced before it is returned. */
async function changed(deps: CartDeps, customerId: string): Promise<CartResult> {
  const cart = await deps.carts.get(customerId);
  const prices = await cartPrices(deps, cart);
  await recordCartChange(deps, cart, prices);
  return { cart, userErrors: [] };
}

/**
 * The unit price the cart shows for each line: the catalog's price now, through the request's
 * loader (so the payload's prices cost no second request), null for a line no longer for sale
 * or when the catalog cannot say; the change is made by then and is announced all the same.
 */
async function cartPrices(deps: CartDeps, cart: CartModel): Promise<Map<string, CatalogProduct["price"]>> {
  const loaded = await deps.loaders.catalogProductById.loadMany(cart.lines.map((line) => line.productId));
  const prices = new Map<string, CatalogProduct["price"]>();
  loaded.forEach((product, i) => {
    const line = cart.lines[i];
    if (line && product && !(product instanceof Error)) prices.set(line.productId, product.price);
  });
  return prices;
}

/**
 * Appends CartUpdated with the whole cart after a change: each line with the unit price the
 * cart shows (null when unknown) and the cart's currency, that of its first priced line.
 * The cart lives in Redis, which cannot share a transaction with the outbox, so the row is
 * written right after the change in a transaction of its own: an event is lost only if the
 * process dies between the two, or PostgreSQL fails here (logged). Abandoned-cart figures are
 * best effort, and a cart change never fails because its announcement did.
 */
export async function recordCartChange(
  deps: CartEventDeps,
  cart: CartModel,
  prices: ReadonlyMap<string, { amount: number; currencyCode: string }>,
): Promise<void> {
  let currencyCode: string | null = null;
  const lines: EventPayloads["CartUpdated"]["lines"] = cart.lines.map((line) => {
    const price = prices.get(line.productId) ?? null;
    currencyCode ??= price?.currencyCode ?? null;
    return { productId: line.productId, quantity: line.quantity, unitPrice: price?.amount ?? null };
  });
  const payload: EventPayloads["CartUpdated"] = { customerId: cart.customerId, currencyCode, lines };
  try {
    await deps.db
      .transaction()
      .execute((trx) => appendToOutbox(trx, "CartUpdated", cart.customerId, payload));
  } catch (error) {
    deps.logger.warn("could not record CartUpdated; the cart changed all the same", {
      customerId: cart.customerId,
      error,
    });
    return;
  }
  // Not awaited: the event is safe in the outbox, where the relay's poller finds it anyway.
  deps.relay.flush().catch((error: unknown) => {
    deps.logger.warn("outbox flush after a cart change failed; the poller will retry", { error });
  });
}

function refused(change: CartChange & { ok: false }): UserError {
  switch (change.problem) {
    case "QUANTITY_LIMIT":
      return userError(
        "INVALID_QUANTITY",
        `A line holds at most ${MAX_CART_QUANTITY} units; this one already holds ${change.current}.`,
        ["input", "quantity"],
      );
    case "LINE_LIMIT":
      return userError("TOO_MANY_LINES", `A cart holds at most ${MAX_CART_LINES} lines.`, [
        "input",
        "productId",
      ]);
    case "LINE_NOT_FOUND":
      return noSuchLine();
  }
}

async function loadProducts(deps: CartDeps, ids: readonly string[]): Promise<(CatalogProduct | null)[]> {
  try {
    const loaded = await deps.loaders.catalogProductById.loadMany(ids);
    return loaded.map((product) => {
      if (product instanceof Error) throw product;
      return product;
    });
  } catch (error) {
    if (!(error instanceof CatalogUnavailableError)) throw error;
    deps.logger.warn("catalog unavailable; cart change refused", { requestId: deps.requestId, error });
    throw new GraphQLError("The catalog is unavailable; the cart was not changed.", {
      extensions: { code: "INTERNAL_SERVER_ERROR" },
      originalError: error,
    });
  }
}

/**
 * Adds units of a product the catalog sells now, in the cart's currency. The products of the
 * lines already in the cart are fetched in the same catalog request, which also primes the
 * prices the payload's subtotal needs.
 */
export async function addToCart(
  deps: CartDeps,
  viewer: Viewer,
  input: { productId: string; quantity: number },
): Promise<CartResult> {
  const productId = normalizeId(input.productId);
  const errors: UserError[] = [];
  if (!isObjectIdHex(productId)) errors.push(noSuchProduct());
  const badQuantity = quantityError(input.quantity);
  if (badQuantity) errors.push(badQuantity);
  if (errors.length > 0) return answer(deps, viewer.userId, errors);

  const cart = await deps.carts.get(viewer.userId);
  const others = cart.lines.map((line) => line.productId).filter((id) => id !== productId);
  const [product, ...inCart] = await loadProducts(deps, [productId, ...others]);
  if (!product) return answer(deps, viewer.userId, [noSuchProduct()]);
  const cartCurrency = inCart.find((p) => p !== null)?.price.currencyCode;
  if (cartCurrency !== undefined && cartCurrency !== product.price.currencyCode) {
    return answer(deps, viewer.userId, [
      userError(
        "CURRENCY_MISMATCH",
        `This product is priced in ${product.price.currencyCode}, the cart in ${cartCurrency}.`,
        ["input", "productId"],
      ),
    ]);
  }
  const change = await deps.carts.add(viewer.userId, productId, input.quantity);
  return change.ok ? changed(deps, viewer.userId) : answer(deps, viewer.userId, [refused(change)]);
}

export async function updateCartLine(
  deps: CartDeps,
  viewer: Viewer,
  input: { productId: string; quantity: number },
): Promise<CartResult> {
  const productId = normalizeId(input.productId);
  const badQuantity = quantityError(input.quantity);
  if (badQuantity) return answer(deps, viewer.userId, [badQuantity]);
  if (!isObjectIdHex(productId)) return answer(deps, viewer.userId, [noSuchLine()]);
  const change = await deps.carts.set(viewer.userId, productId, input.quantity);
  return change.ok ? changed(deps, viewer.userId) : answer(deps, viewer.userId, [refused(change)]);
}

export async function removeCartLine(
  deps: CartDeps,
  viewer: Viewer,
  input: { productId: string },
): Promise<CartResult> {
  const productId = normalizeId(input.productId);
  if (!isObjectIdHex(productId)) return answer(deps, viewer.userId, [noSuchLine()]);
  const change = await deps.carts.remove(viewer.userId, productId);
  return change.ok ? changed(deps, viewer.userId) : answer(deps, viewer.userId, [refused(change)]);
}

export async function clearCart(deps: CartDeps, viewer: Viewer): Promise<CartResult> {
  await deps.carts.clear(viewer.userId);
  return changed(deps, viewer.userId);
}
