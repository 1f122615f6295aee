import { describe, expect, it } from "vitest";
import type { OrderStatus } from "../db/database.ts";
import { createTestOperations, LAPTOP, SHOES, TEE, useTestEnv } from "../test-env.ts";

const env = useTestEnv("orders");
const { A, B, ADMIN } = env;
const { run, data, outbox } = createTestOperations(env);

const SHIPMENT_FIELDS = "id carrier trackingNumber lines { product { id } quantity } shippedAt";
const ORDER_FIELDS = `id status trackingNumber statusHistory { status } shipments { ${SHIPMENT_FIELDS} }`;
const CREATE = `mutation ($input: CreateShipmentInput!) { createShipment(input: $input) {
  shipment { ${SHIPMENT_FIELDS} } order { ${ORDER_FIELDS} } userErrors { field code message } } }`;
const SHIP = `mutation ($input: ShipOrderInput!) { shipOrder(input: $input) {
  order { ${ORDER_FIELDS} } userErrors { field code message } } }`;
const ORDER = `query ($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;

interface ShipmentShape {
  id: string;
  carrier: string | null;
  trackingNumber: string | null;
  lines: { product: { id: string }; quantity: number }[];
  shippedAt: string;
}
interface OrderShape {
  id: string;
  status: string;
  trackingNumber: string | null;
  statusHistory: { status: string }[];
  shipments: ShipmentShape[];
}
interface Payload {
  shipment?: ShipmentShape | null;
  order: OrderShape | null;
  userErrors: { field: string[] | null; code: string; message: string }[];
}

const staff = { as: { id: ADMIN, role: "ADMIN" as const } };
const customer = (id: string) => ({ as: { id } });
const codes = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] | undefined }) =>
  result.errors?.map((e) => e.extensions?.code);

const createShipment = async (input: Record<string, unknown>) =>
  (await data<{ createShipment: Payload }>(CREATE, { input }, staff)).createShipment;
const shipOrder = async (input: Record<string, unknown>) =>
  (await data<{ shipOrder: Payload }>(SHIP, { input }, staff)).shipOrder;

/** A confirmed order of 2 laptops and 3 tees (its earlier history left out). */
async function confirmedOrder(status: OrderStatus = "CONFIRMED"): Promise<string> {
  const { id } = await env.pg.db
    .insertInto("orders")
    .values({ customer_id: A, currency_code: "USD", total_amount: 21_500, placed_at: new Date(), status })
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
      },
      { order_id: id, position: 1, product_id: TEE, product_name: "Tee", unit_price: 500, quantity: 3 },
    ])
    .execute();
  return id;
}

const events = async (type: string) => (await outbox()).filter((event) => event.type === type);

describe("split shipments", () => {
  it("ships part of an order, then the rest: PARTIALLY_SHIPPED, then SHIPPED, inventory told each shipment's units", async () => {
    const orderId = await confirmedOrder();
    const first = await createShipment({
      orderId,
      lines: [
        { productId: LAPTOP, quantity: 1 },
        { productId: TEE, quantity: 3 },
      ],
      carrier: " UPS ",
      trackingNumber: "1Z-PART-1",
    });
    expect(first.userErrors).toEqual([]);
    expect(first.shipment).toMatchObject({
      carrier: "UPS",
      trackingNumber: "1Z-PART-1",
      lines: [
        { product: { id: LAPTOP }, quantity: 1 },
        { product: { id: TEE }, quantity: 3 },
      ],
    });
    expect(first.order).toMatchObject({ status: "PARTIALLY_SHIPPED", trackingNumber: "1Z-PART-1" });

    // More than is left is refused, and changes nothing.
    const tooMany = await createShipment({ orderId, lines: [{ productId: TEE, quantity: 1 }] });
    expect(tooMany.userErrors).toEqual([
      {
        field: ["input", "lines", "0", "quantity"],
        code: "QUANTITY_EXCEEDS_UNSHIPPED",
        message: "Only 0 unit(s) of this product are left to ship.",
      },
    ]);
    expect(tooMany.order?.status).toBe("PARTIALLY_SHIPPED");

    // shipOrder ships the rest.
    const rest = await shipOrder({ orderId, trackingNumber: "1Z-PART-2", carrier: "DHL" });
    expect(rest.userErrors).toEqual([]);
    expect(rest.order?.status).toBe("SHIPPED");
    expect(rest.order?.statusHistory.map((step) => step.status)).toEqual(["PARTIALLY_SHIPPED", "SHIPPED"]);
    expect(rest.order?.shipments.map((s) => [s.carrier, s.trackingNumber, s.lines])).toEqual([
      [
        "UPS",
        "1Z-PART-1",
        [
          { product: { id: LAPTOP }, quantity: 1 },
          { product: { id: TEE }, quantity: 3 },
        ],
      ],
      ["DHL", "1Z-PART-2", [{ product: { id: LAPTOP }, quantity: 1 }]],
    ]);
    expect((await events("OrderShipped")).map((event) => event.payload)).toEqual([
      {
        orderId,
        lines: [
          { productId: LAPTOP, quantity: 1 },
          { productId: TEE, quantity: 3 },
        ],
      },
      { orderId, lines: [{ productId: LAPTOP, quantity: 1 }] },
    ]);
    // Each shipment tells the customer, with its tracking number and what the parcel holds.
    const announced = (await events("OrderStatusChanged")).map(
      (event) => event.payload as Record<string, unknown>,
    );
    expect(announced.map((p) => [p.status, p.previousStatus, p.trackingNumber, p.shipment])).toEqual([
      [
        "PARTIALLY_SHIPPED",
        "CONFIRMED",
        "1Z-PART-1",
        {
          carrier: "UPS",
          trackingNumber: "1Z-PART-1",
          lines: [
            { productId: LAPTOP, productName: "Laptop", quantity: 1 },
            { productId: TEE, productName: "Tee", quantity: 3 },
          ],
          complete: false,
        },
      ],
      [
        "SHIPPED",
        "PARTIALLY_SHIPPED",
        "1Z-PART-2",
        {
          carrier: "DHL",
          trackingNumber: "1Z-PART-2",
          lines: [{ productId: LAPTOP, productName: "Laptop", quantity: 1 }],
          complete: true,
        },
      ],
    ]);

    // Nothing is left to ship.
    const again = await shipOrder({ orderId });
    expect(again.userErrors.map((e) => e.code)).toEqual(["ILLEGAL_STATUS_TRANSITION"]);
    // The customer sees the shipments; another customer sees no order.
    const mine = await data<{ order: OrderShape }>(ORDER, { id: orderId }, customer(A));
    expect(mine.order.shipments).toHaveLength(2);
    expect((await data<{ order: OrderShape | null }>(ORDER, { id: orderId }, customer(B))).order).toBeNull();
  });

  it("ships a whole order at once as before: OrderShipped without lines, the announcement without a shipment", async () => {
    const orderId = await confirmedOrder();
    const result = await shipOrder({ orderId, trackingNumber: "1Z-WHOLE" });
    expect(result.order?.status).toBe("SHIPPED");
    expect(result.order?.shipments.map((s) => s.lines)).toEqual([
      [
        { product: { id: LAPTOP }, quantity: 2 },
        { product: { id: TEE }, quantity: 3 },
      ],
    ]);
    expect((await events("OrderShipped")).map((event) => event.payload)).toEqual([{ orderId }]);
    const [announced] = (await events("OrderStatusChanged")).map((e) => e.payload as Record<string, unknown>);
    expect(announced).toMatchObject({ status: "SHIPPED", trackingNumber: "1Z-WHOLE" });
    expect(announced).not.toHaveProperty("shipment");
  });

  it("lets several partial shipments each be a step, and staff cancel a partially shipped order", async () => {
    const orderId = await confirmedOrder();
    await createShipment({ orderId, lines: [{ productId: TEE, quantity: 1 }] });
    const second = await createShipment({ orderId, lines: [{ productId: TEE, quantity: 1 }] });
    expect(second.order?.statusHistory.map((s) => s.status)).toEqual([
      "PARTIALLY_SHIPPED",
      "PARTIALLY_SHIPPED",
    ]);
    // Customers cannot cancel what has started shipping; staff can.
    const cancel = `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { order { status } userErrors { code } } }`;
    expect(await data(cancel, { input: { orderId } }, customer(A))).toEqual({
      cancelOrder: {
        order: { status: "PARTIALLY_SHIPPED" },
        userErrors: [{ code: "ILLEGAL_STATUS_TRANSITION" }],
      },
    });
    expect(await data(cancel, { input: { orderId } }, staff)).toEqual({
      cancelOrder: { order: { status: "CANCELLED" }, userErrors: [] },
    });
  });

  it("is for staff only", async () => {
    const orderId = await confirmedOrder();
    const input = { orderId, lines: [{ productId: TEE, quantity: 1 }] };
    expect(codes(await run(CREATE, { input }, customer(A)))).toEqual(["FORBIDDEN"]);
    expect(codes(await run(CREATE, { input }))).toEqual(["UNAUTHENTICATED"]);
    expect(
      codes(
        await run(CREATE, { input: { ...input, orderId: "00000000-0000-4000-8000-000000000000" } }, staff),
      ),
    ).toEqual(["NOT_FOUND"]);
    expect(await events("OrderShipped")).toEqual([]);
  });

  it.each([
    [{ lines: [] }, "INVALID_SHIPMENT", ["input", "lines"]],
    [{ lines: [{ productId: TEE, quantity: 0 }] }, "INVALID_SHIPMENT", ["input", "lines", "0", "quantity"]],
    [
      {
        lines: [
          { productId: TEE, quantity: 1 },
          { productId: TEE, quantity: 1 },
        ],
      },
      "INVALID_SHIPMENT",
      ["input", "lines", "1", "productId"],
    ],
    [{ lines: [{ productId: SHOES, quantity: 1 }] }, "UNKNOWN_PRODUCT", ["input", "lines", "0", "productId"]],
    [
      { lines: [{ productId: LAPTOP, quantity: 3 }] },
      "QUANTITY_EXCEEDS_UNSHIPPED",
      ["input", "lines", "0", "quantity"],
    ],
    [{ carrier: "é" }, "INVALID_CARRIER", ["input", "carrier"]],
    [{ trackingNumber: "x".repeat(101) }, "INVALID_TRACKING_NUMBER", ["input", "trackingNumber"]],
  ])("refuses %j with %s, shipping nothing", async (input, code, field) => {
    const orderId = await confirmedOrder();
    const result = await createShipment({ orderId, ...input });
    expect(result.userErrors.map((e) => [e.code, e.field])).toEqual([[code, field]]);
    expect(result.order).toMatchObject({ status: "CONFIRMED", shipments: [] });
    expect(await events("OrderShipped")).toEqual([]);
  });

  it("refuses an order that is not confirmed", async () => {
    const orderId = await confirmedOrder("PENDING");
    const result = await createShipment({ orderId, lines: [{ productId: TEE, quantity: 1 }] });
    expect(result.userErrors.map((e) => e.code)).toEqual(["ILLEGAL_STATUS_TRANSITION"]);
  });

  it("never ships a unit twice when two shipments of the last units race", async () => {
    const orderId = await confirmedOrder();
    await createShipment({ orderId, lines: [{ productId: LAPTOP, quantity: 2 }] });
    const results = await Promise.all(
      [1, 2].map(() => createShipment({ orderId, lines: [{ productId: TEE, quantity: 2 }] })),
    );
    expect(results.map((r) => r.userErrors.map((e) => e.code)).sort()).toEqual([
      [],
      ["QUANTITY_EXCEEDS_UNSHIPPED"],
    ]);
    expect(await events("OrderShipped")).toHaveLength(2);
  });
});
