import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ADDRESS, createTestOperations, LAPTOP, SHOES, TEE, useTestEnv } from "../test-env.ts";

const env = useTestEnv("orders_status_changed");
const { A, ADMIN } = env;
const { run, data, outbox, fromInventory, processedByOrders } = createTestOperations(env);

const as = (id: string) => ({ as: { id } });
const staff = { as: { id: ADMIN, role: "ADMIN" as const } };
const CHECKOUT = `mutation ($input: CheckoutInput!) { checkout(input: $input) {
  order { id status customer { id } } userErrors { field code message } } }`;
const ADD = `mutation ($input: AddToCartInput!) { addToCart(input: $input) { cart { token } userErrors { code } } }`;

interface CheckoutPayload {
  order: { id: string; status: string; customer: { id: string } | null } | null;
  userErrors: { field: string[] | null; code: string; message: string }[];
}

async function checkout(input: Record<string, unknown>, who: string | null = A): Promise<CheckoutPayload> {
  const result = await data<{ checkout: CheckoutPayload }>(CHECKOUT, { input }, who ? as(who) : {});
  return result.checkout;
}

/** A's order of 2 tees and a pair of shoes; the outbox is emptied after. */
async function placed(paymentToken?: string): Promise<string> {
  await env.carts.add(A, TEE, 2);
  await env.carts.add(A, SHOES, 1);
  const payload = await checkout({ idempotencyKey: randomUUID(), shippingAddress: ADDRESS, paymentToken });
  if (!payload.order) throw new Error(JSON.stringify(payload.userErrors));
  await env.pg.db.deleteFrom("outbox").execute();
  return payload.order.id;
}

const statusChanges = async () =>
  (await outbox()).filter((event) => event.type === "OrderStatusChanged").map((event) => event.payload);
const cartLines = async (cartId: string) =>
  (await env.carts.get(cartId)).lines.map((line) => [line.productId, line.quantity]).sort();

const SNAPSHOT = {
  currencyCode: "USD",
  total: 2 * 1999 + 8950,
  breakdown: { subtotal: 2 * 1999 + 8950, discount: 0, shipping: 0, tax: 0, taxIncluded: false },
  lines: [
    { productId: TEE, productName: "Classic Tee", quantity: 2, unitPrice: 1999 },
    { productId: SHOES, productName: "Trail Runner", quantity: 1, unitPrice: 8950 },
  ],
  shippingAddress: {
    name: "Ada Lovelace",
    line1: "12 St James's Square",
    line2: null,
    city: "London",
    region: null,
    postalCode: "SW1Y 4JH",
    countryCode: "GB",
  },
};

describe("OrderStatusChanged", () => {
  it("announces PENDING at checkout, then CONFIRMED, SHIPPED and DELIVERED, each with the order's snapshot", async () => {
    await env.carts.add(A, TEE, 2);
    await env.carts.add(A, SHOES, 1);
    const payload = await checkout({ idempotencyKey: "k-1", shippingAddress: ADDRESS });
    const orderId = payload.order?.id ?? "";
    const { placedAt } = await env.pg.db
      .selectFrom("orders")
      .select("placed_at as placedAt")
      .where("id", "=", orderId)
      .executeTakeFirstOrThrow();
    const base = {
      orderId,
      customerId: A,
      guestEmail: null,
      reason: null,
      trackingNumber: null,
      linesReturnedToCart: false,
      order: { ...SNAPSHOT, placedAt: placedAt.toISOString() },
    };
    expect(await statusChanges()).toEqual([{ ...base, status: "PENDING", previousStatus: null }]);
    // A replay of the checkout is no transition.
    await checkout({ idempotencyKey: "k-1", shippingAddress: ADDRESS });
    expect(await statusChanges()).toHaveLength(1);
    await env.pg.db.deleteFrom("outbox").execute();

    await fromInventory("InventoryReserved", { orderId });
    expect(await statusChanges()).toEqual([{ ...base, status: "CONFIRMED", previousStatus: "PENDING" }]);
    await env.pg.db.deleteFrom("outbox").execute();

    const ship = `mutation ($input: ShipOrderInput!) { shipOrder(input: $input) { userErrors { code } } }`;
    await data(ship, { input: { orderId, trackingNumber: "1Z999AA10123456784" } }, staff);
    const deliver = `mutation ($input: DeliverOrderInput!) { deliverOrder(input: $input) { userErrors { code } } }`;
    await data(deliver, { input: { orderId } }, staff);
    // A refused transition announces nothing.
    expect(await data(ship, { input: { orderId } }, staff)).toEqual({
      shipOrder: { userErrors: [{ code: "ILLEGAL_STATUS_TRANSITION" }] },
    });
    const [shipped, delivered, ...more] = await statusChanges();
    expect(more).toEqual([]);
    expect(shipped).toEqual({
      ...base,
      status: "SHIPPED",
      previousStatus: "CONFIRMED",
      trackingNumber: "1Z999AA10123456784",
    });
    expect(delivered).toEqual({ ...base, status: "DELIVERED", previousStatus: "SHIPPED" });
  });

  it("announces CANCELLED with its reason, and REJECTED with its reason and the lines back in the cart", async () => {
    const cancelled = await placed();
    const cancel = `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { userErrors { code } } }`;
    await data(cancel, { input: { orderId: cancelled, reason: "changed my mind" } }, as(A));
    expect(await statusChanges()).toEqual([
      expect.objectContaining({
        orderId: cancelled,
        status: "CANCELLED",
        previousStatus: "PENDING",
        reason: "changed my mind",
        linesReturnedToCart: false,
      }),
    ]);
    // A cancelled order is the customer's own doing: its lines do not come back.
    expect(await cartLines(A)).toEqual([]);
    await env.pg.db.deleteFrom("outbox").execute();

    const declined = await placed("tok_test_decline");
    await fromInventory("InventoryReserved", { orderId: declined });
    expect(await statusChanges()).toEqual([
      expect.objectContaining({
        orderId: declined,
        status: "REJECTED",
        previousStatus: "PENDING",
        reason: "payment declined: card_declined",
        linesReturnedToCart: true,
        order: expect.objectContaining({ lines: SNAPSHOT.lines }),
      }),
    ]);
    expect(await cartLines(A)).toEqual(
      [
        [TEE, 2],
        [SHOES, 1],
      ].sort(),
    );
  });

  it("is not announced for imported history", async () => {
    const result = await data<{ importOrders: { ordersCreated: number } }>(
      `mutation ($input: ImportOrdersInput!) { importOrders(input: $input) { ordersCreated } }`,
      {
        input: {
          orders: [
            {
              externalId: "INV-1",
              customerId: A,
              placedAt: "2025-01-01T10:00:00.000Z",
              currencyCode: "USD",
              lines: [{ productId: TEE, productName: "Classic Tee", quantity: 1, unitPrice: 1999 }],
            },
          ],
        },
      },
      { as: { id: ADMIN, role: "ADMIN" } },
    );
    expect(result.importOrders.ordersCreated).toBe(1);
    expect((await outbox()).map((event) => event.type)).not.toContain("OrderStatusChanged");
    expect((await outbox()).length).toBeGreaterThan(0);
  });
});

describe("a rejected order's lines go back into the cart", () => {
  it("merges them with what is there under the limits, announces the cart, and does it once when the step is retried", async () => {
    const orderId = await placed();
    // Meanwhile the customer filled the cart again.
    await env.carts.add(A, TEE, 98);
    await env.carts.add(A, LAPTOP, 1);
    // The transaction fails after the lines went back to the cart, and the event is retried.
    env.faults.failAfterCartRestore = 1;
    const event = await fromInventory(
      "InventoryRejected",
      { orderId, lines: [{ productId: TEE, requested: 2, available: 0 }] },
      { failures: 1 },
    );
    expect(env.faults.failAfterCartRestore).toBe(0);
    // Tees clamped at 99 (98 + 2), the shoes back, the laptop untouched: once, despite the retry.
    expect(await cartLines(A)).toEqual(
      [
        [TEE, 99],
        [LAPTOP, 1],
        [SHOES, 1],
      ].sort(),
    );
    const events = await outbox();
    expect(events.filter((e) => e.type === "OrderStatusChanged").map((e) => e.payload)).toEqual([
      expect.objectContaining({ orderId, status: "REJECTED", linesReturnedToCart: true }),
    ]);
    // The restored cart is announced, the order's products at the prices it was placed at.
    const cartUpdated = events.filter((e) => e.type === "CartUpdated");
    expect(cartUpdated).toHaveLength(1);
    const restored = cartUpdated[0]?.payload as {
      customerId: string;
      currencyCode: string | null;
      lines: { productId: string; unitPrice: number | null }[];
    };
    expect(restored).toMatchObject({ customerId: A, currencyCode: "USD" });
    expect(restored.lines.map((l) => [l.productId, l.unitPrice]).sort()).toEqual(
      [
        [TEE, 1999],
        [LAPTOP, null],
        [SHOES, 8950],
      ].sort(),
    );

    // The same event delivered again is recognised and changes nothing.
    await env.inventoryPg.db
      .updateTable("outbox")
      .set({ published_at: null })
      .where("id", "=", event.id)
      .execute();
    await env.redis.del(`${env.prefix}:events.orders:${event.id}`);
    expect(await env.inventoryRelay.flush()).toBe(1);
    await processedByOrders(event.id);
    // A later rejection of the same order (another event) finds it final and changes nothing either.
    await fromInventory("ReservationExpired", { orderId });
    expect(await cartLines(A)).toEqual(
      [
        [TEE, 99],
        [LAPTOP, 1],
        [SHOES, 1],
      ].sort(),
    );
    expect((await outbox()).filter((e) => e.type === "OrderStatusChanged")).toHaveLength(1);
  });

  it("puts back as many lines as fit in a full cart, and says none came back when none fit", async () => {
    const orderId = await placed();
    for (let i = 0; i < 50; i++) {
      await env.carts.add(A, `65a0000000000000000100${String(i).padStart(2, "0")}`, 1);
    }
    await fromInventory("ReservationExpired", { orderId });
    expect((await env.carts.get(A)).lines).toHaveLength(50);
    expect(await statusChanges()).toEqual([
      expect.objectContaining({ orderId, status: "REJECTED", linesReturnedToCart: false }),
    ]);
  });
});

describe("guest checkout", () => {
  async function guestCart(): Promise<string> {
    const first = await data<{ addToCart: { cart: { token: string } } }>(ADD, {
      input: { productId: TEE, quantity: 2 },
    });
    const token = first.addToCart.cart.token;
    await data(ADD, { input: { productId: SHOES, quantity: 1, cartToken: token } });
    return token;
  }

  it("is refused with UNAUTHENTICATED when GUEST_CHECKOUT is off, keeping the guest cart", async () => {
    const token = await guestCart();
    const result = await run(CHECKOUT, {
      input: {
        idempotencyKey: "g-1",
        shippingAddress: ADDRESS,
        cartToken: token,
        email: "guest@example.com",
      },
    });
    expect(result.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
      ["UNAUTHENTICATED", "Sign in to check out: this store does not take guest orders."],
    ]);
    expect(await env.pg.db.selectFrom("orders").select("id").execute()).toEqual([]);
    const { cart } = await data<{ cart: { totalQuantity: number } }>(
      `query ($t: String) { cart(cartToken: $t) { totalQuantity } }`,
      { t: token },
    );
    expect(cart.totalQuantity).toBe(3);
  });

  it("places an order with no customer when on, keeps the email, empties the guest cart and restores nothing on rejection", async () => {
    env.deps.guestCheckout = true;
    const token = await guestCart();
    const input = { idempotencyKey: "g-1", shippingAddress: ADDRESS, cartToken: token };

    expect((await checkout(input, null)).userErrors.map((e) => [e.code, e.field?.join(".")])).toEqual([
      ["INVALID_EMAIL", "input.email"],
    ]);
    expect(
      (await checkout({ ...input, cartToken: undefined, email: "guest@example.com" }, null)).userErrors.map(
        (e) => e.code,
      ),
    ).toEqual(["CART_TOKEN_REQUIRED"]);
    expect(await env.pg.db.selectFrom("orders").select("id").execute()).toEqual([]);

    const placedOrder = await checkout({ ...input, email: "  Guest@Example.com " }, null);
    expect(placedOrder.userErrors).toEqual([]);
    expect(placedOrder.order).toMatchObject({ status: "PENDING", customer: null });
    const orderId = placedOrder.order?.id ?? "";
    const row = await env.pg.db
      .selectFrom("orders")
      .select(["customer_id", "guest_email", "total_amount"])
      .where("id", "=", orderId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      customer_id: null,
      guest_email: "guest@example.com",
      total_amount: 2 * 1999 + 8950,
    });
    // Retried with the same key and token: the same order; with another email, a reused key.
    expect((await checkout({ ...input, email: "guest@example.com" }, null)).order?.id).toBe(orderId);
    expect(
      (await checkout({ ...input, email: "someone@example.com" }, null)).userErrors.map((e) => e.code),
    ).toEqual(["IDEMPOTENCY_KEY_REUSED"]);
    // Another guest's cart with the same key is another purchase.
    const other = await guestCart();
    const second = await checkout({ ...input, cartToken: other, email: "other@example.com" }, null);
    expect(second.order?.id).not.toBe(orderId);

    const events = await outbox();
    expect(events.find((e) => e.type === "OrderPlaced" && e.aggregateId === orderId)?.payload).toMatchObject({
      customerId: null,
    });
    expect(
      events.find((e) => e.type === "OrderStatusChanged" && e.aggregateId === orderId)?.payload,
    ).toMatchObject({
      customerId: null,
      guestEmail: "guest@example.com",
      status: "PENDING",
    });
    // No customer, so no CartUpdated for a guest cart.
    expect(events.filter((e) => e.type === "CartUpdated")).toEqual([]);
    const { cart } = await data<{ cart: { totalQuantity: number; token: string | null } }>(
      `query ($t: String) { cart(cartToken: $t) { totalQuantity token } }`,
      { t: token },
    );
    expect(cart).toEqual({ totalQuantity: 0, token: null });

    await env.pg.db.deleteFrom("outbox").execute();
    const before = (await env.redis.keys(`${env.prefix}:cart*`)).sort();
    await fromInventory("InventoryRejected", {
      orderId,
      lines: [{ productId: TEE, requested: 2, available: 0 }],
    });
    expect(await statusChanges()).toEqual([
      expect.objectContaining({ orderId, status: "REJECTED", customerId: null, linesReturnedToCart: false }),
    ]);
    expect((await env.redis.keys(`${env.prefix}:cart*`)).sort()).toEqual(before);
  });

  it("merges a guest cart into a signed-in customer's checkout", async () => {
    const token = await guestCart();
    await env.carts.add(A, LAPTOP, 1);
    const payload = await checkout({ idempotencyKey: "m-1", shippingAddress: ADDRESS, cartToken: token });
    expect(payload.userErrors).toEqual([]);
    const lines = await env.pg.db
      .selectFrom("order_lines")
      .select(["product_id", "quantity"])
      .where("order_id", "=", payload.order?.id ?? "")
      .execute();
    expect(lines.map((l) => [l.product_id, l.quantity]).sort()).toEqual(
      [
        [LAPTOP, 1],
        [TEE, 2],
        [SHOES, 1],
      ].sort(),
    );
    expect(await env.redis.keys(`${env.prefix}:cart:guest:*`)).toEqual([]);
  });
});
