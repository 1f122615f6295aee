import { type AddressInput, userError, validateAddress } from "@nexus/core";
import type { CatalogProduct } from "../catalog/catalog.client.ts";
import { checkDiscountCode, type PricingDeps, type Quote, quote } from "../pricing/pricing.service.ts";
import { DISCOUNT_PROBLEM_MESSAGES, type PricingLine } from "../pricing/pricing.ts";
import { findShippingMethodsForCountry } from "../shipping/shipping.repository.ts";
import type { UserError } from "../user-error.ts";
import type { CartModel } from "./cart.model.ts";
import {
  type CartCaller,
  type CartDeps,
  type CartResult,
  openCartFor,
  readOpenCart,
} from "./cart.service.ts";

/** Discount codes: letters, digits, `_` and `-`, matched in any case. */
export const DISCOUNT_CODE = /^[A-Z0-9_-]{1,64}$/;
export const normalizeDiscountCode = (code: string): string => code.trim().toUpperCase();

export type CartPricingDeps = CartDeps & PricingDeps;

/**
 * The cart's lines as checkout would price them: those the catalog sells now in the store
 * currency, with their category for scoped discounts and tax rates.
 */
export async function pricingLinesOf(
  deps: Pick<CartDeps, "loaders" | "storeCurrency">,
  cart: CartModel,
): Promise<PricingLine[]> {
  const products = await deps.loaders.catalogProductById.loadMany(cart.lines.map((line) => line.productId));
  return cart.lines.flatMap((line, i) => {
    const product = products[i];
    if (!product || product instanceof Error || product.price.currencyCode !== deps.storeCurrency) return [];
    return [pricingLine(product, line.quantity)];
  });
}

export const pricingLine = (product: CatalogProduct, quantity: number): PricingLine => ({
  productId: product.id,
  categoryId: product.categoryId,
  unitPrice: product.price.amount,
  quantity,
});

/** The cart priced now with its code, address and method; a guest's per-customer limits wait for checkout. */
export async function quoteCart(deps: CartPricingDeps, cart: CartModel): Promise<Quote> {
  return quote(deps, {
    lines: await pricingLinesOf(deps, cart),
    discountCode: cart.settings.discountCode,
    countryCode: cart.settings.shippingAddress?.countryCode ?? null,
    shippingMethodId: cart.settings.shippingMethodId,
    buyer: buyerOf(cart),
    now: new Date(),
  });
}

/** Whose past uses count against per-customer limits: a guest's wait for the email at checkout. */
const buyerOf = (cart: CartModel) => (cart.customerId === null ? null : { customerId: cart.customerId });

/** `applyDiscountCode`: the code goes on the cart only when it holds for the cart now. */
export async function applyDiscountCode(
  deps: CartPricingDeps,
  caller: CartCaller,
  input: { code: string },
): Promise<CartResult> {
  const open = await openCartFor(deps, caller);
  const code = normalizeDiscountCode(input.code);
  if (!DISCOUNT_CODE.test(code)) {
    return readOpenCart(deps, open, [
      userError(
        "INVALID_DISCOUNT_CODE",
        "A discount code is 1 to 64 letters, digits, underscores or hyphens.",
        ["input", "code"],
      ),
    ]);
  }
  const cart = await deps.carts.get(open.cartId);
  const { problem } = await checkDiscountCode(deps, {
    code,
    lines: await pricingLinesOf(deps, cart),
    buyer: buyerOf(cart),
    now: new Date(),
  });
  if (problem) {
    return readOpenCart(deps, open, [
      userError(problem, DISCOUNT_PROBLEM_MESSAGES[problem], ["input", "code"]),
    ]);
  }
  await deps.carts.updateSettings(open.cartId, { discountCode: code });
  return readOpenCart(deps, open, []);
}

export async function removeDiscountCode(deps: CartDeps, caller: CartCaller): Promise<CartResult> {
  const open = await openCartFor(deps, caller);
  await deps.carts.updateSettings(open.cartId, { discountCode: null });
  return readOpenCart(deps, open, []);
}

/**
 * `setCartShippingAddress`: where the cart ships. A chosen method that does not ship to the
 * new country is dropped, so the cart never shows a method it cannot use.
 */
export async function setCartShippingAddress(
  deps: CartPricingDeps,
  caller: CartCaller,
  input: { address: AddressInput },
): Promise<CartResult> {
  const open = await openCartFor(deps, caller);
  const validated = validateAddress(input.address, ["input", "address"]);
  if (!validated.address) return readOpenCart(deps, open, validated.errors);
  const address = validated.address;
  const cart = await deps.carts.get(open.cartId);
  let keepMethod = false;
  if (cart.settings.shippingMethodId) {
    const methods = await findShippingMethodsForCountry(deps.db, address.countryCode);
    keepMethod = methods.some((method) => method.id === cart.settings.shippingMethodId);
  }
  await deps.carts.updateSettings(open.cartId, {
    shippingAddress: address,
    ...(keepMethod ? {} : { shippingMethodId: null }),
  });
  return readOpenCart(deps, open, []);
}

/** `selectShippingMethod`: one of the methods for the cart's address. */
export async function selectShippingMethod(
  deps: CartPricingDeps,
  caller: CartCaller,
  input: { methodId: string },
): Promise<CartResult> {
  const open = await openCartFor(deps, caller);
  const cart = await deps.carts.get(open.cartId);
  const country = cart.settings.shippingAddress?.countryCode;
  const field = ["input", "methodId"];
  let problem: UserError | null = null;
  if (!country) {
    problem = userError(
      "SHIPPING_ADDRESS_REQUIRED",
      "Set the cart's shipping address (setCartShippingAddress) before choosing a method.",
      field,
    );
  } else {
    const methodId = input.methodId.trim().toLowerCase();
    const methods = await findShippingMethodsForCountry(deps.db, country);
    if (methods.some((method) => method.id === methodId)) {
      await deps.carts.updateSettings(open.cartId, { shippingMethodId: methodId });
    } else {
      problem = userError(
        "SHIPPING_METHOD_UNAVAILABLE",
        "There is no such shipping method for the cart's address; choose one of cart.shippingOptions.",
        field,
      );
    }
  }
  return readOpenCart(deps, open, problem ? [problem] : []);
}
