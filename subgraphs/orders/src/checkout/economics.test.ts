import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ADDRESS, CLOTHING, createTestOperations, LAPTOP, SHOES, TEE, useTestEnv } from "../test-env.ts";

const env = useTestEnv("orders_economics");
const { A, B, ADMIN } = env;
const { data, fromInventory } = createTestOperations(env);

const staff = { as: { id: ADMIN, role: "ADMIN" as const } };
const as = (id: string) => ({ as: { id } });
const errors = "userErrors { field code message }";
interface UserErrorShape {
  field: string[] | null;
  code: string;
  message: string;
}

const CART = `token discountCode subtotal { amount } discountTotal { amount } shippingTotal { amount }
  taxTotal { amount } total { amount } pricesIncludeTax
  discounts { code title kind amount { amount } shippingAmount { amount } lines { productId amount { amount } } }
  shippingAddress { countryCode } shippingOptions { id name zoneName price { amount } }
  shippingMethod { id name price { amount } }
  lines { productId quantity discount { amount } tax { amount } }`;
const ORDER = `id status subtotal { amount currencyCode } discountTotal { amount } shippingTotal { amount }
  taxTotal { amount } total { amount } pricesIncludeTax shippingMethod { id name zoneName }
  discounts { code title kind amount { amount } shippingAmount { amount } lines { productId amount { amount } } }
  lines { productId quantity lineTotal { amount } discount { amount } tax { amount } taxRate }`;

interface Cart {
  discountCode: string | null;
  subtotal: { amount: number };
  discountTotal: { amount: number };
  shippingTotal: { amount: number };
  taxTotal: { amount: number };
  total: { amount: number };
  discounts: {
    code: string | null;
    amount: { amount: number };
    lines: { productId: string; amount: { amount: number } }[];
  }[];
  shippingOptions: { id: string; name: string; price: { amount: number } }[];
  shippingMethod: { id: string } | null;
  lines: { productId: string; discount: { amount: number } | null; tax: { amount: number } | null }[];
}
interface Order {
  id: string;
  status: string;
  subtotal: { amount: number };
  discountTotal: { amount: number };
  shippingTotal: { amount: number };
  taxTotal: { amount: number };
  total: { amount: number };
  pricesIncludeTax: boolean;
  shippingMethod: { id: string; name: string; zoneName: string } | null;
  discounts: {
    code: string | null;
    amount: { amount: number };
    lines: { productId: string; amount: { amount: number } }[];
  }[];
  lines: { productId: string; discount: { amount: number }; tax: { amount: number }; taxRate: number }[];
}

async function cartMutation(name: string, input: Record<string, unknown> | null, who = A) {
  const inputType = {
    applyDiscountCode: "ApplyDiscountCodeInput!",
    removeDiscountCode: "RemoveDiscountCodeInput",
    setCartShippingAddress: "SetCartShippingAddressInput!",
    selectShippingMethod: "SelectShippingMethodInput!",
  }[name];
  const result = await data<Record<string, { cart: Cart; userErrors: UserErrorShape[] }>>(
    `mutation ($input: ${inputType}) { ${name}(input: $input) { cart { ${CART} } ${errors} } }`,
    { input },
    as(who),
  );
  const payload = result[name];
  if (!payload) throw new Error(`no ${name} payload`);
  return payload;
}
const applyCode = (code: string, who = A) => cartMutation("applyDiscountCode", { code }, who);
const shipTo = (countryCode: string, who = A) =>
  cartMutation("setCartShippingAddress", { address: { ...ADDRESS, countryCode } }, who);
const chooseMethod = (methodId: string, who = A) => cartMutation("selectShippingMethod", { methodId }, who);

async function checkout(who = A, input: Record<string, unknown> = {}) {
  const result = await data<{ checkout: { order: Order | null; userErrors: UserErrorShape[] } }>(
    `mutation ($input: CheckoutInput!) { checkout(input: $input) { order { ${ORDER} } ${errors} } }`,
    { input: { idempotencyKey: randomUUID(), ...input } },
    as(who),
  );
  return result.checkout;
}

async function createDiscount(input: Record<string, unknown>): Promise<string> {
  const result = await data<{
    createDiscount: { discount: { id: string } | null; userErrors: UserErrorShape[] };
  }>(
    `mutation ($input: CreateDiscountInput!) { createDiscount(input: $input) { discount { id } ${errors} } }`,
    { input },
    staff,
  );
  expect(result.createDiscount.userErrors).toEqual([]);
  return result.createDiscount.discount?.id ?? "";
}
async function usageCount(id: string): Promise<number> {
  const result = await data<{ discount: { usageCount: number } }>(
    "query ($id: ID!) { discount(id: $id) { usageCount } }",
    { id },
    staff,
  );
  return result.discount.usageCount;
}

/** A zone for `countries` with a flat method and a banded one; returns the methods' ids. */
async function shippingZone(countries: string[]): Promise<{ flat: string; bands: string }> {
  const zone = await data<{
    createShippingZone: { zone: { id: string } | null; userErrors: UserErrorShape[] };
  }>(
    `mutation ($input: CreateShippingZoneInput!) { createShippingZone(input: $input) { zone { id } ${errors} } }`,
    { input: { name: `Zone ${countries.join(" ")}`, countries } },
    staff,
  );
  expect(zone.createShippingZone.userErrors).toEqual([]);
  const zoneId = zone.createShippingZone.zone?.id;
  const method = async (input: Record<string, unknown>) => {
    const result = await data<{
      createShippingMethod: { method: { id: string } | null; userErrors: UserErrorShape[] };
    }>(
      `mutation ($input: CreateShippingMethodInput!) { createShippingMethod(input: $input) { method { id } ${errors} } }`,
      { input: { zoneId, ...input } },
      staff,
    );
    expect(result.createShippingMethod.userErrors).toEqual([]);
    return result.createShippingMethod.method?.id ?? "";
  };
  return {
    flat: await method({ name: "Standard", rateType: "FLAT", amount: 499 }),
    bands: await method({
      name: "Express",
      rateType: "SUBTOTAL_BANDS",
      bands: [
        { minSubtotal: 0, amount: 1500 },
        { minSubtotal: 10_000, amount: 900 },
      ],
      freeAbove: 100_000,
    }),
  };
}
async function taxRate(countryCode: string, ratePercent: number, categoryId?: string) {
  const result = await data<{ setTaxRate: { userErrors: UserErrorShape[] } }>(
    `mutation ($input: SetTaxRateInput!) { setTaxRate(input: $input) { ${errors} } }`,
    { input: { countryCode, ratePercent, name: "VAT", ...(categoryId ? { categoryId } : {}) } },
    staff,
  );
  expect(result.setTaxRate.userErrors).toEqual([]);
}
const fill = async (lines: [string, number][], who = A) => {
  for (const [productId, quantity] of lines)
    expect(await env.carts.add(who, productId, quantity)).toEqual({ ok: true });
};
const codesOf = (payload: { userErrors: UserErrorShape[] }) => payload.userErrors.map((e) => e.code);

describe("discount codes on the cart", () => {
  it("shows the code's share of each line and the totals, and takes it off again", async () => {
    await createDiscount({ code: "Ten", title: "10% off", kind: "PERCENTAGE", percentOff: 10 });
    await fill([
      [TEE, 2],
      [SHOES, 1],
    ]);
    const applied = await applyCode(" ten ");
    expect(applied.userErrors).toEqual([]);
    // 10% of 2 × 1999 + 8950 = 12948 is 1294.8 → 1295, shared 3998:8950 → 399.86 and 895.14.
    expect(applied.cart).toMatchObject({
      discountCode: "TEN",
      subtotal: { amount: 12_948 },
      discountTotal: { amount: 1295 },
      total: { amount: 12_948 - 1295 },
      discounts: [
        {
          code: "TEN",
          amount: { amount: 1295 },
          lines: [
            { productId: TEE, amount: { amount: 400 } },
            { productId: SHOES, amount: { amount: 895 } },
          ],
        },
      ],
    });
    expect(applied.cart.lines.map((line) => line.discount?.amount)).toEqual([400, 895]);
    const removed = await cartMutation("removeDiscountCode", null);
    expect(removed.cart).toMatchObject({ discountCode: null, discounts: [], total: { amount: 12_948 } });
  });

  it("refuses a code that does not hold, with a code for each reason, and leaves the cart as it was", async () => {
    const day = 86_400_000;
    await createDiscount({
      code: "LATER",
      title: "Soon",
      kind: "PERCENTAGE",
      percentOff: 5,
      startsAt: new Date(Date.now() + day).toISOString(),
    });
    await createDiscount({
      code: "GONE",
      title: "Over",
      kind: "PERCENTAGE",
      percentOff: 5,
      startsAt: new Date(Date.now() - 2 * day).toISOString(),
      endsAt: new Date(Date.now() - day).toISOString(),
    });
    await createDiscount({
      code: "BIG",
      title: "Big baskets",
      kind: "FIXED_AMOUNT",
      amountOff: 1000,
      minimumSubtotal: 50_000,
    });
    await createDiscount({
      code: "SHOESONLY",
      title: "Shoes",
      kind: "PERCENTAGE",
      percentOff: 20,
      scope: "PRODUCTS",
      productIds: [SHOES],
    });
    await createDiscount({
      code: "WEAR",
      title: "Clothing",
      kind: "PERCENTAGE",
      percentOff: 20,
      scope: "CATEGORIES",
      categoryIds: [CLOTHING],
    });
    await fill([[TEE, 1]]);
    const refusals = [
      ["no spaces", "INVALID_DISCOUNT_CODE"],
      ["NOPE", "DISCOUNT_NOT_FOUND"],
      ["LATER", "DISCOUNT_NOT_YET_ACTIVE"],
      ["GONE", "DISCOUNT_EXPIRED"],
      ["BIG", "DISCOUNT_MINIMUM_NOT_MET"],
      ["SHOESONLY", "DISCOUNT_NOT_APPLICABLE"],
    ];
    for (const [code, expected] of refusals) {
      const payload = await applyCode(code ?? "");
      expect(codesOf(payload), code).toEqual([expected]);
      expect(payload.userErrors[0]?.field).toEqual(["input", "code"]);
      expect(payload.cart.discountCode).toBeNull();
    }
    expect(codesOf(await applyCode("wear"))).toEqual([]);
    expect(codesOf(await applyCode("nope"))).toEqual(["DISCOUNT_NOT_FOUND"]);
    expect((await data<{ cart: Cart }>(`{ cart { ${CART} } }`, {}, as(A))).cart.discountCode).toBe("WEAR");
  });

  it("applies automatic discounts without a code", async () => {
    await createDiscount({
      title: "5 off clothing",
      kind: "FIXED_AMOUNT",
      amountOff: 500,
      scope: "CATEGORIES",
      categoryIds: [CLOTHING],
    });
    await fill([
      [TEE, 1],
      [LAPTOP, 1],
    ]);
    const cart = (await data<{ cart: Cart }>(`{ cart { ${CART} } }`, {}, as(A))).cart;
    expect(cart.discounts).toMatchObject([
      { code: null, amount: { amount: 500 }, lines: [{ productId: TEE }] },
    ]);
    expect(cart.total.amount).toBe(1999 + 129_900 - 500);
  });
});

describe("a guest cart's choices", () => {
  it("carry over to the customer's cart at sign-in, where the customer has made none", async () => {
    await createDiscount({ code: "HELLO", title: "Hello", kind: "FIXED_AMOUNT", amountOff: 300 });
    const added = await data<{ addToCart: { cart: { token: string } } }>(
      "mutation ($input: AddToCartInput!) { addToCart(input: $input) { cart { token } } }",
      { input: { productId: TEE, quantity: 1 } },
    );
    const cartToken = added.addToCart.cart.token;
    const guest = async (name: string, input: Record<string, unknown>, inputType: string) => {
      const result = await data<Record<string, { cart: Cart; userErrors: UserErrorShape[] }>>(
        `mutation ($input: ${inputType}) { ${name}(input: $input) { cart { ${CART} } ${errors} } }`,
        { input: { ...input, cartToken } },
      );
      expect(result[name]?.userErrors).toEqual([]);
      return result[name]?.cart;
    };
    await guest("applyDiscountCode", { code: "hello" }, "ApplyDiscountCodeInput!");
    const addressed = await guest(
      "setCartShippingAddress",
      { address: { ...ADDRESS, countryCode: "IE" } },
      "SetCartShippingAddressInput!",
    );
    expect(addressed?.total.amount).toBe(1999 - 300);
    const merged = await data<{
      mergeGuestCart: { cart: Cart & { shippingAddress: { countryCode: string } } };
    }>(
      `mutation ($input: MergeGuestCartInput!) { mergeGuestCart(input: $input) { cart { ${CART} } } }`,
      { input: { cartToken } },
      as(B),
    );
    expect(merged.mergeGuestCart.cart).toMatchObject({
      discountCode: "HELLO",
      shippingAddress: { countryCode: "IE" },
      total: { amount: 1999 - 300 },
    });
  });
});

describe("shipping and tax", () => {
  it("offers the methods of the address's zone, priced for the cart, and adds shipping and tax to the total", async () => {
    const methods = await shippingZone(["GB", "IE"]);
    await taxRate("GB", 20);
    await fill([[TEE, 2]]);
    expect(codesOf(await chooseMethod(methods.flat))).toEqual(["SHIPPING_ADDRESS_REQUIRED"]);
    const addressed = await shipTo("gb");
    expect(addressed.cart.shippingOptions).toEqual([
      { id: methods.flat, name: "Standard", zoneName: "Zone GB IE", price: { amount: 499 } },
      { id: methods.bands, name: "Express", zoneName: "Zone GB IE", price: { amount: 1500 } },
    ]);
    expect(codesOf(await chooseMethod(randomUUID()))).toEqual(["SHIPPING_METHOD_UNAVAILABLE"]);
    const chosen = await chooseMethod(methods.bands);
    // 3998 + 1500 shipping; 20% tax: 799.6 → 800 on the tees, 300 on the shipping.
    expect(chosen.cart).toMatchObject({
      shippingMethod: { id: methods.bands, price: { amount: 1500 } },
      shippingTotal: { amount: 1500 },
      taxTotal: { amount: 1100 },
      total: { amount: 3998 + 1500 + 1100 },
    });
    expect(chosen.cart.lines.map((line) => line.tax?.amount)).toEqual([800]);
    // A country the method does not ship to drops it.
    const moved = await shipTo("FR");
    expect(moved.cart).toMatchObject({ shippingMethod: null, shippingOptions: [], taxTotal: { amount: 0 } });
  });

  it("makes checkout need a method where one applies and refuses a country the store does not ship to", async () => {
    const methods = await shippingZone(["GB"]);
    await fill([[TEE, 1]]);
    await shipTo("GB");
    const missing = await checkout();
    expect(codesOf(missing)).toEqual(["SHIPPING_METHOD_REQUIRED"]);
    await chooseMethod(methods.flat);
    const elsewhere = await checkout(A, { shippingAddress: { ...ADDRESS, countryCode: "US" } });
    expect(codesOf(elsewhere)).toEqual(["SHIPPING_NOT_AVAILABLE"]);
    // No address in the input: the cart's.
    const placed = await checkout();
    expect(placed.userErrors).toEqual([]);
    expect(placed.order).toMatchObject({
      shippingMethod: { id: methods.flat, name: "Standard", zoneName: "Zone GB" },
      shippingTotal: { amount: 499 },
      total: { amount: 1999 + 499 },
    });
  });

  it("takes tax out of prices that include it, by category, and snapshots it on the order's lines", async () => {
    env.deps.pricesIncludeTax = true;
    const methods = await shippingZone(["DE"]);
    await taxRate("DE", 19);
    await taxRate("DE", 7, CLOTHING);
    await fill([
      [TEE, 1],
      [LAPTOP, 1],
    ]);
    await shipTo("DE");
    await chooseMethod(methods.flat);
    const placed = await checkout();
    expect(placed.userErrors).toEqual([]);
    // Tee at 7%: 1999 − 1999/1.07 = 130.78 → 131; laptop at 19%: 129900 − 109159.66 → 20740;
    // shipping at 19%: 499 − 419.33 → 80.
    expect(placed.order).toMatchObject({
      pricesIncludeTax: true,
      subtotal: { amount: 131_899 },
      taxTotal: { amount: 131 + 20_740 + 80 },
      total: { amount: 131_899 + 499 },
    });
    expect(placed.order?.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ productId: TEE, tax: { amount: 131 }, taxRate: 7 }),
        expect.objectContaining({ productId: LAPTOP, tax: { amount: 20_740 }, taxRate: 19 }),
      ]),
    );
  });
});

describe("discounts at checkout", () => {
  it("snapshots the code on the order, counts its use once per order and gives it back when the order is cancelled", async () => {
    const id = await createDiscount({
      code: "ONCE",
      title: "Once each",
      kind: "FIXED_AMOUNT",
      amountOff: 1000,
      perCustomerLimit: 1,
    });
    await fill([[SHOES, 1]]);
    await applyCode("ONCE");
    const key = randomUUID();
    const placed = await checkout(A, { idempotencyKey: key, shippingAddress: ADDRESS });
    expect(placed.userErrors).toEqual([]);
    expect(placed.order).toMatchObject({
      subtotal: { amount: 8950 },
      discountTotal: { amount: 1000 },
      total: { amount: 7950 },
      discounts: [
        { code: "ONCE", amount: { amount: 1000 }, lines: [{ productId: SHOES, amount: { amount: 1000 } }] },
      ],
      lines: [{ productId: SHOES, discount: { amount: 1000 } }],
    });
    // A retry with the key is the same order, and counts nothing more.
    const again = await checkout(A, { idempotencyKey: key, shippingAddress: ADDRESS });
    expect(again.order?.id).toBe(placed.order?.id);
    expect(await usageCount(id)).toBe(1);
    // The cart's code went with the order; this customer has used their one use.
    await fill([[SHOES, 1]]);
    expect(codesOf(await applyCode("ONCE"))).toEqual(["DISCOUNT_CUSTOMER_LIMIT_REACHED"]);
    const cancelled = await data<{ cancelOrder: { userErrors: UserErrorShape[] } }>(
      `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { ${errors} } }`,
      { input: { orderId: placed.order?.id } },
      as(A),
    );
    expect(cancelled.cancelOrder.userErrors).toEqual([]);
    expect(await usageCount(id)).toBe(0);
    expect(codesOf(await applyCode("ONCE"))).toEqual([]);
  });

  it("gives the use back when the order is rejected", async () => {
    const id = await createDiscount({
      code: "BACK",
      title: "Back",
      kind: "PERCENTAGE",
      percentOff: 10,
      usageLimit: 1,
    });
    await fill([[TEE, 1]]);
    await applyCode("BACK");
    const placed = await checkout(A, { shippingAddress: ADDRESS });
    expect(placed.userErrors).toEqual([]);
    expect(await usageCount(id)).toBe(1);
    await fill([[TEE, 1]], B);
    expect(codesOf(await applyCode("BACK", B))).toEqual(["DISCOUNT_USED_UP"]);
    await fromInventory("InventoryRejected", {
      orderId: placed.order?.id ?? "",
      lines: [{ productId: TEE, requested: 1, available: 0 }],
    });
    expect(await usageCount(id)).toBe(0);
    expect(codesOf(await applyCode("BACK", B))).toEqual([]);
  });

  it("refuses the checkout when the code stopped holding since it was applied", async () => {
    const id = await createDiscount({ code: "BRIEF", title: "Brief", kind: "PERCENTAGE", percentOff: 10 });
    await fill([[TEE, 1]]);
    await applyCode("BRIEF");
    await data(
      `mutation ($input: UpdateDiscountInput!) { updateDiscount(input: $input) { ${errors} } }`,
      { input: { id, active: false } },
      staff,
    );
    const refused = await checkout(A, { shippingAddress: ADDRESS });
    expect(refused.userErrors).toEqual([
      expect.objectContaining({ code: "DISCOUNT_NOT_FOUND", field: ["cart", "discountCode"] }),
    ]);
  });

  it("gives a code limited to 10 uses to exactly 10 of 50 simultaneous checkouts", async () => {
    const id = await createDiscount({
      code: "TENUSES",
      title: "First ten",
      kind: "PERCENTAGE",
      percentOff: 10,
      usageLimit: 10,
    });
    const customers = Array.from({ length: 50 }, () => randomUUID());
    for (const customer of customers) {
      await fill([[TEE, 1]], customer);
      expect(codesOf(await applyCode("TENUSES", customer))).toEqual([]);
    }
    const started = performance.now();
    const results = await Promise.all(
      customers.map((customer) => checkout(customer, { shippingAddress: ADDRESS })),
    );
    const elapsed = performance.now() - started;
    const discounted = results.filter((r) => r.order && r.order.discountTotal.amount === 200);
    const refused = results.filter((r) => codesOf(r).includes("DISCOUNT_USED_UP"));
    expect(discounted).toHaveLength(10);
    expect(refused).toHaveLength(40);
    expect(results.filter((r) => r.order && r.order.discountTotal.amount !== 200)).toHaveLength(0);
    expect(await usageCount(id)).toBe(10);
    console.info(
      `50 simultaneous checkouts on a 10-use code: 10 discounted, 40 refused, in ${Math.round(elapsed)} ms`,
    );
  });
});
