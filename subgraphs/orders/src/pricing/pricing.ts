import type { DiscountRule, ShippingMethodRule, TaxRateRule } from "./pricing.model.ts";

/**
 * The store's price arithmetic: one pure function from a cart's lines and the rules that apply
 * to it to every amount the cart shows and the order snapshots. Amounts are integer minor
 * units; rates are parts per million. The rules, in the order they are applied:
 *
 * 1. A line's subtotal is unit price × quantity; the order's subtotal is their sum.
 * 2. Discounts take off the lines in turn: percentages first, then fixed amounts, each from
 *    what is left of the lines it applies to after the ones before. A discount's amount is
 *    computed once for all its lines (a percentage rounded half up) and shared among them in
 *    proportion to what is left of each, by largest remainder: the shares are whole minor
 *    units, add up to the amount exactly, and never take a line below zero.
 * 3. Shipping: the method's rate for the subtotal after discounts (free from `freeAbove`); a
 *    free-shipping discount takes all of it off.
 * 4. Tax, per line, on what is left of the line after discounts, rounded half up on each line:
 *    added to it (tax = net × rate), or taken out of it when prices include tax
 *    (tax = net − net / (1 + rate)). A line's rate is its category's rate in the country, else
 *    the country's standard rate, else none. Shipping after its discount is taxed the same way
 *    at the standard rate.
 * 5. total = subtotal − discounts + shipping, plus the tax when prices exclude it.
 */

export interface PricingLine {
  productId: string;
  categoryId: string | null;
  unitPrice: number;
  quantity: number;
}

export interface PricingInput {
  lines: readonly PricingLine[];
  /** The discounts that hold for this cart (dates, limits and minimum already checked). */
  discounts: readonly DiscountRule[];
  /** The chosen shipping method; null when none applies. */
  shipping: ShippingMethodRule | null;
  /** The tax rates of the country the cart ships to; empty when it has none or none is known. */
  taxRates: readonly TaxRateRule[];
  pricesIncludeTax: boolean;
}

export interface PricedLine extends PricingLine {
  /** unitPrice × quantity. */
  subtotal: number;
  /** What discounts took off `subtotal`. */
  discount: number;
  /** Tax on subtotal − discount: added to it, or inside it when prices include tax. */
  tax: number;
  taxRatePpm: number;
}

export interface AppliedDiscount {
  rule: DiscountRule;
  /** Taken off the lines: the sum of `lines`. */
  amount: number;
  /** Per line it applies to, in line order; lines it took nothing off are left out. */
  lines: { productId: string; amount: number }[];
  /** Taken off the shipping. */
  shippingAmount: number;
}

export interface PricedShipping {
  method: ShippingMethodRule;
  /** The method's rate for this cart, before a free-shipping discount. */
  amount: number;
  /** Taken off by a free-shipping discount. */
  discount: number;
  tax: number;
  taxRatePpm: number;
}

export interface Pricing {
  lines: PricedLine[];
  subtotal: number;
  /** Discounts with an effect on this cart, in the order they were applied. */
  discounts: AppliedDiscount[];
  /** What the discounts took off the lines. */
  lineDiscountTotal: number;
  /** What the discounts took off the lines and the shipping. */
  discountTotal: number;
  shipping: PricedShipping | null;
  /** The shipping method's rate, before its discount; zero without one. */
  shippingTotal: number;
  /** Tax on the lines and the shipping. */
  taxTotal: number;
  /** What the customer pays. */
  total: number;
  pricesIncludeTax: boolean;
}

const PPM = 1_000_000n;

/** Parts per million as the percent clients read (200000 → 20). */
export const ppmToPercent = (ppm: number): number => ppm / 10_000;

/**
 * A percent as parts per million (8.875 → 88750), or null when it is not a finite number from 0
 * to 100 with at most four decimals.
 */
export function percentToPpm(percent: number): number | null {
  if (!Number.isFinite(percent)) return null;
  const ppm = Math.round(percent * 10_000);
  if (Math.abs(percent * 10_000 - ppm) > 1e-6) return null;
  return ppm >= 0 && ppm <= 1_000_000 ? ppm : null;
}

/** `numerator / denominator` rounded half up, for non-negative integers. */
export function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator * 2n + denominator) / (denominator * 2n);
}

/** `amount × ppm / 1 000 000`, rounded half up. */
export const ppmOf = (amount: number, ppm: number): number =>
  Number(divideHalfUp(BigInt(amount) * BigInt(ppm), PPM));

/** The tax on a net amount at a rate: on top of it, or inside it when prices include tax. */
export function taxOn(net: number, ratePpm: number, pricesIncludeTax: boolean): number {
  if (ratePpm === 0 || net === 0) return 0;
  if (!pricesIncludeTax) return ppmOf(net, ratePpm);
  return net - Number(divideHalfUp(BigInt(net) * PPM, PPM + BigInt(ratePpm)));
}

/**
 * Splits `amount` among `weights` in proportion, in whole units that add up to `amount`
 * exactly: each gets the floor of its share, and the units left go to the largest remainders
 * (the earlier one on a tie). With `amount` at most the sum of the weights, no share passes
 * its weight.
 */
export function allocate(amount: number, weights: readonly number[]): number[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  if (amount === 0 || total === 0) return weights.map(() => 0);
  const big = BigInt(amount);
  const sum = BigInt(total);
  const shares = weights.map((weight) => {
    const exact = big * BigInt(weight);
    return { floor: exact / sum, remainder: exact % sum };
  });
  let left = amount - shares.reduce((acc, share) => acc + Number(share.floor), 0);
  const byRemainder = shares
    .map((share, index) => ({ index, remainder: share.remainder }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  const result = shares.map((share) => Number(share.floor));
  for (const { index } of byRemainder) {
    if (left === 0) break;
    result[index] = (result[index] ?? 0) + 1;
    left -= 1;
  }
  return result;
}

/** Whether a discount's scope takes in a line. */
export function inScope(rule: DiscountRule, line: Pick<PricingLine, "productId" | "categoryId">): boolean {
  if (rule.scope === "ORDER") return true;
  if (rule.scope === "PRODUCTS") return rule.productIds.includes(line.productId);
  return line.categoryId !== null && rule.categoryIds.includes(line.categoryId);
}

const KIND_ORDER: Record<DiscountRule["kind"], number> = { PERCENTAGE: 0, FIXED_AMOUNT: 1, FREE_SHIPPING: 2 };

/** The shipping method's rate for a subtotal after discounts. */
export function shippingRate(method: ShippingMethodRule, subtotal: number): number {
  if (method.freeAbove !== null && subtotal >= method.freeAbove) return 0;
  if (method.rateType === "FLAT") return method.amount ?? 0;
  let rate = 0;
  for (const band of method.bands) if (subtotal >= band.minSubtotal) rate = band.amount;
  return rate;
}

/** A country's rate for a category: the category's own, else the standard one, else none. */
export function taxRateFor(rates: readonly TaxRateRule[], categoryId: string | null): number {
  const own = categoryId === null ? undefined : rates.find((rate) => rate.categoryId === categoryId);
  return (own ?? rates.find((rate) => rate.categoryId === null))?.ratePpm ?? 0;
}

export function price(input: PricingInput): Pricing {
  const subtotals = input.lines.map((line) => line.unitPrice * line.quantity);
  const left = [...subtotals];
  const subtotal = subtotals.reduce((sum, amount) => sum + amount, 0);

  const ordered = input.discounts
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => KIND_ORDER[a.rule.kind] - KIND_ORDER[b.rule.kind] || a.index - b.index);
  const applied: AppliedDiscount[] = [];
  const freeShipping: AppliedDiscount[] = [];
  for (const { rule } of ordered) {
    if (rule.kind === "FREE_SHIPPING") {
      const entry = { rule, amount: 0, lines: [], shippingAmount: 0 };
      applied.push(entry);
      freeShipping.push(entry);
      continue;
    }
    const eligible = input.lines.flatMap((line, i) => (inScope(rule, line) && (left[i] ?? 0) > 0 ? [i] : []));
    const base = eligible.reduce((sum, i) => sum + (left[i] ?? 0), 0);
    const amount =
      rule.kind === "PERCENTAGE" ? ppmOf(base, rule.percentPpm ?? 0) : Math.min(rule.amount ?? 0, base);
    if (amount === 0) continue;
    const shares = allocate(
      amount,
      eligible.map((i) => left[i] ?? 0),
    );
    const lines: AppliedDiscount["lines"] = [];
    eligible.forEach((lineIndex, k) => {
      const share = shares[k] ?? 0;
      if (share === 0) return;
      left[lineIndex] = (left[lineIndex] ?? 0) - share;
      lines.push({ productId: input.lines[lineIndex]?.productId ?? "", amount: share });
    });
    applied.push({ rule, amount, lines, shippingAmount: 0 });
  }

  const net = left.reduce((sum, amount) => sum + amount, 0);
  let shipping: PricedShipping | null = null;
  if (input.shipping) {
    const amount = shippingRate(input.shipping, net);
    // One free-shipping discount takes it all; the first one gets the credit.
    const discount = freeShipping.length > 0 ? amount : 0;
    const first = freeShipping[0];
    if (first) first.shippingAmount = discount;
    const taxRatePpm = taxRateFor(input.taxRates, null);
    shipping = {
      method: input.shipping,
      amount,
      discount,
      taxRatePpm,
      tax: taxOn(amount - discount, taxRatePpm, input.pricesIncludeTax),
    };
  }

  const lines: PricedLine[] = input.lines.map((line, i) => {
    const lineNet = left[i] ?? 0;
    const taxRatePpm = taxRateFor(input.taxRates, line.categoryId);
    return {
      ...line,
      subtotal: subtotals[i] ?? 0,
      discount: (subtotals[i] ?? 0) - lineNet,
      taxRatePpm,
      tax: taxOn(lineNet, taxRatePpm, input.pricesIncludeTax),
    };
  });
  const lineDiscountTotal = subtotal - net;
  const shippingTotal = shipping?.amount ?? 0;
  const discountTotal = lineDiscountTotal + (shipping?.discount ?? 0);
  const taxTotal = lines.reduce((sum, line) => sum + line.tax, 0) + (shipping?.tax ?? 0);
  return {
    lines,
    subtotal,
    // A free-shipping discount shows even before there is shipping to take off; another one
    // that took nothing off (nothing left in its scope) is not shown.
    discounts: applied.filter((entry) => entry.rule.kind === "FREE_SHIPPING" || entry.amount > 0),
    lineDiscountTotal,
    discountTotal,
    shipping,
    shippingTotal,
    taxTotal,
    total: subtotal - discountTotal + shippingTotal + (input.pricesIncludeTax ? 0 : taxTotal),
    pricesIncludeTax: input.pricesIncludeTax,
  };
}

/** Why a discount does not hold for a cart, as the userError code that says so. */
export type DiscountProblem =
  | "DISCOUNT_NOT_FOUND"
  | "DISCOUNT_NOT_YET_ACTIVE"
  | "DISCOUNT_EXPIRED"
  | "DISCOUNT_USED_UP"
  | "DISCOUNT_CUSTOMER_LIMIT_REACHED"
  | "DISCOUNT_MINIMUM_NOT_MET"
  | "DISCOUNT_NOT_APPLICABLE";

/**
 * Whether a discount holds for these lines now: switched on, within its dates, not used up
 * (in all, and by this buyer when `buyerUses` is known), the subtotal before discounts at its
 * minimum, and something in the cart in its scope. Null when it holds.
 */
export function discountProblem(
  rule: DiscountRule,
  lines: readonly PricingLine[],
  context: { now: Date; buyerUses: number | null },
): DiscountProblem | null {
  if (!rule.active) return "DISCOUNT_NOT_FOUND";
  if (rule.startsAt && context.now < rule.startsAt) return "DISCOUNT_NOT_YET_ACTIVE";
  if (rule.endsAt && context.now >= rule.endsAt) return "DISCOUNT_EXPIRED";
  if (rule.usageLimit !== null && rule.usageCount >= rule.usageLimit) return "DISCOUNT_USED_UP";
  if (
    rule.perCustomerLimit !== null &&
    context.buyerUses !== null &&
    context.buyerUses >= rule.perCustomerLimit
  ) {
    return "DISCOUNT_CUSTOMER_LIMIT_REACHED";
  }
  const subtotal = lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  if (rule.minimumSubtotal !== null && subtotal < rule.minimumSubtotal) return "DISCOUNT_MINIMUM_NOT_MET";
  if (!lines.some((line) => line.unitPrice * line.quantity > 0 && inScope(rule, line))) {
    return "DISCOUNT_NOT_APPLICABLE";
  }
  return null;
}

export const DISCOUNT_PROBLEM_MESSAGES: Record<DiscountProblem, string> = {
  DISCOUNT_NOT_FOUND: "There is no such discount code.",
  DISCOUNT_NOT_YET_ACTIVE: "This discount code is not valid yet.",
  DISCOUNT_EXPIRED: "This discount code has expired.",
  DISCOUNT_USED_UP: "This discount code has been used as often as it may be.",
  DISCOUNT_CUSTOMER_LIMIT_REACHED: "You have used this discount code as often as it allows.",
  DISCOUNT_MINIMUM_NOT_MET: "The cart's subtotal is below this discount code's minimum.",
  DISCOUNT_NOT_APPLICABLE: "Nothing in the cart is eligible for this discount code.",
};
