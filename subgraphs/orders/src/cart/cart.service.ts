import { createHash, randomBytes } from "node:crypto";
import { isObjectIdHex, type Logger, unauthenticated, userError, type Viewer } from "@nexus/core";
import { appendToOutbox, type EventPayloads, type OutboxRelay } from "@nexus/events";
import { GraphQLError } from "graphql";
import type { Kysely } from "kysely";
import type { CatalogProduct } from "../catalog/catalog.client.ts";
import { CatalogUnavailableError } from "../catalog/catalog.client.ts";
import type { Database } from "../db/database.ts";
import type { UserError } from "../user-error.ts";
import type { AvailabilityLoaders, CatalogLoaders } from "./cart.loaders.ts";
import type { CartModel } from "./cart.model.ts";
import { type CartChange, type CartStore, guestCartId } from "./cart.store.ts";

/**
 * What changing a cart needs: the cart store, this request's catalog and inventory loaders (one
 * `_entities` call to each for every product the request needs), the database and relay of the outbox that
 * announces each change (CartUpdated), and the logger with the request's id.
 */
export interface CartDeps extends CartEventDeps {
  carts: CartStore;
  loaders: Pick<CatalogLoaders, "catalogProductById"> & Pick<AvailabilityLoaders, "availableByProductId">;
  requestId: string;
  /** The only currency a product added to a cart may be priced in (STORE_CURRENCY). */
  storeCurrency: string;
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

/**
 * Who is asking for which cart: a signed-in viewer always means their own cart (a `cartToken`
 * they send is a guest cart to merge into it first); a visitor's cart is the one their token
 * names. A token is a bearer secret: only its SHA-256 is stored, as the guest cart's id.
 */
export interface CartCaller {
  viewer: Viewer | null;
  cartToken?: string | null | undefined;
}

/** The cart a request works on; `token` is a guest cart's, for its holder's answer. */
export interface OpenCart {
  cartId: string;
  token: string | null;
  /** What merging a guest cart first could not keep (clamped or left-out lines). */
  notices: UserError[];
}

const TOKEN_PREFIX = "gct_";
const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");
/** 256 random bits: a guest cart is as hard to guess as a session. */
const newCartToken = () => TOKEN_PREFIX + randomBytes(32).toString("base64url");

/** The id of the guest cart a token names. Any string names one; only tokens made here hold lines. */
export const guestCartIdOf = (token: string): string => guestCartId(hashToken(token));

/**
 * A signed-in viewer's own cart, after merging the guest cart they name; a visitor's guest
 * cart. With `create`, a visitor without a token (or whose token's cart is gone) gets a new
 * guest cart and token; without it, a visitor must name a cart.
 */
async function openCart(deps: CartDeps, caller: CartCaller, create: boolean): Promise<OpenCart> {
  const { viewer, cartToken } = caller;
  if (viewer) {
    const notices = cartToken ? await mergeGuestCartInto(deps, viewer.userId, cartToken) : [];
    return { cartId: viewer.userId, token: null, notices };
  }
  if (cartToken) {
    const cartId = guestCartIdOf(cartToken);
    if (!create || (await deps.carts.get(cartId)).lines.length > 0) {
      return { cartId, token: cartToken, notices: [] };
    }
  } else if (!create) {
    throw unauthenticated("Sign in, or pass the cartToken of a guest cart.");
  }
  const token = newCartToken();
  return { cartId: guestCartIdOf(token), token, notices: [] };
}

/** The cart with its token shown to its holder while the guest cart exists. */
async function readCart(deps: Pick<CartDeps, "carts">, open: OpenCart): Promise<CartModel> {
  const cart = await deps.carts.get(open.cartId);
  return { ...cart, token: cart.customerId === null && cart.lines.length > 0 ? open.token : null };
}

/** The cart a request may read: its own, or the guest cart its token names (empty for any other token). */
export async function getCart(deps: Pick<CartDeps, "carts">, caller: CartCaller): Promise<CartModel> {
  if (caller.viewer) return deps.carts.get(caller.viewer.userId);
  if (!caller.cartToken) throw unauthenticated("Sign in, or pass the cartToken of a guest cart.");
  const cartId = guestCartIdOf(caller.cartToken);
  return readCart(deps, { cartId, token: caller.cartToken, notices: [] });
}

/** A customer's cart, for the customer or support staff. */
export async function getCustomerCart(deps: Pick<CartDeps, "carts">, customerId: string): Promise<CartModel> {
  return deps.carts.get(customerId);
}

async function answer(deps: CartDeps, open: OpenCart, userErrors: UserError[]): Promise<CartResult> {
  return { cart: await readCart(deps, open), userErrors: [...open.notices, ...userErrors] };
}

/** The existing cart a request names (after merging a guest cart into a signed-in one). */
export const openCartFor = (deps: CartDeps, caller: CartCaller): Promise<OpenCart> =>
  openCart(deps, caller, false);
/** The answer to a cart mutation that changed no line: the cart, with what went wrong. */
export const readOpenCart = answer;

/**
 * The cart after a change that went through, which is announced before it is returned.
 * `warnings` are userErrors about a change that was made all the same (INSUFFICIENT_STOCK).
 */
async function changed(deps: CartDeps, open: OpenCart, warnings: UserError[] = []): Promise<CartResult> {
  const cart = await readCart(deps, open);
  if (cart.customerId !== null) {
    const prices = await cartPrices(deps, cart);
    await recordCartChange(deps, cart, prices);
  }
  return { cart, userErrors: [...open.notices, ...warnings] };
}

/**
 * Moves a guest cart's lines into the customer's cart (see CartStore.merge) and says what did
 * not fit. A guest cart that is gone (merged before, expired, never existed) changes nothing,
 * so merging twice is harmless.
 */
async function mergeGuestCartInto(
  deps: CartDeps,
  customerId: string,
  cartToken: string,
): Promise<UserError[]> {
  const guestId = guestCartIdOf(cartToken);
  // The guest's code, address and method carry over where the customer's cart has none.
  await deps.carts.moveSettings(guestId, customerId);
  const merge = await deps.carts.merge(guestId, customerId);
  if (!merge.applied) return [];
  const field = ["input", "cartToken"];
  const notices = [
    ...merge.clamped.map((line) =>
      userError(
        "QUANTITY_LIMITED",
        `Product ${line.productId}: ${line.requested} units together, the line keeps ${line.kept} (${MAX_CART_QUANTITY} at most).`,
        field,
      ),
    ),
    ...merge.dropped.map((line) =>
      userError(
        "TOO_MANY_LINES",
        `Product ${line.productId} (${line.quantity} units) was left out: a cart holds at most ${MAX_CART_LINES} lines.`,
        field,
      ),
    ),
  ];
  const cart = await deps.carts.get(customerId);
  await recordCartChange(deps, cart, await cartPrices(deps, cart));
  return notices;
}

/** `mergeGuestCart`: the guest cart the token names goes into the signed-in customer's cart. */
export async function mergeGuestCart(
  deps: CartDeps,
  viewer: Viewer,
  input: { cartToken: string },
): Promise<CartResult> {
  const open: OpenCart = { cartId: viewer.userId, token: null, notices: [] };
  if (input.cartToken.trim() === "") {
    return answer(deps, open, [
      userError("INVALID_CART_TOKEN", "cartToken must not be empty.", ["input", "cartToken"]),
    ]);
  }
  open.notices = await mergeGuestCartInto(deps, viewer.userId, input.cartToken);
  return answer(deps, open, []);
}

/**
 * INSUFFICIENT_STOCK when the line now holds more than inventory has available. Nothing is
 * reserved and the line is saved all the same; the availability of every line is asked in the
 * same inventory request, which the payload's lines then read. Unknown availability (inventory
 * did not answer) warns of nothing.
 */
async function stockWarnings(deps: CartDeps, cartId: string, productId: string): Promise<UserError[]> {
  const cart = await deps.carts.get(cartId);
  const ids = cart.lines.map((line) => line.productId);
  const available = await deps.loaders.availableByProductId.loadMany(ids);
  const index = ids.indexOf(productId);
  const line = cart.lines[index];
  const units = available[index];
  if (!line || typeof units !== "number" || line.quantity <= units) return [];
  return [
    userError(
      "INSUFFICIENT_STOCK",
      `Only ${units} ${units === 1 ? "unit is" : "units are"} available; the line holds ${line.quantity}. It is saved, and nothing is reserved until checkout.`,
      ["input", "quantity"],
    ),
  ];
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
  const payload = cartUpdatedPayload(cart, prices);
  if (!payload) return;
  try {
    await deps.db
      .transaction()
      .execute((trx) => appendToOutbox(trx, "CartUpdated", payload.customerId, payload));
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

/**
 * CartUpdated for a customer's cart; null for a guest cart, which has no one to announce it to
 * (abandoned-cart lists are of customers).
 */
export function cartUpdatedPayload(
  cart: CartModel,
  prices: ReadonlyMap<string, { amount: number; currencyCode: string }>,
): EventPayloads["CartUpdated"] | null {
  if (cart.customerId === null) return null;
  let currencyCode: string | null = null;
  const lines: EventPayloads["CartUpdated"]["lines"] = cart.lines.map((line) => {
    const price = prices.get(line.productId) ?? null;
    currencyCode ??= price?.currencyCode ?? null;
    return { productId: line.productId, quantity: line.quantity, unitPrice: price?.amount ?? null };
  });
  return { customerId: cart.customerId, currencyCode, lines };
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
 * Adds units of a product the catalog sells now, in the store currency. The products of the
 * lines already in the cart are fetched in the same catalog request, which also primes the
 * prices the payload's subtotal needs. A visitor without a cart gets a guest cart and its token.
 */
export async function addToCart(
  deps: CartDeps,
  caller: CartCaller,
  input: { productId: string; quantity: number },
): Promise<CartResult> {
  const open = await openCart(deps, caller, true);
  const productId = normalizeId(input.productId);
  const errors: UserError[] = [];
  if (!isObjectIdHex(productId)) errors.push(noSuchProduct());
  const badQuantity = quantityError(input.quantity);
  if (badQuantity) errors.push(badQuantity);
  if (errors.length > 0) return answer(deps, open, errors);

  const cart = await deps.carts.get(open.cartId);
  const others = cart.lines.map((line) => line.productId).filter((id) => id !== productId);
  const [product] = await loadProducts(deps, [productId, ...others]);
  if (!product) return answer(deps, open, [noSuchProduct()]);
  // Every line added is in the store currency, so a cart never mixes currencies; a line priced
  // before STORE_CURRENCY changed stays, left out of the subtotal and refused at checkout.
  if (product.price.currencyCode !== deps.storeCurrency) {
    return answer(deps, open, [
      userError(
        "CURRENCY_MISMATCH",
        `This product is priced in ${product.price.currencyCode}; the store sells in ${deps.storeCurrency}.`,
        ["input", "productId"],
      ),
    ]);
  }
  const change = await deps.carts.add(open.cartId, productId, input.quantity);
  if (!change.ok) return answer(deps, open, [refused(change)]);
  return changed(deps, open, await stockWarnings(deps, open.cartId, productId));
}

export async function updateCartLine(
  deps: CartDeps,
  caller: CartCaller,
  input: { productId: string; quantity: number },
): Promise<CartResult> {
  const open = await openCart(deps, caller, false);
  const productId = normalizeId(input.productId);
  const badQuantity = quantityError(input.quantity);
  if (badQuantity) return answer(deps, open, [badQuantity]);
  if (!isObjectIdHex(productId)) return answer(deps, open, [noSuchLine()]);
  const change = await deps.carts.set(open.cartId, productId, input.quantity);
  if (!change.ok) return answer(deps, open, [refused(change)]);
  return changed(deps, open, await stockWarnings(deps, open.cartId, productId));
}

export async function removeCartLine(
  deps: CartDeps,
  caller: CartCaller,
  input: { productId: string },
): Promise<CartResult> {
  const open = await openCart(deps, caller, false);
  const productId = normalizeId(input.productId);
  if (!isObjectIdHex(productId)) return answer(deps, open, [noSuchLine()]);
  const change = await deps.carts.remove(open.cartId, productId);
  return change.ok ? changed(deps, open) : answer(deps, open, [refused(change)]);
}

export async function clearCart(deps: CartDeps, caller: CartCaller): Promise<CartResult> {
  const open = await openCart(deps, caller, false);
  await deps.carts.clear(open.cartId);
  return changed(deps, open);
}
