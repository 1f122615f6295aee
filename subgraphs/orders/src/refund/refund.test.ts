import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { OrderStatus } from "../db/database.ts";
import { createTestOperations, LAPTOP, money, SHOES, TEE, useTestEnv } from "../test-env.ts";
import { providerRefundKey, unitsPaid } from "./refund.service.ts";

const env = useTestEnv("orders");
const { A, B, ADMIN } = env;
const { run, data, outbox } = createTestOperations(env);

const REFUND_FIELDS =
  "id amount { amount currencyCode } reason restock lines { product { id } quantity unitPrice { amount } }";
const ORDER_FIELDS = `id status payment { status } amountRefunded { amount currencyCode } refunds { ${REFUND_FIELDS} }`;
const REFUND = `mutation ($input: RefundOrderInput!) { refundOrder(input: $input) {
  refund { ${REFUND_FIELDS} } order { ${ORDER_FIELDS} } userErrors { field code message } } }`;
const CANCEL = `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) {
  order { id status } userErrors { code } } }`;
const ORDER = `query ($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;

interface RefundShape {
  id: string;
  amount: { amount: number; currencyCode: string };
  reason: string;
  restock: boolean;
  lines: { product: { id: string }; quantity: number; unitPrice: { amount: number } }[];
}
interface OrderShape {
  id: string;
  status: string;
  payment: { status: string } | null;
  amountRefunded: { amount: number; currencyCode: string };
  refunds: RefundShape[];
}
interface RefundPayload {
  refund: RefundShape | null;
  order: OrderShape | null;
  userErrors: { field: string[] | null; code: string; message: string }[];
}

const staff = { as: { id: ADMIN, role: "ADMIN" as const } };
const customer = (id: string) => ({ as: { id } });
const codes = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] | undefined }) =>
  result.errors?.map((e) => e.extensions?.code);

let keys = 0;
const key = () => `refund-key-${++keys}`;

async function refund(input: Record<string, unknown>): Promise<RefundPayload> {
  const result = await data<{ refundOrder: RefundPayload }>(
    REFUND,
    {
      input: { reason: "returned", idempotencyKey: key(), ...input },
    },
    staff,
  );
  return result.refundOrder;
}

/**
 * A shipped order of 2 laptops at 10000 and 3 tees at 500 (21500 USD unless `paid` says
 * otherwise), its payment captured through the test provider as the saga does.
 */
async function shippedOrder(
  status: OrderStatus = "SHIPPED",
  paid = 21_500,
  priced: { laptop: { discount: number; tax: number }; tee: { discount: number; tax: number } } | null = null,
): Promise<string> {
  const { id } = await env.pg.db
    .insertInto("orders")
    .values({ customer_id: A, currency_code: "USD", total_amount: paid, placed_at: new Date(), status })
    .returning("id")
    .executeTakeFirstOrThrow();
  await env.pg.db
    .insertInto("order_lines")
    .values([
      {
        order_id: id,
        position: 0,
        product_id: LAPTOP,
        product_name: "Laptop",
        unit_price: 10_000,
        quantity: 2,
        discount_amount: priced?.laptop.discount ?? 0,
        tax_amount: priced?.laptop.tax ?? 0,
      },
      {
        order_id: id,
        position: 1,
        product_id: TEE,
        product_name: "Tee",
        unit_price: 500,
        quantity: 3,
        discount_amount: priced?.tee.discount ?? 0,
        tax_amount: priced?.tee.tax ?? 0,
      },
    ])
    .execute();
  const capture = await env.payments.capture({
    idempotencyKey: id,
    orderId: id,
    amount: paid,
    currencyCode: "USD",
    token: null,
  });
  if (capture.status !== "CAPTURED") throw new Error("not captured");
  await env.pg.db
    .insertInto("payments")
    .values({
      order_id: id,
      provider: "test",
      status: "CAPTURED",
      amount: paid,
      currency_code: "USD",
      reference: capture.reference,
      decline_reason: null,
    })
    .execute();
  return id;
}

const refundCharges = async (orderId: string) =>
  (await env.payments.charges())
    .filter((charge) => charge.kind === "refund" && charge.idempotencyKey.startsWith(`refund:${orderId}`))
    .map((charge) => [charge.idempotencyKey, charge.amount]);

const refundEvents = async () => (await outbox()).filter((event) => event.type === "OrderRefunded");

describe("refundOrder", () => {
  it("refunds units of lines at the prices paid, once at the provider, and shows the refund to the customer", async () => {
    const orderId = await shippedOrder();
    const first = await refund({
      orderId,
      lines: [{ productId: TEE, quantity: 2 }],
      reason: "  too small  ",
      restock: true,
      idempotencyKey: "return-1",
    });
    expect(first.userErrors).toEqual([]);
    expect(first.refund).toMatchObject({
      amount: money(1000),
      reason: "too small",
      restock: true,
      lines: [{ product: { id: TEE }, quantity: 2, unitPrice: { amount: 500 } }],
    });
    expect(first.order).toMatchObject({
      status: "SHIPPED",
      payment: { status: "CAPTURED" },
      amountRefunded: money(1000),
    });
    expect(await refundCharges(orderId)).toEqual([[providerRefundKey(orderId, "return-1"), 1000]]);
    expect(await refundEvents()).toEqual([
      {
        type: "OrderRefunded",
        aggregateId: first.refund?.id,
        payload: {
          refundId: first.refund?.id,
          orderId,
          customerId: A,
          currencyCode: "USD",
          amount: 1000,
          lines: [{ productId: TEE, quantity: 2, unitPrice: 500 }],
          reason: "too small",
          restock: true,
        },
      },
    ]);

    // The customer sees the refund on their order; another customer sees no order at all.
    const mine = await data<{ order: OrderShape }>(ORDER, { id: orderId }, customer(A));
    expect(mine.order.amountRefunded).toEqual(money(1000));
    expect(mine.order.refunds.map((r) => r.id)).toEqual([first.refund?.id]);
    expect((await data<{ order: OrderShape | null }>(ORDER, { id: orderId }, customer(B))).order).toBeNull();
  });

  it("is for staff only", async () => {
    const orderId = await shippedOrder();
    const input = { orderId, amount: 100, reason: "goodwill", idempotencyKey: "k" };
    expect(codes(await run(REFUND, { input }, customer(A)))).toEqual(["FORBIDDEN"]);
    expect(codes(await run(REFUND, { input }))).toEqual(["UNAUTHENTICATED"]);
    expect(await refundCharges(orderId)).toEqual([]);
    expect(
      codes(
        await run(REFUND, { input: { ...input, orderId: "00000000-0000-4000-8000-000000000000" } }, staff),
      ),
    ).toEqual(["NOT_FOUND"]);
  });

  it("never refunds more than was paid across refunds, nor more units than were ordered", async () => {
    const orderId = await shippedOrder();
    expect((await refund({ orderId, lines: [{ productId: LAPTOP, quantity: 2 }] })).userErrors).toEqual([]);

    const tooMany = await refund({ orderId, lines: [{ productId: LAPTOP, quantity: 1 }] });
    expect(tooMany.userErrors).toEqual([
      {
        field: ["input", "lines", "0", "quantity"],
        code: "QUANTITY_EXCEEDS_ORDERED",
        message: "Only 0 unit(s) of this product are left to refund.",
      },
    ]);
    const tooMuch = await refund({ orderId, amount: 1501 });
    expect(tooMuch.userErrors.map((e) => [e.code, e.field])).toEqual([
      ["AMOUNT_EXCEEDS_PAID", ["input", "amount"]],
    ]);
    expect(tooMuch.refund).toBeNull();
    expect(tooMuch.order?.amountRefunded).toEqual(money(20_000));

    // What is left can be refunded, and then the payment is refunded in full.
    const rest = await refund({ orderId, amount: 1500, reason: "goodwill" });
    expect(rest.userErrors).toEqual([]);
    expect(rest.order).toMatchObject({ payment: { status: "REFUNDED" }, amountRefunded: money(21_500) });
    const after = await refund({ orderId, amount: 1 });
    expect(after.userErrors.map((e) => e.code)).toEqual(["NOT_REFUNDABLE"]);
    expect((await refundCharges(orderId)).map(([, amount]) => amount)).toEqual([20_000, 1500]);
    expect(
      await env.pg.db.selectFrom("refunds").select("amount").where("order_id", "=", orderId).execute(),
    ).toEqual([{ amount: 20_000 }, { amount: 1500 }]);
  });

  it("refuses lines that cost more than is left of the payment", async () => {
    // Paid less than the lines' prices, as a discounted order would be.
    const orderId = await shippedOrder("DELIVERED", 15_000);
    const result = await refund({ orderId, lines: [{ productId: LAPTOP, quantity: 2 }] });
    expect(result.userErrors.map((e) => [e.code, e.field])).toEqual([
      ["AMOUNT_EXCEEDS_PAID", ["input", "lines"]],
    ]);
    expect(await refundCharges(orderId)).toEqual([]);
    expect(await refundEvents()).toEqual([]);
  });

  it("lets exactly one of two concurrent refunds through when together they exceed what was paid", async () => {
    const orderId = await shippedOrder("DELIVERED", 1000);
    const results = await Promise.all(
      [1, 2].map((n) => refund({ orderId, amount: 600, idempotencyKey: `concurrent-${n}` })),
    );
    expect(results.map((r) => r.userErrors.map((e) => e.code)).sort()).toEqual([[], ["AMOUNT_EXCEEDS_PAID"]]);
    expect((await refundCharges(orderId)).map(([, amount]) => amount)).toEqual([600]);
    expect(
      await env.pg.db.selectFrom("refunds").select("amount").where("order_id", "=", orderId).execute(),
    ).toEqual([{ amount: 600 }]);
    expect(await refundEvents()).toHaveLength(1);
  });

  it("answers a repeated idempotency key with the same refund, calling the provider once", async () => {
    const orderId = await shippedOrder();
    const input = { orderId, lines: [{ productId: TEE, quantity: 1 }], idempotencyKey: "same" };
    const [first, second] = await Promise.all([refund(input), refund(input)]);
    const third = await refund(input);
    expect(first.userErrors).toEqual([]);
    expect(second.refund?.id).toBe(first.refund?.id);
    expect(third.refund?.id).toBe(first.refund?.id);
    expect(third.order?.amountRefunded).toEqual(money(500));
    expect(await refundCharges(orderId)).toEqual([[providerRefundKey(orderId, "same"), 500]]);
    expect(await refundEvents()).toHaveLength(1);

    const reused = await refund({ ...input, lines: [{ productId: TEE, quantity: 2 }] });
    expect(reused.userErrors.map((e) => e.code)).toEqual(["IDEMPOTENCY_KEY_REUSED"]);
    expect(reused.refund).toBeNull();
    expect(await refundCharges(orderId)).toHaveLength(1);
  });

  it("refunds an amount without lines, and announces it with no lines to restock", async () => {
    const orderId = await shippedOrder();
    const result = await refund({ orderId, amount: 750, reason: "late delivery" });
    expect(result.refund).toMatchObject({ amount: money(750), lines: [], restock: false });
    expect((await refundEvents()).map((e) => e.payload)).toEqual([
      expect.objectContaining({ amount: 750, lines: [], restock: false, reason: "late delivery" }),
    ]);
  });

  it.each([
    [{ amount: 100, lines: [{ productId: TEE, quantity: 1 }] }, "INVALID_REFUND", ["input", "lines"]],
    [{}, "INVALID_REFUND", ["input", "lines"]],
    [{ amount: 0 }, "INVALID_REFUND", ["input", "amount"]],
    [{ amount: -5 }, "INVALID_REFUND", ["input", "amount"]],
    [{ amount: 100, restock: true }, "INVALID_REFUND", ["input", "restock"]],
    [{ lines: [] }, "INVALID_REFUND", ["input", "lines"]],
    [{ lines: [{ productId: TEE, quantity: 0 }] }, "INVALID_REFUND", ["input", "lines", "0", "quantity"]],
    [
      {
        lines: [
          { productId: TEE, quantity: 1 },
          { productId: TEE, quantity: 1 },
        ],
      },
      "INVALID_REFUND",
      ["input", "lines", "1", "productId"],
    ],
    [{ lines: [{ productId: SHOES, quantity: 1 }] }, "UNKNOWN_PRODUCT", ["input", "lines", "0", "productId"]],
    [{ amount: 100, reason: "   " }, "INVALID_REASON", ["input", "reason"]],
    [{ amount: 100, reason: "x".repeat(501) }, "INVALID_REASON", ["input", "reason"]],
    [{ amount: 100, idempotencyKey: "" }, "INVALID_IDEMPOTENCY_KEY", ["input", "idempotencyKey"]],
    [{ amount: 100, idempotencyKey: "é" }, "INVALID_IDEMPOTENCY_KEY", ["input", "idempotencyKey"]],
  ])("refuses %j with %s, refunding nothing", async (input, code, field) => {
    const orderId = await shippedOrder();
    const result = await refund({ orderId, ...input });
    expect(result.userErrors.map((e) => [e.code, e.field])).toEqual([[code, field]]);
    expect(result.order?.amountRefunded).toEqual(money(0));
    expect(await refundCharges(orderId)).toEqual([]);
    expect(await refundEvents()).toEqual([]);
  });

  it("refuses an order that has not shipped: cancelling it is its refund", async () => {
    const orderId = await shippedOrder("CONFIRMED");
    const result = await refund({ orderId, amount: 100 });
    expect(result.userErrors.map((e) => e.code)).toEqual(["NOT_REFUNDABLE"]);
    expect(await refundCharges(orderId)).toEqual([]);
  });

  it("keeps an order with refunds from being cancelled, which would take the sale off twice", async () => {
    const orderId = await shippedOrder();
    expect((await refund({ orderId, amount: 100 })).userErrors).toEqual([]);
    const cancelled = await data<{
      cancelOrder: { order: { status: string }; userErrors: { code: string }[] };
    }>(CANCEL, { input: { orderId } }, staff);
    expect(cancelled.cancelOrder).toEqual({
      order: { id: orderId, status: "SHIPPED" },
      userErrors: [{ code: "ILLEGAL_STATUS_TRANSITION" }],
    });
    expect((await refundCharges(orderId)).map(([, amount]) => amount)).toEqual([100]);
  });
});

describe("refunds of discounted and taxed lines", () => {
  it("gives back what the customer paid for the units, so a line refunded in steps adds up to what it cost", async () => {
    // 10% off and 20% tax on top: tees 1500 − 150 + 270 = 1620, laptops 20000 − 2000 + 3600 = 21600.
    const orderId = await shippedOrder("DELIVERED", 23_220, {
      laptop: { discount: 2000, tax: 3600 },
      tee: { discount: 150, tax: 270 },
    });
    const steps = [1, 1, 1].map(() => ({ productId: TEE, quantity: 1 }));
    const amounts: number[] = [];
    for (const line of steps) {
      const made = await refund({ orderId, lines: [line] });
      expect(made.userErrors).toEqual([]);
      amounts.push(made.refund?.amount.amount ?? 0);
    }
    expect(amounts).toEqual([540, 540, 540]);
    const laptop = await refund({ orderId, lines: [{ productId: LAPTOP, quantity: 2 }] });
    expect(laptop.refund?.amount).toEqual(money(21_600));
    expect(laptop.order).toMatchObject({ amountRefunded: money(23_220), payment: { status: "REFUNDED" } });
  });

  it("refunds a partly shipped order's shipped units only", async () => {
    const orderId = await shippedOrder("PARTIALLY_SHIPPED");
    const shipmentId = randomUUID();
    await env.pg.db
      .insertInto("shipments")
      .values({ id: shipmentId, order_id: orderId, carrier: null, tracking_number: null })
      .execute();
    await env.pg.db
      .insertInto("shipment_lines")
      .values({ shipment_id: shipmentId, position: 0, product_id: TEE, quantity: 2 })
      .execute();
    const unshipped = await refund({ orderId, lines: [{ productId: LAPTOP, quantity: 1 }] });
    expect(unshipped.userErrors.map((e) => [e.code, e.field])).toEqual([
      ["QUANTITY_EXCEEDS_SHIPPED", ["input", "lines", "0", "quantity"]],
    ]);
    const tooMany = await refund({ orderId, lines: [{ productId: TEE, quantity: 3 }] });
    expect(tooMany.userErrors.map((e) => e.code)).toEqual(["QUANTITY_EXCEEDS_SHIPPED"]);
    const shipped = await refund({ orderId, lines: [{ productId: TEE, quantity: 2 }] });
    expect(shipped.userErrors).toEqual([]);
    expect(shipped.refund?.amount).toEqual(money(1000));
    expect(shipped.order?.status).toBe("PARTIALLY_SHIPPED");
  });

  it("shares a line's amount out unit by unit: any steps add up to the whole, none takes more than its share plus one", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2_000_000_000 }),
        fc
          .integer({ min: 1, max: 99 })
          .chain((ordered) =>
            fc.tuple(
              fc.constant(ordered),
              fc.array(fc.integer({ min: 1, max: ordered }), { maxLength: ordered }),
            ),
          ),
        (paid, [ordered, steps]) => {
          let before = 0;
          let sum = 0;
          for (const units of steps) {
            if (before + units > ordered) break;
            const amount = unitsPaid(paid, ordered, before, units);
            expect(amount).toBeGreaterThanOrEqual(0);
            expect(Math.abs(amount * ordered - paid * units)).toBeLessThan(ordered);
            sum += amount;
            before += units;
          }
          sum += unitsPaid(paid, ordered, before, ordered - before);
          expect(sum).toBe(paid);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
