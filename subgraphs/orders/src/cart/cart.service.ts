import { isObjectIdHex, type Logger, type UserError, userError, type Viewer } from "@nexus/core";
import { GraphQLError } from "graphql";
import type { CatalogProduct } from "../catalog/catalog.client.ts";
import { CatalogUnavailableError } from "../catalog/catalog.client.ts";
import type { CatalogLoaders } from "./cart.loaders.ts";
import type { CartModel } from "./cart.model.ts";
import type { CartChange, CartStore } from "./cart.store.ts";

/**
 * What changing a cart needs: the cart store, this request's catalog loader (one `_entities`
 * call for every product the request needs), and the logger with the request's id.
 */
export interface CartDeps {
  carts: CartStore;
  loaders: Pick<CatalogLoaders, "catalogProductById">;
  logger: Logger;
  requestId: string;
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
  return answer(deps, viewer.userId, change.ok ? [] : [refused(change)]);
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
  return answer(deps, viewer.userId, change.ok ? [] : [refused(change)]);
}

export async function removeCartLine(
  deps: CartDeps,
  viewer: Viewer,
  input: { productId: string },
): Promise<CartResult> {
  const productId = normalizeId(input.productId);
  if (!isObjectIdHex(productId)) return answer(deps, viewer.userId, [noSuchLine()]);
  const change = await deps.carts.remove(viewer.userId, productId);
  return answer(deps, viewer.userId, change.ok ? [] : [refused(change)]);
}

export async function clearCart(deps: CartDeps, viewer: Viewer): Promise<CartResult> {
  await deps.carts.clear(viewer.userId);
  return answer(deps, viewer.userId, []);
}
