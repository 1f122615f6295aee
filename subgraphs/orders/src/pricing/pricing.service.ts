import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import {
  countRedemptions,
  findAutomaticDiscounts,
  findDiscountByCode,
} from "../discount/discount.repository.ts";
import { findShippingMethodsForCountry, shipsAnywhere } from "../shipping/shipping.repository.ts";
import { findTaxRatesForCountry } from "../tax/tax.repository.ts";
import type { DiscountRule, ShippingMethodRule } from "./pricing.model.ts";
import {
  type DiscountProblem,
  discountProblem,
  type Pricing,
  type PricingLine,
  price,
  shippingRate,
} from "./pricing.ts";

export interface PricingDeps {
  db: Kysely<Database>;
  /** PRICES_INCLUDE_TAX: catalog prices and shipping rates include tax. */
  pricesIncludeTax: boolean;
}

/** Who buys: their past uses count against a discount's per-customer limit. */
export type PricingBuyer = { customerId: string } | { email: string };

export interface QuoteRequest {
  /** The lines for sale, in the store currency, in cart order. */
  lines: readonly PricingLine[];
  discountCode: string | null;
  /** Where the cart ships; null when not known yet: no shipping and no tax. */
  countryCode: string | null;
  shippingMethodId: string | null;
  /** Null when not known (a guest cart before checkout): per-customer limits wait for checkout. */
  buyer: PricingBuyer | null;
  now: Date;
}

export type ShippingProblem =
  | "SHIPPING_METHOD_REQUIRED"
  | "SHIPPING_METHOD_UNAVAILABLE"
  | "SHIPPING_NOT_AVAILABLE";

/** A cart priced by the rules that hold now, with why a choice the customer made does not hold. */
export interface Quote {
  pricing: Pricing;
  /** Why the cart's code does not hold; null when it does or there is none. */
  codeProblem: DiscountProblem | null;
  /** The methods for the cart's country, each priced for the cart; null without a country. */
  shippingOptions: { method: ShippingMethodRule; price: number }[] | null;
  /** Why the cart cannot check out as it is shipped; null when it can. */
  shippingProblem: ShippingProblem | null;
}

const usesOf = async (deps: PricingDeps, rule: DiscountRule, buyer: PricingBuyer | null) =>
  rule.perCustomerLimit === null || buyer === null ? null : countRedemptions(deps.db, rule.id, buyer);

/** A discount code for these lines now: its rule when it holds, else why it does not. */
export async function checkDiscountCode(
  deps: PricingDeps,
  request: Pick<QuoteRequest, "lines" | "buyer" | "now"> & { code: string },
): Promise<{ rule: DiscountRule; problem: null } | { rule: null; problem: DiscountProblem }> {
  const { lines, now, buyer } = request;
  const rule = await findDiscountByCode(deps.db, request.code);
  if (!rule) return { rule: null, problem: "DISCOUNT_NOT_FOUND" };
  const problem = discountProblem(rule, lines, { now, buyerUses: await usesOf(deps, rule, buyer) });
  return problem === null ? { rule, problem } : { rule: null, problem };
}

/**
 * Prices lines as checkout would: the automatic discounts that hold and the cart's code when
 * it holds, the chosen method when it ships to the country, and the country's tax rates.
 */
export async function quote(deps: PricingDeps, request: QuoteRequest): Promise<Quote> {
  const { lines, now, buyer, countryCode, discountCode } = request;
  const [automatic, coded, methods, taxRates] = await Promise.all([
    findAutomaticDiscounts(deps.db, now),
    discountCode ? checkDiscountCode(deps, { lines, now, buyer, code: discountCode }) : null,
    countryCode ? findShippingMethodsForCountry(deps.db, countryCode) : Promise.resolve(null),
    countryCode ? findTaxRatesForCountry(deps.db, countryCode) : Promise.resolve([]),
  ]);

  const discounts: DiscountRule[] = [];
  for (const rule of automatic) {
    if (discountProblem(rule, lines, { now, buyerUses: await usesOf(deps, rule, buyer) }) === null) {
      discounts.push(rule);
    }
  }
  if (coded?.rule) discounts.push(coded.rule);

  // A method's rate depends on the subtotal after discounts, which does not depend on shipping.
  const base = { lines, discounts, taxRates, pricesIncludeTax: deps.pricesIncludeTax };
  const afterDiscounts = price({ ...base, shipping: null });
  const net = afterDiscounts.subtotal - afterDiscounts.lineDiscountTotal;
  const shippingOptions = methods?.map((method) => ({ method, price: shippingRate(method, net) })) ?? null;
  const chosen = methods?.find((method) => method.id === request.shippingMethodId) ?? null;

  let shippingProblem: ShippingProblem | null = null;
  if (methods && methods.length > 0) {
    if (!chosen)
      shippingProblem = request.shippingMethodId ? "SHIPPING_METHOD_UNAVAILABLE" : "SHIPPING_METHOD_REQUIRED";
  } else if (countryCode && (await shipsAnywhere(deps.db))) {
    // Asked only when nothing ships to the country: is that the store's choice or no shipping at all?
    shippingProblem = "SHIPPING_NOT_AVAILABLE";
  }
  return {
    // Nothing to ship, nothing to charge for shipping: an emptied cart keeps its method for later.
    pricing: chosen && lines.length > 0 ? price({ ...base, shipping: chosen }) : afterDiscounts,
    codeProblem: coded?.problem ?? null,
    shippingOptions,
    shippingProblem,
  };
}

export const SHIPPING_PROBLEM_MESSAGES: Record<ShippingProblem, string> = {
  SHIPPING_METHOD_REQUIRED: "Choose a shipping method (cart.shippingOptions) before checking out.",
  SHIPPING_METHOD_UNAVAILABLE: "The chosen shipping method does not ship to this address; choose another.",
  SHIPPING_NOT_AVAILABLE: "The store does not ship to this country.",
};
