import { createHash, randomUUID } from "node:crypto";
import {
  type Address,
  type AddressInput,
  isObjectIdHex,
  isUuid,
  type Logger,
  toGlobalId,
  userError,
  validateAddress,
} from "@nexus/core";
import { appendToOutbox, type OutboxRelay } from "@nexus/events";
import { GraphQLError } from "graphql";
import type { Kysely } from "kysely";
import type { CartLineModel, CartModel } from "../cart/cart.model.ts";
import { guestCartIdOf, recordCartChange } from "../cart/cart.service.ts";
import type { CartStore } from "../cart/cart.store.ts";
import {
  type CatalogClient,
  type CatalogProduct,
  CatalogUnavailableError,
} from "../catalog/catalog.client.ts";
import type { Database } from "../db/database.ts";
import { redeemDiscounts } from "../discount/discount.repository.ts";
import {
  type OrderLineModel,
  type OrderModel,
  toOrderLineModel,
  toOrderModel,
} from "../order/order.model.ts";
import { getOrderById, insertOrder } from "../order/order.repository.ts";
import { appendOrderStatusChanged } from "../order/status-change.service.ts";
import type { PaymentProvider } from "../payment/payment.provider.ts";
import { type PricingDeps, quote, SHIPPING_PROBLEM_MESSAGES } from "../pricing/pricing.service.ts";
import { DISCOUNT_PROBLEM_MESSAGES, type DiscountProblem, type Pricing } from "../pricing/pricing.ts";
import type { UserError } from "../user-error.ts";
import { type UsersClient, UsersUnavailableError } from "../users/users.client.ts";
import { claimIdempotencyKey, findIdempotencyKey, type IdempotencyKeyRow } from "./checkout.repository.ts";

/** Amounts are PostgreSQL `integer` and GraphQL `Int`: both stop at 2^31 - 1. */
const MAX_AMOUNT = 2_147_483_647;
/** Visible ASCII: UUIDs, ULIDs and the keys client libraries make all fit. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export interface CheckoutDeps {
  db: Kysely<Database>;
  catalog: CatalogClient;
  carts: CartStore;
  payments: PaymentProvider;
  relay: Pick<OutboxRelay, "flush">;
  logger: Logger;
  /** Reads the saved address a checkout names by `shippingAddressId`. */
  users: UsersClient;
  /** Refuse customers whose token does not say their email is verified (REQUIRE_VERIFIED_EMAIL). */
  requireVerifiedEmail: boolean;
  /** The currency every order is placed in (STORE_CURRENCY). */
  storeCurrency: string;
  /** Catalog prices and shipping rates include tax (PRICES_INCLUDE_TAX). */
  pricesIncludeTax: PricingDeps["pricesIncludeTax"];
}

export interface CheckoutInput {
  idempotencyKey: string;
  /** A full address; at most one of this and `shippingAddressId`; neither takes the cart's. */
  shippingAddress?: AddressInput | null | undefined;
  /** An address from the customer's address book, read from users server-side. */
  shippingAddressId?: string | null | undefined;
  paymentToken?: string | null | undefined;
  cartToken?: string | null | undefined;
  email?: string | null | undefined;
}

/** Who asks, beyond the customer's id: their token is forwarded to users to read their address book. */
export interface CheckoutRequest {
  requestId?: string | undefined;
  /** The customer's `Authorization` header, as received. */
  authorization?: string | undefined;
  /** The token's `email_verified` claim; absent counts as not verified. */
  emailVerified?: boolean | undefined;
  /** The client placing the order; the storefront when not said. */
  channel?: PlacingChannel | undefined;
}

/** Which client places an order: recorded on it, and a partner's `orderStatus` follows it. */
export type PlacingChannel =
  | { channel: "storefront" | "staff"; partnerClient: null }
  | { channel: "partner"; partnerClient: string };

/**
 * A partner client's token names its client (`client_id`); an admin's token is staff; any
 * other token, and a guest, is the storefront.
 */
export function channelOf(viewer: { role: string; clientName?: string | undefined } | null): PlacingChannel {
  if (viewer?.role === "PARTNER" && viewer.clientName) {
    return { channel: "partner", partnerClient: viewer.clientName };
  }
  if (viewer?.role === "ADMIN") return { channel: "staff", partnerClient: null };
  return { channel: "storefront", partnerClient: null };
}

/**
 * Where the order ships, as the client chose it: an address it sent (validated) or the id of a
 * saved one, read from users only once the request is known to place a new order.
 */
type AddressChoice = { address: Address } | { savedAddressId: string } | { fromCart: true };
/**
 * Who checks out: a signed-in customer with their cart, or a visitor (only when GUEST_CHECKOUT
 * is on, which the caller decides) with the guest cart their token names.
 */
export type Buyer = { customerId: string } | { guest: true };

/** Where a guest order's confirmation goes: one address, nothing more. */
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;
const MAX_EMAIL = 254;

/**
 * Idempotency keys are scoped by customer (a uuid column); a guest's are scoped by their cart,
 * through a uuid made of the cart id's hash, so two guests' keys never meet.
 */
const guestKeyScope = (cartId: string) => {
  const hex = createHash("sha256").update(cartId).digest("hex");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20, 32)].join(
    "-",
  );
};

export type CheckoutResult =
  | { ok: true; order: OrderModel; lines: OrderLineModel[] | null }
  | { ok: false; userErrors: UserError[] };

const fail = (userErrors: UserError[]): CheckoutResult => ({ ok: false, userErrors });

const sha256 = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

/**
 * What the customer asked for besides the cart: two requests with one key must agree on it. A
 * saved address counts by its id, so a retry agrees with its first attempt even if the address
 * book changed in between (the order keeps the address it was placed with). A guest's email is
 * part of it; a customer's fingerprint is what it was before guests existed.
 */
const inputFingerprint = (
  choice: { address: Address } | { savedAddressId: string },
  paymentToken: string | null,
  guestEmail: string | null,
) => {
  const address = "address" in choice ? choice.address : { savedAddressId: choice.savedAddressId };
  return sha256(guestEmail === null ? [address, paymentToken] : [address, paymentToken, guestEmail]);
};

/**
 * The cart as bought: products and quantities in a stable order, and its discount code and
 * shipping method when it has them.
 */
const cartFingerprint = (cart: CartModel) => {
  const lines = cart.lines
    .map((line) => [line.productId, line.quantity] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const { discountCode, shippingMethodId } = cart.settings;
  return sha256(discountCode || shippingMethodId ? [lines, discountCode, shippingMethodId] : lines);
};

/** Thrown inside the order's transaction when a discount's use cannot be counted, to roll back. */
class DiscountRefused extends Error {
  readonly problem: DiscountProblem;
  constructor(problem: DiscountProblem) {
    super(problem);
    this.problem = problem;
  }
}

/** Thrown inside the order's transaction when another checkout holds the key, to roll back. */
class KeyTaken extends Error {}

/**
 * Turns the customer's cart into a PENDING order. The key row, the order, its lines, its first
 * history step and its OrderPlaced event commit in one transaction; the key's primary key
 * (customer, key) makes concurrent checkouts with one key wait for each other, and every loser
 * answers with the winner's order.
 */
export async function checkout(
  deps: CheckoutDeps,
  buyer: Buyer,
  input: CheckoutInput,
  request: CheckoutRequest = {},
): Promise<CheckoutResult> {
  // Accounts only: a guest's email is where the confirmation goes, and nothing to sign in with.
  if (deps.requireVerifiedEmail && "customerId" in buyer && request.emailVerified !== true) {
    return fail([
      userError(
        "EMAIL_NOT_VERIFIED",
        "Verify your email address before checking out; if you just did, sign in again.",
      ),
    ]);
  }
  const errors: UserError[] = [];
  const customerId = "customerId" in buyer ? buyer.customerId : null;
  let cartId = customerId;
  let guestEmail: string | null = null;
  if (customerId === null) {
    if (!input.cartToken) {
      errors.push(
        userError("CART_TOKEN_REQUIRED", "A guest checkout needs the guest cart's token.", [
          "input",
          "cartToken",
        ]),
      );
    } else {
      cartId = guestCartIdOf(input.cartToken);
    }
    guestEmail = input.email?.trim().toLowerCase() ?? "";
    if (guestEmail.length > MAX_EMAIL || !EMAIL.test(guestEmail)) {
      errors.push(
        userError("INVALID_EMAIL", "A guest checkout needs a valid email address for the confirmation.", [
          "input",
          "email",
        ]),
      );
    }
  }
  const key = input.idempotencyKey;
  if (!IDEMPOTENCY_KEY.test(key)) {
    errors.push(
      userError("INVALID_IDEMPOTENCY_KEY", "idempotencyKey must be 1 to 200 visible ASCII characters.", [
        "input",
        "idempotencyKey",
      ]),
    );
  }
  const chosen = chooseAddress(input);
  errors.push(...chosen.errors);
  const paymentToken = input.paymentToken ?? null;
  const tokenProblem = deps.payments.checkToken(paymentToken);
  if (tokenProblem) errors.push(userError("INVALID_PAYMENT_TOKEN", tokenProblem, ["input", "paymentToken"]));
  if (errors.length > 0 || !chosen.choice || cartId === null) return fail(errors);
  const keyScope = customerId ?? guestKeyScope(cartId);

  const cart = await deps.carts.get(cartId);
  let choice: { address: Address } | { savedAddressId: string };
  if ("fromCart" in chosen.choice) {
    const saved = cart.settings.shippingAddress;
    if (!saved) {
      return fail([
        userError(
          "INVALID_SHIPPING_ADDRESS",
          "Send a shippingAddress or the shippingAddressId of a saved address, or set the cart's (setCartShippingAddress).",
          ["input"],
        ),
      ]);
    }
    choice = { address: saved };
  } else {
    choice = chosen.choice;
  }
  const fingerprints = {
    input: inputFingerprint(choice, paymentToken, guestEmail),
    cart: cartFingerprint(cart),
  };
  // A retry after the first attempt committed: answer without pricing anything.
  const existing = await findIdempotencyKey(deps.db, keyScope, key);
  if (existing) return replay(deps, existing, fingerprints, cart.lines.length === 0);

  if (cart.lines.length === 0) {
    return fail([userError("EMPTY_CART", "The cart is empty; add something before checking out.")]);
  }
  const resolved = await resolveAddress(deps, customerId, choice, request);
  if (!resolved.ok) return resolved;
  const address = resolved.address;
  const priced = await priceCart(deps, cart.lines, request);
  if (!priced.ok) return priced;
  const quoted = await quote(deps, {
    lines: priced.lines,
    discountCode: cart.settings.discountCode,
    countryCode: address.countryCode,
    shippingMethodId: cart.settings.shippingMethodId,
    buyer: customerId !== null ? { customerId } : { email: guestEmail ?? "" },
    now: new Date(),
  });
  if (quoted.codeProblem) return fail([discountRefused(quoted.codeProblem)]);
  if (quoted.shippingProblem) {
    return fail([
      userError(quoted.shippingProblem, SHIPPING_PROBLEM_MESSAGES[quoted.shippingProblem], [
        "cart",
        "shippingMethod",
      ]),
    ]);
  }
  const pricing = quoted.pricing;
  if (pricing.total > MAX_AMOUNT) return fail([totalTooLarge()]);

  const orderId = randomUUID();
  let placed: { order: OrderModel; lines: OrderLineModel[] };
  try {
    placed = await deps.db.transaction().execute(async (trx) => {
      const claimed = await claimIdempotencyKey(trx, {
        customer_id: keyScope,
        key,
        input_fingerprint: fingerprints.input,
        cart_fingerprint: fingerprints.cart,
        order_id: orderId,
      });
      if (!claimed) throw new KeyTaken();
      const { order, lines } = await insertOrder(trx, {
        id: orderId,
        customerId,
        guestEmail,
        currencyCode: priced.currencyCode,
        totalAmount: pricing.total,
        shippingAddress: address,
        paymentToken,
        ...(request.channel ?? { channel: "storefront", partnerClient: null }),
        ...orderPricing(pricing, priced.lines),
      });
      const redeemed = await redeemDiscounts(
        trx,
        { orderId, customerId, email: guestEmail },
        pricing.discounts.map((discount) => discount.rule),
      );
      if (!redeemed.ok) throw new DiscountRefused(redeemed.code);
      // Lines come back in position order, as priced.
      await appendToOutbox(trx, "OrderPlaced", order.id, {
        orderId: order.id,
        customerId,
        currencyCode: order.currency_code,
        countryCode: address.countryCode,
        lines: lines.map((line, i) => ({
          productId: line.product_id,
          quantity: line.quantity,
          unitPrice: line.unit_price,
          productName: line.product_name,
          categoryId: priced.lines[i]?.categoryId ?? null,
          discount: line.discount_amount,
        })),
      });
      await appendOrderStatusChanged(trx, order, lines, {
        previousStatus: null,
        reason: null,
        linesReturnedToCart: false,
      });
      return { order: toOrderModel(order), lines: lines.map(toOrderLineModel) };
    });
  } catch (error) {
    // Another checkout took the discount's last use after this one priced the cart.
    if (error instanceof DiscountRefused) return fail([discountRefused(error.problem)]);
    if (!(error instanceof KeyTaken)) throw error;
    // The winner has committed by now: the insert waited for its transaction to end.
    const winner = await findIdempotencyKey(deps.db, keyScope, key);
    if (!winner) throw new Error(`idempotency key ${key} was taken and then vanished`);
    return replay(deps, winner, fingerprints, false);
  }

  // Not awaited: with Redis down the publish would wait for it, and the event is already safe in
  // the outbox, where the relay's poller will find it.
  deps.relay.flush().catch((error: unknown) => {
    deps.logger.warn("outbox flush after checkout failed; the poller will retry", {
      orderId: placed.order.id,
      error,
    });
  });
  // The order is committed whatever happens to the cart; a cart left full is the lesser harm.
  try {
    await deps.carts.subtract(cartId, cart.lines);
    // The code was used; the address and method stay for the next order.
    if (cart.settings.discountCode) await deps.carts.updateSettings(cartId, { discountCode: null });
    // What is left is usually nothing; a line added while the checkout ran keeps the price it
    // was just sold at when it is one of the products sold, and is unpriced otherwise.
    const left = await deps.carts.get(cartId);
    const prices = new Map(
      priced.lines.map((line) => [
        line.productId,
        { amount: line.unitPrice, currencyCode: priced.currencyCode },
      ]),
    );
    await recordCartChange(deps, left, prices);
  } catch (error) {
    deps.logger.warn("could not empty the cart after checkout", { orderId: placed.order.id, error });
  }
  return { ok: true, ...placed };
}

/**
 * The answer to a key that already has an order: that order, when the request agrees with
 * the first one. The cart may be empty by now, because the first checkout emptied it.
 */
async function replay(
  deps: CheckoutDeps,
  existing: IdempotencyKeyRow,
  fingerprints: { input: string; cart: string },
  cartEmpty: boolean,
): Promise<CheckoutResult> {
  if (
    existing.input_fingerprint !== fingerprints.input ||
    (!cartEmpty && existing.cart_fingerprint !== fingerprints.cart)
  ) {
    return fail([
      userError(
        "IDEMPOTENCY_KEY_REUSED",
        "This idempotency key was already used for a checkout with a different cart, address or payment token.",
        ["input", "idempotencyKey"],
      ),
    ]);
  }
  const order = await getOrderById(deps.db, existing.order_id);
  return { ok: true, order: toOrderModel(order), lines: null };
}

/** Exactly one of `shippingAddress` and `shippingAddressId`, each checked as far as it can be here. */
function chooseAddress(input: CheckoutInput): { choice: AddressChoice | null; errors: UserError[] } {
  const hasAddress = input.shippingAddress !== null && input.shippingAddress !== undefined;
  const hasId = input.shippingAddressId !== null && input.shippingAddressId !== undefined;
  if (hasAddress && hasId) {
    return {
      choice: null,
      errors: [
        userError("INVALID_SHIPPING_ADDRESS", "Send either shippingAddress or shippingAddressId, not both.", [
          "input",
        ]),
      ],
    };
  }
  if (!hasAddress && !hasId) return { choice: { fromCart: true }, errors: [] };
  if (input.shippingAddress) {
    const validated = validateAddress(input.shippingAddress, ["input", "shippingAddress"]);
    return validated.address
      ? { choice: { address: validated.address }, errors: [] }
      : { choice: null, errors: validated.errors };
  }
  return { choice: { savedAddressId: (input.shippingAddressId ?? "").trim().toLowerCase() }, errors: [] };
}

const addressNotFound = () =>
  userError("ADDRESS_NOT_FOUND", "There is no such address in your address book.", [
    "input",
    "shippingAddressId",
  ]);

/**
 * The address the order ships to. A saved one is read from users with the customer's own
 * token, so users' ownership rule holds: an id from another customer's book (or none at all)
 * is simply not in this customer's, and both get ADDRESS_NOT_FOUND. Users down refuses the
 * checkout before anything is written.
 */
async function resolveAddress(
  deps: CheckoutDeps,
  customerId: string | null,
  choice: { address: Address } | { savedAddressId: string },
  request: CheckoutRequest,
): Promise<{ ok: true; address: Address } | { ok: false; userErrors: UserError[] }> {
  if ("address" in choice) return { ok: true, address: choice.address };
  // A guest has no address book.
  if (customerId === null) return { ok: false, userErrors: [addressNotFound()] };
  // Users' address ids are UUIDs; anything else names no address and is not worth a request.
  if (!isUuid(choice.savedAddressId)) return { ok: false, userErrors: [addressNotFound()] };
  let book: Awaited<ReturnType<UsersClient["findAddressesOf"]>>;
  try {
    book = await deps.users.findAddressesOf(customerId, {
      authorization: request.authorization,
      requestId: request.requestId,
    });
  } catch (error) {
    if (!(error instanceof UsersUnavailableError)) throw error;
    deps.logger.warn("users unavailable; checkout refused", { requestId: request.requestId, error });
    throw new GraphQLError("The address book is unavailable; nothing was ordered.", {
      extensions: { code: "INTERNAL_SERVER_ERROR" },
      originalError: error,
    });
  }
  const saved = book?.find((address) => address.id.toLowerCase() === choice.savedAddressId);
  if (!saved) return { ok: false, userErrors: [addressNotFound()] };
  // Users validated it when it was saved; the same rules here give the snapshot the same shape.
  const validated = validateAddress(saved, ["input", "shippingAddressId"]);
  if (!validated.address) return { ok: false, userErrors: validated.errors };
  return { ok: true, address: validated.address };
}

type PricedCart =
  | {
      ok: true;
      currencyCode: string;
      lines: PricedLine[];
    }
  | { ok: false; userErrors: UserError[] };

/** A cart line as sold; the category is kept for the OrderPlaced event only, not stored on the line. */
interface PricedLine {
  productId: string;
  productName: string;
  unitPrice: number;
  quantity: number;
  categoryId: string | null;
}

/** Names and prices from the catalog now, in one request; the client never sends a price. */
async function priceCart(
  deps: CheckoutDeps,
  cartLines: readonly CartLineModel[],
  request: { requestId?: string | undefined },
): Promise<PricedCart> {
  const ids = cartLines.map((line) => line.productId);
  let products: (CatalogProduct | null)[];
  try {
    products = await deps.catalog.findProductsByIds(ids.filter(isObjectIdHex), request);
  } catch (error) {
    if (!(error instanceof CatalogUnavailableError)) throw error;
    deps.logger.warn("catalog unavailable; checkout refused", { requestId: request.requestId, error });
    throw new GraphQLError("The catalog is unavailable; nothing was ordered.", {
      extensions: { code: "INTERNAL_SERVER_ERROR" },
      originalError: error,
    });
  }
  const byId = new Map(products.flatMap((product) => (product ? [[product.id, product] as const] : [])));

  const userErrors: UserError[] = [];
  const lines: PricedLine[] = [];
  // One currency per store: a line priced in another (from before STORE_CURRENCY changed) is
  // refused rather than converted, so an order never mixes currencies.
  const currencyCode = deps.storeCurrency;
  for (const line of cartLines) {
    const product = byId.get(line.productId);
    if (!product) {
      // Not ACTIVE any more (or gone): the whole checkout is refused, so nothing is reserved or charged.
      userErrors.push(
        userError(
          "PRODUCT_UNAVAILABLE",
          `Product ${toGlobalId("Product", line.productId)} is no longer for sale; remove it from the cart.`,
          // The line as clients know it: by the global id its productId shows.
          ["cart", "lines", toGlobalId("Product", line.productId)],
        ),
      );
      continue;
    }
    if (product.price.currencyCode !== currencyCode) {
      userErrors.push(
        userError(
          "CURRENCY_MISMATCH",
          `${product.name} is priced in ${product.price.currencyCode}; the store sells in ${currencyCode}. Remove it from the cart.`,
          ["cart", "lines", toGlobalId("Product", line.productId)],
        ),
      );
      continue;
    }
    lines.push({
      productId: product.id,
      productName: product.name,
      unitPrice: product.price.amount,
      quantity: line.quantity,
      categoryId: product.categoryId,
    });
  }
  if (userErrors.length > 0) return { ok: false, userErrors };
  const subtotal = lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  if (subtotal > MAX_AMOUNT) return { ok: false, userErrors: [totalTooLarge()] };
  return { ok: true, currencyCode, lines };
}

const totalTooLarge = () =>
  userError("TOTAL_TOO_LARGE", "The cart's total is more than one order can hold; split it.");

const discountRefused = (problem: DiscountProblem) =>
  userError(problem, `${DISCOUNT_PROBLEM_MESSAGES[problem]} Remove it from the cart to check out.`, [
    "cart",
    "discountCode",
  ]);

/** The order's lines, breakdown and discounts as the pricing has them. */
function orderPricing(pricing: Pricing, lines: readonly PricedLine[]) {
  return {
    lines: pricing.lines.map((line, i) => ({
      productId: line.productId,
      productName: lines[i]?.productName ?? "",
      unitPrice: line.unitPrice,
      quantity: line.quantity,
      discount: line.discount,
      tax: line.tax,
      taxRatePpm: line.taxRatePpm,
    })),
    breakdown: {
      subtotal: pricing.subtotal,
      lineDiscount: pricing.lineDiscountTotal,
      shipping: pricing.shippingTotal,
      shippingDiscount: pricing.shipping?.discount ?? 0,
      shippingTax: pricing.shipping?.tax ?? 0,
      lineTax: pricing.lines.reduce((sum, line) => sum + line.tax, 0),
      pricesIncludeTax: pricing.pricesIncludeTax,
      shippingMethod: pricing.shipping
        ? {
            id: pricing.shipping.method.id,
            name: pricing.shipping.method.name,
            zoneName: pricing.shipping.method.zoneName,
          }
        : null,
    },
    discounts: pricing.discounts.map((discount) => ({
      discountId: discount.rule.id,
      code: discount.rule.code,
      title: discount.rule.title,
      kind: discount.rule.kind,
      amount: discount.amount,
      shippingAmount: discount.shippingAmount,
      lines: discount.lines,
    })),
  };
}
