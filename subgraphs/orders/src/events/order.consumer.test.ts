import { until } from "@nexus/testing";
import { describe, expect, it } from "vitest";
import { ADDRESS, createTestOperations, PAYMENT_RETRY_MS, SHOES, TEE, useTestEnv } from "../test-env.ts";

const env = useTestEnv("orders_saga");
const { A } = env;
const { data, fromInventory, outbox, bullJob, insertOrder } = createTestOperations(env);

const as = { as: { id: A } };

/**
 * The saga's events for inventory; OrderStatusChanged and the CartUpdated of a rejected
 * order's restored cart are read in status-change.test.ts.
 */
const toInventory = async () =>
  (await outbox()).filter((event) => event.type !== "OrderStatusChanged" && event.type !== "CartUpdated");

async function placed(paymentToken?: string): Promise<string> {
  await env.carts.add(A, TEE, 2);
  await env.carts.add(A, SHOES, 1);
  const input = { idempotencyKey: crypto.randomUUID(), shippingAddress: ADDRESS, paymentToken };
  const { checkout } = await data<{ checkout: { order: { id: string } } }>(
    `mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } } }`,
    { input },
    as,
  );
  await env.pg.db.deleteFrom("outbox").execute();
  return checkout.order.id;
}

interface OrderState {
  status: string;
  statusHistory: { status: string; reason: string | null }[];
  payment: {
    status: string;
    amount: { amount: number };
    provider: string;
    reference: string | null;
    declineReason: string | null;
  } | null;
}
async function stateOf(id: string): Promise<OrderState> {
  const { order } = await data<{ order: OrderState }>(
    `query ($id: ID!) { order(id: $id) { status statusHistory { status reason }
      payment { status amount { amount } provider reference declineReason } } }`,
    { id },
    as,
  );
  return order;
}

const TOTAL = 2 * 1999 + 8950;

describe("the order saga", () => {
  it("captures payment on InventoryReserved, confirms the order and tells inventory", async () => {
    const orderId = await placed();
    await fromInventory("InventoryReserved", { orderId });
    const state = await stateOf(orderId);
    expect(state).toEqual({
      status: "CONFIRMED",
      statusHistory: [
        { status: "PENDING", reason: null },
        { status: "CONFIRMED", reason: null },
      ],
      payment: {
        status: "CAPTURED",
        amount: { amount: TOTAL },
        provider: "test",
        reference: expect.stringMatching(/^test_ch_/),
        declineReason: null,
      },
    });
    expect(await toInventory()).toEqual([
      { type: "OrderConfirmed", aggregateId: orderId, payload: { orderId } },
    ]);
    const [event] = await env.pg.db
      .selectFrom("outbox")
      .select(["id", "published_at"])
      .where("type", "=", "OrderConfirmed")
      .execute();
    // Published right after the step committed, to inventory's queue.
    expect(event?.published_at).not.toBeNull();
    expect((await bullJob("events.inventory", event?.id ?? ""))?.name).toBe("OrderConfirmed");
    expect((await env.payments.charges()).map((c) => [c.kind, c.idempotencyKey, c.amount])).toEqual([
      ["capture", orderId, TOTAL],
    ]);
  });

  it("rejects the order when the test card declines, charging nothing and releasing the stock", async () => {
    const orderId = await placed("tok_test_decline");
    await fromInventory("InventoryReserved", { orderId });
    const state = await stateOf(orderId);
    expect(state.status).toBe("REJECTED");
    expect(state.statusHistory.at(-1)).toEqual({
      status: "REJECTED",
      reason: "payment declined: card_declined",
    });
    expect(state.payment).toMatchObject({
      status: "DECLINED",
      reference: null,
      declineReason: "card_declined",
    });
    expect(await toInventory()).toEqual([
      {
        type: "OrderRejected",
        aggregateId: orderId,
        payload: { orderId, reason: "payment declined: card_declined" },
      },
    ]);
    expect(await env.payments.charges()).toEqual([]);

    const poor = await placed("tok_test_insufficient_funds");
    await fromInventory("InventoryReserved", { orderId: poor });
    expect((await stateOf(poor)).statusHistory.at(-1)?.reason).toBe("payment declined: insufficient_funds");
  });

  it("charges once when the capture's answer is lost and the settler captures again", async () => {
    const orderId = await placed();
    env.faults.failAfterCapture = 1;
    const event = await fromInventory("InventoryReserved", { orderId });
    // The event is applied (the intent committed); the capture after it failed, not the job.
    expect((await bullJob("events.orders", event.id))?.atm).toBe("1");
    await until(
      "the settler to confirm the order",
      async () => (await stateOf(orderId)).status === "CONFIRMED",
      {
        timeoutMs: 10 * PAYMENT_RETRY_MS,
      },
    );
    expect(env.faults.captureCalls).toBe(2);
    expect(await env.payments.charges()).toHaveLength(1);
    expect(await toInventory()).toEqual([
      { type: "OrderConfirmed", aggregateId: orderId, payload: { orderId } },
    ]);
    expect(await env.pg.db.selectFrom("payment_intents").selectAll().execute()).toEqual([]);
  });

  it("refunds a capture whose order was cancelled while the provider answered", async () => {
    const orderId = await placed();
    env.faults.failAfterCapture = 1;
    await fromInventory("InventoryReserved", { orderId });
    // Charged, not recorded yet: the customer cancels, and nothing is known to refund.
    await data(
      `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { userErrors { code } } }`,
      { input: { orderId } },
      as,
    );
    await until(
      "the settler to record and refund the capture",
      async () => (await stateOf(orderId)).payment?.status === "REFUNDED",
      { timeoutMs: 10 * PAYMENT_RETRY_MS },
    );
    expect((await stateOf(orderId)).status).toBe("CANCELLED");
    expect((await env.payments.charges()).map((c) => c.kind)).toEqual(["capture", "refund"]);
    expect((await toInventory()).map((event) => event.type)).toEqual(["OrderCancelled"]);
  });

  it("rejects the order on InventoryRejected with a reason per short line", async () => {
    const orderId = await placed();
    await fromInventory("InventoryRejected", {
      orderId,
      lines: [
        { productId: TEE, requested: 2, available: 1 },
        { productId: SHOES, requested: 1, available: 0 },
      ],
    });
    const state = await stateOf(orderId);
    expect(state.statusHistory.at(-1)).toEqual({
      status: "REJECTED",
      reason: `out of stock: Classic Tee (${TEE}): 2 requested, 1 available; Trail Runner (${SHOES}): 1 requested, 0 available`,
    });
    expect(state.payment).toBeNull();
    // Inventory reserved nothing, so there is nothing to tell it.
    expect(await toInventory()).toEqual([]);
    // A late InventoryReserved cannot revive it.
    await fromInventory("InventoryReserved", { orderId });
    expect((await stateOf(orderId)).status).toBe("REJECTED");
    expect(env.faults.captureCalls).toBe(0);
  });

  it("rejects a pending order whose reservation expired", async () => {
    const orderId = await placed();
    await fromInventory("ReservationExpired", { orderId });
    expect((await stateOf(orderId)).statusHistory.at(-1)).toEqual({
      status: "REJECTED",
      reason: "reservation expired",
    });
    expect(await toInventory()).toEqual([]);
  });

  it("refunds and rejects a confirmed order whose reservation expired first, and leaves shipped orders alone", async () => {
    const orderId = await placed();
    await fromInventory("InventoryReserved", { orderId });
    await env.pg.db.deleteFrom("outbox").execute();
    await fromInventory("ReservationExpired", { orderId });
    const state = await stateOf(orderId);
    expect(state.status).toBe("REJECTED");
    expect(state.payment?.status).toBe("REFUNDED");
    const reason = "reservation expired before inventory heard the payment was captured; payment refunded";
    expect(await toInventory()).toEqual([
      { type: "OrderRejected", aggregateId: orderId, payload: { orderId, reason } },
    ]);
    expect((await env.payments.charges()).map((c) => c.kind)).toEqual(["capture", "refund"]);

    const shipped = await insertOrder(A, new Date(), 1, "SHIPPED");
    await fromInventory("ReservationExpired", { orderId: shipped });
    expect((await stateOf(shipped)).status).toBe("SHIPPED");
  });

  it("asks inventory again to release stock reserved for an order cancelled meanwhile", async () => {
    const orderId = await placed();
    await data(
      `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { userErrors { code } } }`,
      { input: { orderId } },
      as,
    );
    await env.pg.db.deleteFrom("outbox").execute();
    await fromInventory("InventoryReserved", { orderId });
    expect((await stateOf(orderId)).status).toBe("CANCELLED");
    expect(await toInventory()).toEqual([
      {
        type: "OrderRejected",
        aggregateId: orderId,
        payload: { orderId, reason: "the order was cancelled before its stock was reserved" },
      },
    ]);
    expect(env.faults.captureCalls).toBe(0);
  });

  it("applies a redelivered event once and completes, without retries, one naming no valid order", async () => {
    const orderId = await placed();
    const event = await fromInventory("InventoryReserved", { orderId });
    await env.pg.db.updateTable("orders").set({ status: "PENDING" }).where("id", "=", orderId).execute();
    await env.inventoryPg.db
      .updateTable("outbox")
      .set({ published_at: null })
      .where("id", "=", event.id)
      .execute();
    await env.redis.del(`${env.prefix}:events.orders:${event.id}`);
    expect(await env.inventoryRelay.flush()).toBe(1);
    await createTestOperations(env).processedByOrders(event.id);
    expect((await stateOf(orderId)).status).toBe("PENDING");
    expect(env.faults.captureCalls).toBe(1);

    const bad = await fromInventory("InventoryReserved", { orderId: "not-an-order-id" });
    expect((await bullJob("events.orders", bad.id))?.atm).toBe("1");
  });
});
