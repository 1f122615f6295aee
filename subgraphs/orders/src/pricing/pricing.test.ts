import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DiscountRule, ShippingMethodRule, TaxRateRule } from "./pricing.model.ts";
import {
  allocate,
  discountProblem,
  divideHalfUp,
  type PricingInput,
  type PricingLine,
  price,
  shippingRate,
  taxOn,
} from "./pricing.ts";

const rule = (over: Partial<DiscountRule> = {}): DiscountRule => ({
  id: "d1",
  code: "TEN",
  title: "10% off",
  kind: "PERCENTAGE",
  percentPpm: 100_000,
  amount: null,
  minimumSubtotal: null,
  startsAt: null,
  endsAt: null,
  usageLimit: null,
  usageCount: 0,
  perCustomerLimit: null,
  scope: "ORDER",
  categoryIds: [],
  productIds: [],
  active: true,
  ...over,
});
const flat = (amount: number, over: Partial<ShippingMethodRule> = {}): ShippingMethodRule => ({
  id: "m1",
  name: "Standard",
  zoneName: "Home",
  rateType: "FLAT",
  amount,
  bands: [],
  freeAbove: null,
  ...over,
});
const vat = (ratePpm: number, categoryId: string | null = null): TaxRateRule => ({
  categoryId,
  name: "VAT",
  ratePpm,
});
const line = (productId: string, unitPrice: number, quantity: number, categoryId: string | null = null) => ({
  productId,
  categoryId,
  unitPrice,
  quantity,
});

describe("the arithmetic by example", () => {
  it("takes 10% off two lines, adds flat shipping and 20% tax on top, each rounded on its line", () => {
    const pricing = price({
      lines: [line("a", 1999, 2), line("b", 500, 1)],
      discounts: [rule()],
      shipping: flat(499),
      taxRates: [vat(200_000)],
      pricesIncludeTax: false,
    });
    // 10% of 4498 is 449.8 → 450, shared 3998:500 → 399.9 and 50.0 → 400 and 50.
    expect(pricing.lines.map((l) => [l.subtotal, l.discount, l.tax])).toEqual([
      [3998, 400, 720], // 20% of 3598 = 719.6 → 720
      [500, 50, 90],
    ]);
    expect(pricing.discounts).toEqual([
      {
        rule: expect.objectContaining({ id: "d1" }),
        amount: 450,
        lines: [
          { productId: "a", amount: 400 },
          { productId: "b", amount: 50 },
        ],
        shippingAmount: 0,
      },
    ]);
    expect(pricing.shipping).toMatchObject({ amount: 499, discount: 0, tax: 100 }); // 99.8 → 100
    expect(pricing).toMatchObject({
      subtotal: 4498,
      discountTotal: 450,
      shippingTotal: 499,
      taxTotal: 910,
      total: 4498 - 450 + 499 + 910,
    });
  });

  it("takes tax out of prices that include it, and adds nothing on top", () => {
    const pricing = price({
      lines: [line("a", 1200, 1), line("b", 999, 1)],
      discounts: [],
      shipping: flat(600),
      taxRates: [vat(200_000)],
      pricesIncludeTax: true,
    });
    // 1200 − 1200/1.2 = 200; 999 − 832.5 (→ 833) = 166; 600 − 500 = 100.
    expect(pricing.lines.map((l) => l.tax)).toEqual([200, 166]);
    expect(pricing.taxTotal).toBe(466);
    expect(pricing.total).toBe(2799);
  });

  it("uses a category's own rate before the country's standard one, and taxes shipping at the standard rate", () => {
    const pricing = price({
      lines: [line("book", 1000, 1, "books"), line("tee", 1000, 1, "apparel")],
      discounts: [],
      shipping: flat(500),
      taxRates: [vat(190_000), vat(70_000, "books")],
      pricesIncludeTax: false,
    });
    expect(pricing.lines.map((l) => [l.taxRatePpm, l.tax])).toEqual([
      [70_000, 70],
      [190_000, 190],
    ]);
    expect(pricing.shipping?.tax).toBe(95);
  });

  it("applies percentages before fixed amounts, each to what is left, never below zero", () => {
    const pricing = price({
      lines: [line("a", 1000, 1)],
      discounts: [rule({ id: "fixed", kind: "FIXED_AMOUNT", percentPpm: null, amount: 5000 }), rule()],
      shipping: null,
      taxRates: [],
      pricesIncludeTax: false,
    });
    expect(pricing.discounts.map((d) => [d.rule.id, d.amount])).toEqual([
      ["d1", 100],
      ["fixed", 900],
    ]);
    expect(pricing.total).toBe(0);
  });

  it("limits a scoped discount to its products or categories", () => {
    const lines = [line("a", 1000, 1, "c1"), line("b", 3000, 1, "c2")];
    const byProduct = price({
      lines,
      discounts: [rule({ scope: "PRODUCTS", productIds: ["b"] })],
      shipping: null,
      taxRates: [],
      pricesIncludeTax: false,
    });
    expect(byProduct.lines.map((l) => l.discount)).toEqual([0, 300]);
    const byCategory = price({
      lines,
      discounts: [rule({ scope: "CATEGORIES", categoryIds: ["c1"] })],
      shipping: null,
      taxRates: [],
      pricesIncludeTax: false,
    });
    expect(byCategory.lines.map((l) => l.discount)).toEqual([100, 0]);
  });

  it("prices shipping by bands of the subtotal after discounts, free above a threshold, and free with a code", () => {
    const bands = flat(0, {
      rateType: "SUBTOTAL_BANDS",
      amount: null,
      bands: [
        { minSubtotal: 0, amount: 900 },
        { minSubtotal: 5000, amount: 500 },
      ],
      freeAbove: 10_000,
    });
    expect([0, 4999, 5000, 9999, 10_000].map((subtotal) => shippingRate(bands, subtotal))).toEqual([
      900, 900, 500, 500, 0,
    ]);
    // 10% off 5500 leaves 4950: the lower band.
    const pricing = price({
      lines: [line("a", 5500, 1)],
      discounts: [rule()],
      shipping: bands,
      taxRates: [],
      pricesIncludeTax: false,
    });
    expect(pricing.shippingTotal).toBe(900);
    const free = price({
      lines: [line("a", 5500, 1)],
      discounts: [rule({ id: "ship", kind: "FREE_SHIPPING", percentPpm: null })],
      shipping: bands,
      taxRates: [vat(200_000)],
      pricesIncludeTax: false,
    });
    expect(free.discounts.map((d) => [d.amount, d.shippingAmount])).toEqual([[0, 500]]);
    expect(free).toMatchObject({ shippingTotal: 500, discountTotal: 500, taxTotal: 1100, total: 6600 });
    expect(free.shipping?.tax).toBe(0);
  });

  it("keeps a zero-decimal currency's amounts whole (JPY)", () => {
    const pricing = price({
      lines: [line("a", 333, 1), line("b", 333, 1), line("c", 334, 1)],
      discounts: [rule({ kind: "FIXED_AMOUNT", percentPpm: null, amount: 100 })],
      shipping: null,
      taxRates: [vat(100_000)],
      pricesIncludeTax: true,
    });
    expect(pricing.lines.map((l) => l.discount)).toEqual([33, 33, 34]);
    expect(pricing.total).toBe(900);
  });
});

describe("discountProblem", () => {
  const lines = [line("a", 1000, 2, "c1")];
  const now = new Date("2026-12-04T12:00:00Z");
  const check = (over: Partial<DiscountRule>, buyerUses: number | null = null) =>
    discountProblem(rule(over), lines, { now, buyerUses });

  it("names each reason a discount does not hold", () => {
    expect(check({})).toBeNull();
    expect(check({ active: false })).toBe("DISCOUNT_NOT_FOUND");
    expect(check({ startsAt: new Date("2026-12-05T00:00:00Z") })).toBe("DISCOUNT_NOT_YET_ACTIVE");
    expect(check({ endsAt: now })).toBe("DISCOUNT_EXPIRED");
    expect(check({ usageLimit: 3, usageCount: 3 })).toBe("DISCOUNT_USED_UP");
    expect(check({ perCustomerLimit: 1 }, 1)).toBe("DISCOUNT_CUSTOMER_LIMIT_REACHED");
    expect(check({ perCustomerLimit: 1 }, 0)).toBeNull();
    expect(check({ minimumSubtotal: 2001 })).toBe("DISCOUNT_MINIMUM_NOT_MET");
    expect(check({ minimumSubtotal: 2000 })).toBeNull();
    expect(check({ scope: "PRODUCTS", productIds: ["b"] })).toBe("DISCOUNT_NOT_APPLICABLE");
    expect(check({ scope: "CATEGORIES", categoryIds: ["c1"] })).toBeNull();
  });
});

// Generated carts: amounts up to what an order holds, rates from 0 to 100%.
const lineArb = fc.record({
  productId: fc.constantFrom("a", "b", "c", "d", "e", "f"),
  categoryId: fc.option(fc.constantFrom("c1", "c2", "c3"), { nil: null }),
  unitPrice: fc.integer({ min: 0, max: 200_000 }),
  quantity: fc.integer({ min: 1, max: 99 }),
});
const discountArb: fc.Arbitrary<DiscountRule> = fc
  .record({
    id: fc.constantFrom("d1", "d2", "d3"),
    kind: fc.constantFrom("PERCENTAGE", "FIXED_AMOUNT", "FREE_SHIPPING" as const),
    percentPpm: fc.integer({ min: 1, max: 1_000_000 }),
    amount: fc.integer({ min: 1, max: 3_000_000 }),
    scope: fc.constantFrom("ORDER", "CATEGORIES", "PRODUCTS" as const),
    categoryIds: fc.subarray(["c1", "c2", "c3"]),
    productIds: fc.subarray(["a", "b", "c", "d"]),
  })
  .map((r) =>
    rule({
      id: r.id,
      kind: r.kind,
      percentPpm: r.kind === "PERCENTAGE" ? r.percentPpm : null,
      amount: r.kind === "FIXED_AMOUNT" ? r.amount : null,
      scope: r.scope,
      categoryIds: r.categoryIds,
      productIds: r.productIds,
    }),
  );
const shippingArb: fc.Arbitrary<ShippingMethodRule | null> = fc.option(
  fc.oneof(
    fc
      .record({
        amount: fc.integer({ min: 0, max: 50_000 }),
        freeAbove: fc.option(fc.nat(500_000), { nil: null }),
      })
      .map(({ amount, freeAbove }) => flat(amount, { freeAbove })),
    fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { maxLength: 4 }).chain((mins) =>
      fc
        .array(fc.integer({ min: 0, max: 50_000 }), {
          minLength: mins.length + 1,
          maxLength: mins.length + 1,
        })
        .map((amounts) =>
          flat(0, {
            rateType: "SUBTOTAL_BANDS",
            amount: null,
            bands: [0, ...[...mins].sort((a, b) => a - b)].map((minSubtotal, i) => ({
              minSubtotal,
              amount: amounts[i] ?? 0,
            })),
          }),
        ),
    ),
  ),
  { nil: null },
);
const taxArb = fc.array(
  fc.record({
    categoryId: fc.option(fc.constantFrom("c1", "c2"), { nil: null }),
    name: fc.constant("tax"),
    ratePpm: fc.integer({ min: 0, max: 1_000_000 }),
  }),
  { maxLength: 3 },
);
const inputArb: fc.Arbitrary<PricingInput> = fc.record({
  lines: fc.array(lineArb, { minLength: 1, maxLength: 12 }),
  discounts: fc.array(discountArb, { maxLength: 3 }),
  shipping: shippingArb,
  taxRates: taxArb,
  pricesIncludeTax: fc.boolean(),
});

describe("the arithmetic on generated carts", () => {
  it("makes totals equal the sum of their parts, and nothing negative", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const p = price(input);
        const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
        expect(p.subtotal).toBe(sum(p.lines.map((l) => l.subtotal)));
        expect(p.lineDiscountTotal).toBe(sum(p.lines.map((l) => l.discount)));
        expect(p.lineDiscountTotal).toBe(sum(p.discounts.map((d) => d.amount)));
        expect(p.discountTotal).toBe(p.lineDiscountTotal + sum(p.discounts.map((d) => d.shippingAmount)));
        for (const d of p.discounts) expect(sum(d.lines.map((l) => l.amount))).toBe(d.amount);
        expect(p.taxTotal).toBe(sum(p.lines.map((l) => l.tax)) + (p.shipping?.tax ?? 0));
        expect(p.total).toBe(
          p.subtotal - p.discountTotal + p.shippingTotal + (input.pricesIncludeTax ? 0 : p.taxTotal),
        );
        for (const l of p.lines) {
          expect(l.subtotal).toBe(l.unitPrice * l.quantity);
          expect(l.discount).toBeGreaterThanOrEqual(0);
          expect(l.discount).toBeLessThanOrEqual(l.subtotal);
          expect(l.tax).toBeGreaterThanOrEqual(0);
          if (input.pricesIncludeTax) expect(l.tax).toBeLessThanOrEqual(l.subtotal - l.discount);
        }
        if (p.shipping) expect(p.shipping.discount).toBeLessThanOrEqual(p.shipping.amount);
        expect(p.total).toBeGreaterThanOrEqual(0);
        for (const value of [p.subtotal, p.discountTotal, p.shippingTotal, p.taxTotal, p.total]) {
          expect(Number.isSafeInteger(value)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("rounds consistently: a line's tax depends only on its amount after discounts and its rate", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const p = price(input);
        for (const l of p.lines) {
          expect(l.tax).toBe(taxOn(l.subtotal - l.discount, l.taxRatePpm, input.pricesIncludeTax));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("gives the same taxes whether a store's prices include tax or add it, within one unit a line", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (net, rate) => {
          // A net price with tax added, then the tax taken back out of the gross: the same amount.
          const added = taxOn(net, rate, false);
          const out = taxOn(net + added, rate, true);
          expect(Math.abs(out - added)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("allocates exactly, in proportion, and never more than a weight", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 20 }),
        fc.nat(),
        (weights, seed) => {
          const total = weights.reduce((a, b) => a + b, 0);
          const amount = total === 0 ? 0 : seed % (total + 1);
          const shares = allocate(amount, weights);
          expect(shares.reduce((a, b) => a + b, 0)).toBe(amount);
          shares.forEach((share, i) => {
            const weight = weights[i] ?? 0;
            expect(share).toBeLessThanOrEqual(weight);
            // Within one unit of the exact proportional share (all weights zero: nothing to share).
            if (total > 0) expect(Math.abs(share * total - amount * weight)).toBeLessThan(total);
            else expect(share).toBe(0);
          });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("rounds half up", () => {
    expect([divideHalfUp(5n, 2n), divideHalfUp(7n, 2n), divideHalfUp(4n, 3n), divideHalfUp(5n, 3n)]).toEqual([
      3n,
      4n,
      1n,
      2n,
    ]);
  });

  it("takes a lone percentage off the whole order as the rounded percentage of its subtotal", () => {
    fc.assert(
      fc.property(
        fc.array(lineArb, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (lines: PricingLine[], ppm) => {
          const p = price({
            lines,
            discounts: [rule({ percentPpm: ppm })],
            shipping: null,
            taxRates: [],
            pricesIncludeTax: false,
          });
          const subtotal = lines.reduce((s, l) => s + l.unitPrice * l.quantity, 0);
          // Exact in a double: at most 2.4e7 × 1e6.
          const exact = subtotal * ppm;
          expect(p.discountTotal).toBe(
            Math.floor(exact / 1_000_000) + (exact % 1_000_000 >= 500_000 ? 1 : 0),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
