import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { CLOTHING, createTestOperations, ELECTRONICS, LAPTOP, SHOES, TEE, useTestEnv } from "../test-env.ts";
import { importOrders } from "./import.service.ts";

const env = useTestEnv("orders_import");
const { A, B, ADMIN } = env;
const { run, data, rowCounts, fromInventory } = createTestOperations(env);

const IMPORT = `mutation ($input: ImportOrdersInput!) { importOrders(input: $input) {
  ordersCreated ordersExisting returnsCreated returnsExisting userErrors { field code message } } }`;
const ORDER = `id status placedAt updatedAt customer { id } total { amount currencyCode }
  lines { productId productName quantity unitPrice { amount currencyCode } lineTotal { amount } }
  statusHistory { status at reason } shippingAddress { city } payment { status } trackingNumber`;

const staff = { as: { id: randomUUID(), role: "ADMIN" as const } };

interface ImportPayload {
  ordersCreated: number;
  ordersExisting: number;
  returnsCreated: number;
  returnsExisting: number;
  userErrors: { field: string[] | null; code: string; message: string }[];
}

type Input = { orders: Record<string, unknown>[]; returns: Record<string, unknown>[] };

async function importing(input: Partial<Input>): Promise<ImportPayload> {
  const result = await data<{ importOrders: ImportPayload }>(
    IMPORT,
    { input: { orders: [], returns: [], ...input } },
    staff,
  );
  return result.importOrders;
}

const sale = (externalId: string, placedAt: string, overrides: Record<string, unknown> = {}) => ({
  externalId,
  customerId: A,
  placedAt,
  currencyCode: "GBP",
  countryCode: "GB",
  lines: [
    { productId: TEE, productName: "WHITE HANGING HEART", categoryId: CLOTHING, quantity: 6, unitPrice: 255 },
    {
      productId: LAPTOP,
      productName: "RED WOOLLY HOTTIE",
      categoryId: ELECTRONICS,
      quantity: 2,
      unitPrice: 339,
    },
  ],
  ...overrides,
});

const giveBack = (externalId: string, returnedAt: string, overrides: Record<string, unknown> = {}) => ({
  externalId,
  customerId: A,
  returnedAt,
  currencyCode: "GBP",
  lines: [{ productId: TEE, quantity: 2, unitPrice: 255 }],
  ...overrides,
});

/** The outbox as written, oldest first, with each event's time. */
async function events() {
  const rows = await env.pg.db
    .selectFrom("outbox")
    .select(["type", "aggregate_id", "payload", "occurred_at"])
    .orderBy("occurred_at")
    .orderBy("type")
    .execute();
  return rows.map((row) => ({
    type: row.type,
    aggregateId: row.aggregate_id,
    occurredAt: row.occurred_at.toISOString(),
    payload: row.payload as Record<string, unknown>,
  }));
}

async function orderIdOf(externalRef: string): Promise<string> {
  const row = await env.pg.db
    .selectFrom("orders")
    .select("id")
    .where("external_ref", "=", externalRef)
    .executeTakeFirstOrThrow();
  return row.id;
}

async function allCounts() {
  const count = async (table: "refunds" | "refund_lines" | "order_status_changes") =>
    (await env.pg.db.selectFrom(table).select(sql<number>`count(*)::int`.as("n")).executeTakeFirstOrThrow())
      .n;
  return {
    ...(await rowCounts()),
    history: await count("order_status_changes"),
    refunds: await count("refunds"),
    refundLines: await count("refund_lines"),
  };
}

describe("importOrders: sales", () => {
  it("creates DELIVERED orders with their lines, totals and history at the invoice time, and their events", async () => {
    const placedAt = "2010-12-01T08:26:00.000Z";
    expect(await importing({ orders: [sale("536365", placedAt)] })).toEqual({
      ordersCreated: 1,
      ordersExisting: 0,
      returnsCreated: 0,
      returnsExisting: 0,
      userErrors: [],
    });
    const id = await orderIdOf("536365");

    // Staff read it like any order.
    const { order } = await data<{ order: unknown }>(
      `query ($id: ID!) { order(id: $id) { ${ORDER} } }`,
      { id },
      staff,
    );
    expect(order).toEqual({
      id,
      status: "DELIVERED",
      placedAt,
      updatedAt: placedAt,
      customer: { id: A },
      total: { amount: 6 * 255 + 2 * 339, currencyCode: "GBP" },
      lines: [
        {
          productId: TEE,
          productName: "WHITE HANGING HEART",
          quantity: 6,
          unitPrice: { amount: 255, currencyCode: "GBP" },
          lineTotal: { amount: 1530 },
        },
        {
          productId: LAPTOP,
          productName: "RED WOOLLY HOTTIE",
          quantity: 2,
          unitPrice: { amount: 339, currencyCode: "GBP" },
          lineTotal: { amount: 678 },
        },
      ],
      statusHistory: ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED"].map((status) => ({
        status,
        at: placedAt,
        reason: null,
      })),
      shippingAddress: null,
      payment: null,
      trackingNumber: null,
    });
    // Its customer sees it among their orders.
    const mine = await data<{
      _entities: { orders: { totalCount: number; edges: { node: { id: string } }[] } }[];
    }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { orders { totalCount edges { node { id } } } } } }`,
      { reps: [{ __typename: "User", id: A }] },
      { as: { id: A } },
    );
    expect(mine._entities).toEqual([{ orders: { totalCount: 1, edges: [{ node: { id } }] } }]);

    // Every event is dated when the sale happened.
    expect(await events()).toEqual([
      {
        type: "OrderConfirmed",
        aggregateId: id,
        occurredAt: placedAt,
        payload: { orderId: id },
      },
      {
        type: "OrderDelivered",
        aggregateId: id,
        occurredAt: placedAt,
        payload: { orderId: id, customerId: A, productIds: [TEE, LAPTOP] },
      },
      {
        type: "OrderPlaced",
        aggregateId: id,
        occurredAt: placedAt,
        payload: {
          orderId: id,
          customerId: A,
          currencyCode: "GBP",
          countryCode: "GB",
          historical: true,
          lines: [
            {
              productId: TEE,
              quantity: 6,
              unitPrice: 255,
              productName: "WHITE HANGING HEART",
              categoryId: CLOTHING,
            },
            {
              productId: LAPTOP,
              quantity: 2,
              unitPrice: 339,
              productName: "RED WOOLLY HOTTIE",
              categoryId: ELECTRONICS,
            },
          ],
        },
      },
    ]);
    // No payment was captured, nothing reserved or asked of the catalog.
    expect(env.faults.captureCalls).toBe(0);
    expect(env.catalogRequests).toEqual([]);
  });

  it("imports guest sales without a customer: no customer on the order, no OrderDelivered", async () => {
    const placedAt = "2011-01-04T10:00:00.000Z";
    const payload = await importing({
      orders: [sale("G1", placedAt, { customerId: null, countryCode: null })],
    });
    expect(payload.ordersCreated).toBe(1);
    const id = await orderIdOf("G1");
    const { order } = await data<{ order: unknown }>(
      `query ($id: ID!) { order(id: $id) { status customer { id } total { amount } } }`,
      { id },
      staff,
    );
    expect(order).toEqual({ status: "DELIVERED", customer: null, total: { amount: 2208 } });
    // As an entity too: the gateway gets a null customer, not a reference to no one.
    const entities = await data<{ _entities: unknown[] }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { id customer { id } } } }`,
      { reps: [{ __typename: "Order", id }] },
      staff,
    );
    expect(entities._entities).toEqual([{ id, customer: null }]);
    // Nobody's order: not A's, and invisible to customers.
    expect(await data(`query ($id: ID!) { order(id: $id) { id } }`, { id }, { as: { id: A } })).toEqual({
      order: null,
    });

    const written = await events();
    expect(written.map((event) => event.type)).toEqual(["OrderConfirmed", "OrderPlaced"]);
    expect(written[1]?.payload).toMatchObject({ customerId: null, countryCode: null, historical: true });
  });

  it("runs no saga step for an imported order: inventory's answers about it change nothing", async () => {
    await importing({ orders: [sale("S1", "2011-02-01T09:00:00.000Z")] });
    const id = await orderIdOf("S1");
    const before = await allCounts();
    await fromInventory("InventoryReserved", { orderId: id });
    await fromInventory("ReservationExpired", { orderId: id });
    await fromInventory("InventoryRejected", { orderId: id, lines: [] });
    expect(env.faults.captureCalls).toBe(0);
    expect(await allCounts()).toEqual(before);
    const row = await env.pg.db
      .selectFrom("orders")
      .select(["status", "channel", "partner_client"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: "DELIVERED", channel: "import", partner_client: null });
    // Nor can staff move it on: it is delivered.
    const cancelled = await data<{ cancelOrder: { userErrors: { code: string }[] } }>(
      `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { userErrors { code } } }`,
      { input: { orderId: id } },
      staff,
    );
    expect(cancelled.cancelOrder.userErrors.map((e) => e.code)).toEqual(["ILLEGAL_STATUS_TRANSITION"]);
  });

  it("is idempotent by externalId: a second run creates nothing and announces nothing", async () => {
    const input = {
      orders: [sale("1", "2011-03-01T10:00:00Z"), sale("2", "2011-03-02T10:00:00Z", { customerId: null })],
      returns: [giveBack("C1", "2011-03-03T10:00:00Z")],
    };
    expect(await importing(input)).toMatchObject({ ordersCreated: 2, ordersExisting: 0, returnsCreated: 1 });
    const counts = await allCounts();
    expect(counts).toEqual({
      orders: 2,
      lines: 4,
      outbox: 2 * 2 + 1 + 1,
      keys: 0,
      history: 8,
      refunds: 1,
      refundLines: 1,
    });
    expect(await importing(input)).toEqual({
      ordersCreated: 0,
      ordersExisting: 2,
      returnsCreated: 0,
      returnsExisting: 1,
      userErrors: [],
    });
    expect(await allCounts()).toEqual(counts);

    // A batch that overlaps: only what is new is created and announced.
    const overlapping = await importing({
      orders: [sale("2", "2011-03-02T10:00:00Z"), sale("3", "2011-03-04T10:00:00Z")],
      returns: [giveBack("C1", "2011-03-03T10:00:00Z"), giveBack("C2", "2011-03-05T10:00:00Z")],
    });
    expect(overlapping).toMatchObject({
      ordersCreated: 1,
      ordersExisting: 1,
      returnsCreated: 1,
      returnsExisting: 1,
    });
    expect(await allCounts()).toEqual({
      ...counts,
      orders: 3,
      lines: 6,
      history: 12,
      outbox: counts.outbox + 3 + 1,
      refunds: 2,
      refundLines: 2,
    });
  });

  it("creates each order once when overlapping batches are imported at the same time, in opposite orders", async () => {
    const orders = Array.from({ length: 800 }, (_, i) =>
      sale(`c-${String(i).padStart(3, "0")}`, "2011-06-01T10:00:00Z"),
    );
    const first = orders.slice(0, 500);
    const second = orders.slice(300).reverse();
    const [a, b] = await Promise.all([importing({ orders: first }), importing({ orders: second })]);
    expect(a.userErrors).toEqual([]);
    expect(b.userErrors).toEqual([]);
    expect(a.ordersCreated + b.ordersCreated).toBe(800);
    expect(a.ordersExisting + b.ordersExisting).toBe(200);
    expect(await allCounts()).toMatchObject({ orders: 800, lines: 1600, history: 3200, outbox: 2400 });
  });

  it("imports 100 orders of 20 lines in a handful of statements", async () => {
    const orders = Array.from({ length: 100 }, (_, i) =>
      sale(`bulk-${i}`, "2011-05-01T12:00:00Z", {
        lines: Array.from({ length: 20 }, (_, j) => ({
          productId: j % 2 === 0 ? TEE : SHOES,
          productName: `Line ${j}`,
          quantity: 1 + j,
          unitPrice: 100,
        })),
      }),
    );
    env.pg.queries.length = 0;
    expect((await importing({ orders })).ordersCreated).toBe(100);
    // One statement per table, whatever the number of orders and lines (no returns: no refund statements).
    expect(env.pg.queries.map((q) => q.trim().split(/\s+/).slice(0, 3).join(" "))).toEqual([
      "begin",
      "INSERT INTO orders",
      "INSERT INTO order_lines",
      "INSERT INTO order_status_changes",
      'insert into "outbox"',
      "commit",
    ]);
    expect(await allCounts()).toMatchObject({ orders: 100, lines: 2000, history: 400, outbox: 300 });
    const total = await env.pg.db
      .selectFrom("orders")
      .select(sql<number>`sum(total_amount)::int`.as("sum"))
      .executeTakeFirstOrThrow();
    expect(total.sum).toBe(100 * 100 * ((20 * 21) / 2));
  });
});

describe("importOrders: returns", () => {
  it("links a return to the customer's latest order with its first product placed before it", async () => {
    await importing({
      orders: [
        sale("old", "2011-01-01T10:00:00Z"),
        sale("latest", "2011-02-01T10:00:00Z"),
        sale("other-product", "2011-02-15T10:00:00Z", {
          lines: [{ productId: SHOES, productName: "SHOES", quantity: 1, unitPrice: 100 }],
        }),
        sale("after", "2011-04-01T10:00:00Z"),
        sale("someone-else", "2011-02-20T10:00:00Z", { customerId: B }),
      ],
    });
    const returnedAt = "2011-03-01T10:00:00.000Z";
    const payload = await importing({
      // One of this call's own sales can be returned in the same call.
      orders: [sale("same-call", "2011-05-01T10:00:00Z", { customerId: B })],
      returns: [
        giveBack("C-linked", returnedAt, { reason: "damaged" }),
        giveBack("C-never-bought", returnedAt, {
          lines: [{ productId: "65a0000000000000000000aa", quantity: 1, unitPrice: 10 }],
        }),
        giveBack("C-guest", returnedAt, { customerId: null }),
        giveBack("C-too-early", "2010-06-01T10:00:00Z"),
        giveBack("C-same-call", "2011-05-02T10:00:00Z", { customerId: B }),
      ],
    });
    expect(payload).toMatchObject({
      ordersCreated: 1,
      returnsCreated: 5,
      returnsExisting: 0,
      userErrors: [],
    });

    const refunds = await env.pg.db.selectFrom("refunds").selectAll().orderBy("external_ref").execute();
    const byRef = Object.fromEntries(refunds.map((refund) => [refund.external_ref, refund]));
    expect(byRef["C-linked"]).toMatchObject({
      order_id: await orderIdOf("latest"),
      customer_id: A,
      currency_code: "GBP",
      amount: 510,
      reason: "damaged",
      historical: true,
    });
    expect(byRef["C-linked"]?.refunded_at.toISOString()).toBe(returnedAt);
    expect(byRef["C-never-bought"]).toMatchObject({ order_id: null, customer_id: A, amount: 10 });
    expect(byRef["C-guest"]).toMatchObject({ order_id: null, customer_id: null, reason: "imported return" });
    expect(byRef["C-too-early"]?.order_id).toBeNull();
    expect(byRef["C-same-call"]?.order_id).toBe(await orderIdOf("same-call"));
    expect(
      await env.pg.db
        .selectFrom("refund_lines")
        .select(["product_id", "quantity", "unit_price", "position"])
        .where("refund_id", "=", byRef["C-linked"]?.id ?? "")
        .execute(),
    ).toEqual([{ product_id: TEE, quantity: 2, unit_price: 255, position: 0 }]);

    const refunded = (await events()).filter((event) => event.type === "OrderRefunded");
    expect(refunded).toHaveLength(5);
    expect(refunded.find((event) => event.aggregateId === byRef["C-linked"]?.id)).toEqual({
      type: "OrderRefunded",
      aggregateId: byRef["C-linked"]?.id,
      occurredAt: returnedAt,
      payload: {
        refundId: byRef["C-linked"]?.id,
        orderId: await orderIdOf("latest"),
        customerId: A,
        currencyCode: "GBP",
        amount: 510,
        lines: [{ productId: TEE, quantity: 2, unitPrice: 255 }],
        reason: "damaged",
        historical: true,
      },
    });
  });
});

describe("importOrders: refusals", () => {
  const codesOf = (payload: ImportPayload) => payload.userErrors.map((e) => [e.field?.join("."), e.code]);

  it("reports every invalid field at once, at its path, and writes nothing", async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const payload = await importing({
      orders: [
        sale(" ", future, { currencyCode: "pounds", countryCode: "XX", customerId: "not-a-uuid" }),
        sale("x".repeat(101), "2011-01-01T00:00:00Z", { lines: [] }),
        sale("dup", "2011-01-01T00:00:00Z", {
          lines: [
            { productId: "nope", productName: " ", categoryId: "cat", quantity: 0, unitPrice: -1 },
            { productId: TEE, productName: "x".repeat(201), quantity: -3, unitPrice: 5 },
          ],
        }),
        sale("dup", "2011-01-01T00:00:00Z"),
        sale("huge", "2011-01-01T00:00:00Z", {
          lines: [{ productId: TEE, productName: "Big", quantity: 2, unitPrice: 2_000_000_000 }],
        }),
      ],
      returns: [
        giveBack("", future, { customerId: "x", currencyCode: "EURO", reason: "r".repeat(501), lines: [] }),
        giveBack("R", "2011-01-01T00:00:00Z", { lines: [{ productId: "bad", quantity: 0, unitPrice: -5 }] }),
        giveBack("R", "2011-01-01T00:00:00Z"),
      ],
    });
    expect(codesOf(payload)).toEqual([
      ["input.orders.0.externalId", "INVALID_EXTERNAL_ID"],
      ["input.orders.1.externalId", "INVALID_EXTERNAL_ID"],
      ["input.orders.3.externalId", "DUPLICATE_EXTERNAL_ID"],
      ["input.orders.0.customerId", "INVALID_CUSTOMER_ID"],
      ["input.orders.0.placedAt", "INVALID_DATE"],
      ["input.orders.0.currencyCode", "INVALID_CURRENCY"],
      ["input.orders.0.countryCode", "INVALID_COUNTRY"],
      ["input.orders.1.lines", "NO_LINES"],
      ["input.orders.2.lines.0.productName", "INVALID_PRODUCT_NAME"],
      ["input.orders.2.lines.0.categoryId", "INVALID_CATEGORY_ID"],
      ["input.orders.2.lines.0.quantity", "INVALID_QUANTITY"],
      ["input.orders.2.lines.0.unitPrice", "INVALID_PRICE"],
      ["input.orders.2.lines.0.productId", "INVALID_PRODUCT_ID"],
      ["input.orders.2.lines.1.productName", "INVALID_PRODUCT_NAME"],
      ["input.orders.2.lines.1.quantity", "INVALID_QUANTITY"],
      ["input.orders.4.lines", "TOTAL_TOO_LARGE"],
      ["input.returns.0.externalId", "INVALID_EXTERNAL_ID"],
      ["input.returns.2.externalId", "DUPLICATE_EXTERNAL_ID"],
      ["input.returns.0.lines", "NO_LINES"],
      ["input.returns.0.reason", "INVALID_REASON"],
      ["input.returns.0.customerId", "INVALID_CUSTOMER_ID"],
      ["input.returns.0.returnedAt", "INVALID_DATE"],
      ["input.returns.0.currencyCode", "INVALID_CURRENCY"],
      ["input.returns.1.lines.0.quantity", "INVALID_QUANTITY"],
      ["input.returns.1.lines.0.unitPrice", "INVALID_PRICE"],
      ["input.returns.1.lines.0.productId", "INVALID_PRODUCT_ID"],
    ]);
    expect(payload).toMatchObject({
      ordersCreated: 0,
      ordersExisting: 0,
      returnsCreated: 0,
      returnsExisting: 0,
    });
    expect(payload.userErrors[0]?.message).toBe("externalId must be 1 to 100 characters.");
    expect(await allCounts()).toEqual({
      orders: 0,
      lines: 0,
      outbox: 0,
      keys: 0,
      history: 0,
      refunds: 0,
      refundLines: 0,
    });
  });

  it("refuses an invoice with more than 1000 lines", async () => {
    const line = { productId: TEE, productName: "Tee", quantity: 1, unitPrice: 1 };
    const payload = await importing({
      orders: [sale("long", "2011-01-01T00:00:00Z", { lines: Array.from({ length: 1001 }, () => line) })],
    });
    expect(codesOf(payload)).toEqual([["input.orders.0.lines", "TOO_MANY_LINES"]]);
  });

  it("refuses more than 500 orders or 500 returns in one call, and nothing else is read", async () => {
    const orders = Array.from({ length: 501 }, (_, i) =>
      sale(`o${i}`, "2011-01-01T00:00:00Z", { lines: [] }),
    );
    const returns = Array.from({ length: 501 }, (_, i) => giveBack(`r${i}`, "2011-01-01T00:00:00Z"));
    expect(codesOf(await importing({ orders }))).toEqual([["input.orders", "TOO_MANY_ORDERS"]]);
    expect(codesOf(await importing({ returns }))).toEqual([["input.returns", "TOO_MANY_RETURNS"]]);
    expect(await allCounts()).toMatchObject({ orders: 0, refunds: 0 });
  });

  it("refuses prices and quantities that are not whole numbers: GraphQL before the resolver, the service on its own", async () => {
    const result = await run(
      IMPORT,
      {
        input: {
          orders: [
            sale("frac", "2011-01-01T00:00:00Z", {
              lines: [{ productId: TEE, productName: "Tee", quantity: 1, unitPrice: 2.55 }],
            }),
          ],
          returns: [],
        },
      },
      staff,
    );
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    const direct = await importOrders(env.deps, {
      orders: [
        {
          externalId: "frac",
          placedAt: new Date("2011-01-01T00:00:00Z"),
          currencyCode: "GBP",
          lines: [{ productId: TEE, productName: "Tee", quantity: 1.5, unitPrice: 2.55 }],
        },
      ],
      returns: [],
    });
    expect(codesOf(direct)).toEqual([
      ["input.orders.0.lines.0.quantity", "INVALID_QUANTITY"],
      ["input.orders.0.lines.0.unitPrice", "INVALID_PRICE"],
    ]);
    expect(await allCounts()).toMatchObject({ orders: 0 });
  });

  it("takes a call with only orders or only returns, and an empty one", async () => {
    const onlyOrders = await data<{ importOrders: ImportPayload }>(
      IMPORT,
      { input: { orders: [sale("alone", "2011-01-01T00:00:00Z")] } },
      staff,
    );
    expect(onlyOrders.importOrders).toMatchObject({ ordersCreated: 1, returnsCreated: 0, userErrors: [] });
    const onlyReturns = await data<{ importOrders: ImportPayload }>(
      IMPORT,
      { input: { returns: [giveBack("C-alone", "2011-01-02T00:00:00Z")] } },
      staff,
    );
    expect(onlyReturns.importOrders).toMatchObject({ ordersCreated: 0, returnsCreated: 1, userErrors: [] });
    const empty = await data<{ importOrders: ImportPayload }>(IMPORT, { input: {} }, staff);
    expect(empty.importOrders).toEqual({
      ordersCreated: 0,
      ordersExisting: 0,
      returnsCreated: 0,
      returnsExisting: 0,
      userErrors: [],
    });
  });

  it("is for holders of store:import only", async () => {
    const input = { orders: [sale("nope", "2011-01-01T00:00:00Z")], returns: [] };
    const asCustomer = await run(IMPORT, { input }, { as: { id: A } });
    expect(asCustomer.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    const anonymous = await run(IMPORT, { input });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
    expect(await allCounts()).toMatchObject({ orders: 0, outbox: 0 });
    expect((await run(IMPORT, { input }, { as: { id: ADMIN, role: "ADMIN" } })).errors).toBeUndefined();
  });
});
