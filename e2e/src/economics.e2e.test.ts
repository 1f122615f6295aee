/**
 * Checkout economics end to end, through the gateway: staff set up a discount code with a usage
 * limit, a shipping zone and a tax rate; a customer applies the code, picks a shipping method
 * and checks out; staff find the order in the desk, ship part of it and refund one line. Every
 * amount is checked against figures worked out here from the catalog's prices, independently
 * of the orders subgraph's arithmetic.
 */
import { randomUUID } from "node:crypto";
import { rawId, until } from "@nexus/testing";
import { graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let stack: Stack;
let staff: { authorization: string };

const ERRORS = "userErrors { field code message }";
type UserErrors = { userErrors: { code: string; message: string }[] };

async function staffDoes<T extends UserErrors>(
  mutation: string,
  inputType: string,
  input: unknown,
): Promise<T> {
  const result = await graphqlOk<Record<string, T>>(
    stack.endpoint,
    `mutation ($input: ${inputType}!) { ${mutation}(input: $input) { ${ERRORS} ${
      {
        createDiscount: "discount { id }",
        createShippingZone: "zone { id }",
        createShippingMethod: "method { id }",
        setTaxRate: "taxRate { id }",
      }[mutation] ?? ""
    } } }`,
    { input },
    staff,
  );
  const payload = result[mutation] as T;
  expect(payload.userErrors).toEqual([]);
  return payload;
}

/** What the test expects, worked out from list prices: 10% off, 19% tax on top, rounded half up per line. */
function expected(lines: { price: number; quantity: number }[], shipping: number) {
  const halfUp = (numerator: number, denominator: number) =>
    Math.floor((2 * numerator + denominator) / (2 * denominator));
  const gross = lines.map((line) => line.price * line.quantity);
  const subtotal = gross.reduce((a, b) => a + b, 0);
  const discount = halfUp(subtotal * 10, 100);
  // Largest remainder: floors first, the units left to the largest fractions.
  const shares = gross.map((amount) => Math.floor((discount * amount) / subtotal));
  const order = gross
    .map((amount, i) => ({ i, fraction: (discount * amount) % subtotal }))
    .sort((a, b) => b.fraction - a.fraction || a.i - b.i);
  let left = discount - shares.reduce((a, b) => a + b, 0);
  for (const { i } of order) {
    if (left === 0) break;
    shares[i] = (shares[i] ?? 0) + 1;
    left -= 1;
  }
  const taxes = gross.map((amount, i) => halfUp((amount - (shares[i] ?? 0)) * 19, 100));
  const shippingTax = halfUp(shipping * 19, 100);
  const tax = taxes.reduce((a, b) => a + b, 0) + shippingTax;
  return { subtotal, discount, shares, taxes, shipping, tax, total: subtotal - discount + shipping + tax };
}

beforeAll(async () => {
  stack = await startStack({ mongoUrl: inject("mongoUrl"), env: { OUTBOX_POLL_MS: "100" } });
  staff = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("checkout economics through the gateway", () => {
  it("prices a discounted, shipped and taxed order exactly, from the cart to a partial refund", async () => {
    // Staff: a 10% code for five orders, a zone for Germany with a flat method, 19% VAT.
    const { discount } = await staffDoes<UserErrors & { discount: { id: string } }>(
      "createDiscount",
      "CreateDiscountInput",
      {
        code: "SAVE10",
        title: "10% off your order",
        kind: "PERCENTAGE",
        percentOff: 10,
        usageLimit: 5,
      },
    );
    const { zone } = await staffDoes<UserErrors & { zone: { id: string } }>(
      "createShippingZone",
      "CreateShippingZoneInput",
      {
        name: "Germany",
        countries: ["DE"],
      },
    );
    const { method } = await staffDoes<UserErrors & { method: { id: string } }>(
      "createShippingMethod",
      "CreateShippingMethodInput",
      { zoneId: zone.id, name: "DHL Paket", rateType: "FLAT", amount: 499, freeAbove: 1_000_000 },
    );
    await staffDoes("setTaxRate", "SetTaxRateInput", { countryCode: "DE", name: "MwSt", ratePercent: 19 });

    // A customer fills a cart with two products.
    const customerId = randomUUID();
    const customer = { authorization: await stack.auth.bearer(customerId) };
    const { products } = await graphqlOk<{
      products: { edges: { node: { id: string; price: { amount: number } } }[] };
    }>(stack.endpoint, "{ products(first: 2) { edges { node { id price { amount } } } } }");
    const [first, second] = products.edges.map((edge) => edge.node);
    if (!first || !second) throw new Error("the demo catalog has fewer than two products");
    for (const [product, quantity] of [
      [first, 2],
      [second, 1],
    ] as const) {
      const { addToCart } = await graphqlOk<{ addToCart: UserErrors }>(
        stack.endpoint,
        `mutation ($input: AddToCartInput!) { addToCart(input: $input) { ${ERRORS} } }`,
        { input: { productId: product.id, quantity } },
        customer,
      );
      expect(addToCart.userErrors).toEqual([]);
    }
    const want = expected(
      [
        { price: first.price.amount, quantity: 2 },
        { price: second.price.amount, quantity: 1 },
      ],
      499,
    );

    // The code, the address, the method: the cart shows what checkout will charge.
    const CART = `cart { discountCode subtotal { amount } discountTotal { amount } shippingTotal { amount }
      taxTotal { amount } total { amount } shippingOptions { id name price { amount } }
      discounts { code amount { amount } lines { productId amount { amount } } }
      lines { productId discount { amount } tax { amount } } }`;
    const cartCall = async (mutation: string, inputType: string, input: unknown) => {
      const result = await graphqlOk<Record<string, UserErrors & { cart: Record<string, unknown> }>>(
        stack.endpoint,
        `mutation ($input: ${inputType}!) { ${mutation}(input: $input) { ${CART} ${ERRORS} } }`,
        { input },
        customer,
      );
      const payload = result[mutation];
      expect(payload?.userErrors).toEqual([]);
      return payload?.cart ?? {};
    };
    await cartCall("applyDiscountCode", "ApplyDiscountCodeInput", { code: "save10" });
    const addressed = await cartCall("setCartShippingAddress", "SetCartShippingAddressInput", {
      address: {
        name: "Erika Mustermann",
        line1: "Heidestraße 17",
        city: "Köln",
        postalCode: "51147",
        countryCode: "DE",
      },
    });
    expect(addressed.shippingOptions).toEqual([{ id: method.id, name: "DHL Paket", price: { amount: 499 } }]);
    const cart = await cartCall("selectShippingMethod", "SelectShippingMethodInput", { methodId: method.id });
    expect(cart).toMatchObject({
      discountCode: "SAVE10",
      subtotal: { amount: want.subtotal },
      discountTotal: { amount: want.discount },
      shippingTotal: { amount: 499 },
      taxTotal: { amount: want.tax },
      total: { amount: want.total },
      discounts: [
        {
          code: "SAVE10",
          amount: { amount: want.discount },
          lines: [
            { productId: first.id, amount: { amount: want.shares[0] } },
            { productId: second.id, amount: { amount: want.shares[1] } },
          ],
        },
      ],
      lines: [
        { productId: first.id, discount: { amount: want.shares[0] }, tax: { amount: want.taxes[0] } },
        { productId: second.id, discount: { amount: want.shares[1] }, tax: { amount: want.taxes[1] } },
      ],
    });

    // Checkout takes the cart's address and method, and snapshots every amount.
    const ORDER = `id status subtotal { amount } discountTotal { amount } shippingTotal { amount } taxTotal { amount }
      total { amount currencyCode } shippingMethod { name zoneName } discounts { code amount { amount } }
      lines { productId quantity discount { amount } tax { amount } taxRate } payment { status amount { amount } }`;
    const { checkout } = await graphqlOk<{
      checkout: UserErrors & { order: { id: string } & Record<string, unknown> };
    }>(
      stack.endpoint,
      `mutation ($input: CheckoutInput!) { checkout(input: $input) { order { ${ORDER} } ${ERRORS} } }`,
      { input: { idempotencyKey: randomUUID() } },
      customer,
    );
    expect(checkout.userErrors).toEqual([]);
    const orderId = checkout.order.id;
    const totals = {
      subtotal: { amount: want.subtotal },
      discountTotal: { amount: want.discount },
      shippingTotal: { amount: 499 },
      taxTotal: { amount: want.tax },
      total: { amount: want.total, currencyCode: "USD" },
    };
    expect(checkout.order).toMatchObject({
      ...totals,
      shippingMethod: { name: "DHL Paket", zoneName: "Germany" },
      discounts: [{ code: "SAVE10", amount: { amount: want.discount } }],
      lines: [
        {
          productId: first.id,
          quantity: 2,
          discount: { amount: want.shares[0] },
          tax: { amount: want.taxes[0] },
          taxRate: 19,
        },
        {
          productId: second.id,
          quantity: 1,
          discount: { amount: want.shares[1] },
          tax: { amount: want.taxes[1] },
          taxRate: 19,
        },
      ],
    });

    // The saga charges the total.
    const confirmed = await until(
      "the order to be confirmed",
      async () => {
        const { order } = await graphqlOk<{
          order: { status: string; payment: { amount: { amount: number } } | null };
        }>(
          stack.endpoint,
          "query ($id: ID!) { order(id: $id) { status payment { amount { amount } } } }",
          { id: orderId },
          customer,
        );
        return order.status === "CONFIRMED" ? order : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(confirmed.payment?.amount.amount).toBe(want.total);

    // Staff find it in the desk by the first block of its id, with the same amounts.
    const { orders } = await graphqlOk<{ orders: { edges: { node: Record<string, unknown> }[] } }>(
      stack.endpoint,
      `query ($filter: OrderFilter) { orders(first: 5, filter: $filter) { edges { node { ${ORDER} } } } }`,
      { filter: { search: rawId(orderId).slice(0, 8) } },
      staff,
    );
    expect(orders.edges.map((edge) => edge.node)).toEqual([
      expect.objectContaining({ id: orderId, ...totals }),
    ]);

    // Ship one of the two units of the first line, then refund that unit.
    const { createShipment } = await graphqlOk<{
      createShipment: UserErrors & { order: { status: string } };
    }>(
      stack.endpoint,
      `mutation ($input: CreateShipmentInput!) { createShipment(input: $input) { order { status } ${ERRORS} } }`,
      {
        input: {
          orderId,
          lines: [{ productId: first.id, quantity: 1 }],
          carrier: "DHL",
          trackingNumber: "00340434161234567890",
        },
      },
      staff,
    );
    expect(createShipment.userErrors).toEqual([]);
    expect(createShipment.order.status).toBe("PARTIALLY_SHIPPED");
    const REFUND = `mutation ($input: RefundOrderInput!) { refundOrder(input: $input) {
      refund { amount { amount } } order { status amountRefunded { amount } payment { status } } ${ERRORS} } }`;
    const refundLine = (quantity: number) =>
      graphqlOk<{
        refundOrder: UserErrors & {
          refund: { amount: { amount: number } } | null;
          order: { status: string; amountRefunded: { amount: number }; payment: { status: string } };
        };
      }>(
        stack.endpoint,
        REFUND,
        {
          input: {
            orderId,
            lines: [{ productId: first.id, quantity }],
            reason: "arrived damaged",
            restock: false,
            idempotencyKey: randomUUID(),
          },
        },
        staff,
      );
    const notShipped = await refundLine(2);
    expect(notShipped.refundOrder.userErrors.map((e) => e.code)).toEqual(["QUANTITY_EXCEEDS_SHIPPED"]);
    // One of two units: half of what the line cost after its discount and with its tax, rounded down.
    const linePaid = 2 * first.price.amount - (want.shares[0] ?? 0) + (want.taxes[0] ?? 0);
    const { refundOrder } = await refundLine(1);
    expect(refundOrder.userErrors).toEqual([]);
    expect(refundOrder.refund?.amount.amount).toBe(Math.floor(linePaid / 2));
    expect(refundOrder.order).toMatchObject({
      status: "PARTIALLY_SHIPPED",
      amountRefunded: { amount: Math.floor(linePaid / 2) },
      payment: { status: "CAPTURED" },
    });

    // The code counts one use.
    const { discount: counted } = await graphqlOk<{ discount: { usageCount: number } }>(
      stack.endpoint,
      "query ($id: ID!) { discount(id: $id) { usageCount } }",
      { id: discount.id },
      staff,
    );
    expect(counted.usageCount).toBe(1);
  });
});
