import { randomUUID } from "node:crypto";
import { ConfigError, encodeCursor } from "@nexus/core";
import { databaseUrl, dropDatabase } from "@nexus/stores";
import {
  deleteRedisKeys,
  TEST_REDIS_URL,
  TEST_SERVER_URL,
  TEST_SUBGRAPH_SECRET,
  TEST_TOKEN_AUDIENCE,
  testRedisPrefix,
  testSubgraphHeaders,
  until,
} from "@nexus/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { startApp } from "../app.ts";
import { loadConfig } from "../config.ts";
import { ADDRESS, createTestOperations, logger, money, TEE, useTestEnv } from "../test-env.ts";

const env = useTestEnv("orders");
const { A, B, ADMIN } = env;
const { run, data, insertOrder, outbox } = createTestOperations(env);

const ORDER_FIELDS = "id status trackingNumber statusHistory { status reason } payment { status }";
const CANCEL = `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) {
  order { ${ORDER_FIELDS} } userErrors { field code message } } }`;
const SHIP = `mutation ($input: ShipOrderInput!) { shipOrder(input: $input) {
  order { ${ORDER_FIELDS} } userErrors { field code message } } }`;
const DELIVER = `mutation ($input: DeliverOrderInput!) { deliverOrder(input: $input) {
  order { ${ORDER_FIELDS} } userErrors { field code message } } }`;

interface ChangePayload {
  order: {
    id: string;
    status: string;
    trackingNumber: string | null;
    statusHistory: { status: string; reason: string | null }[];
    payment: { status: string } | null;
  } | null;
  userErrors: { field: string[] | null; code: string; message: string }[];
}

const asCustomer = { as: { id: "" } };
const staff = () => ({ as: { id: ADMIN, role: "ADMIN" as const } });
const customer = (id: string) => ({ ...asCustomer, as: { id } });

async function change(mutation: string, name: string, input: Record<string, unknown>, options: object) {
  const result = await data<Record<string, ChangePayload>>(mutation, { input }, options);
  const payload = result[name];
  if (!payload) throw new Error(`no ${name} payload`);
  return payload;
}

/** The events for other subgraphs' work; OrderStatusChanged is read in status-change.test.ts. */
const withoutStatusChanges = async () =>
  (await outbox()).filter((event) => event.type !== "OrderStatusChanged");

const codes = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] | undefined }) =>
  result.errors?.map((e) => e.extensions?.code);

/** Captures a payment the way the saga does, so cancelling has something to refund. */
async function capturedPayment(orderId: string, amount = 500) {
  const capture = await env.payments.capture({
    idempotencyKey: orderId,
    orderId,
    amount,
    currencyCode: "USD",
    token: null,
  });
  if (capture.status !== "CAPTURED") throw new Error("not captured");
  await env.pg.db
    .insertInto("payments")
    .values({
      order_id: orderId,
      provider: "test",
      status: "CAPTURED",
      amount,
      currency_code: "USD",
      reference: capture.reference,
      decline_reason: null,
    })
    .execute();
}

describe("order transitions", () => {
  const at = new Date("2026-05-01T10:00:00.000Z");

  it("lets a customer cancel their own pending or confirmed order, refunding a captured payment", async () => {
    const pending = await insertOrder(A, at);
    const confirmed = await insertOrder(A, at, 2, "CONFIRMED");
    await capturedPayment(confirmed, 1000);

    const first = await change(CANCEL, "cancelOrder", { orderId: pending }, customer(A));
    expect(first).toEqual({
      order: {
        id: pending,
        status: "CANCELLED",
        trackingNumber: null,
        statusHistory: [
          { status: "PENDING", reason: null },
          { status: "CANCELLED", reason: "cancelled by the customer" },
        ],
        payment: null,
      },
      userErrors: [],
    });
    const second = await change(
      CANCEL,
      "cancelOrder",
      { orderId: confirmed, reason: "  found it cheaper  " },
      customer(A),
    );
    expect(second.order).toMatchObject({ status: "CANCELLED", payment: { status: "REFUNDED" } });
    expect(second.order?.statusHistory.at(-1)).toEqual({ status: "CANCELLED", reason: "found it cheaper" });

    expect(await withoutStatusChanges()).toEqual([
      {
        type: "OrderCancelled",
        aggregateId: pending,
        payload: { orderId: pending, reason: "cancelled by the customer" },
      },
      {
        type: "OrderCancelled",
        aggregateId: confirmed,
        payload: { orderId: confirmed, reason: "found it cheaper" },
      },
    ]);
    const charges = await env.payments.charges();
    expect(
      charges.filter((c) => c.idempotencyKey.endsWith(confirmed)).map((c) => [c.kind, c.amount]),
    ).toEqual([
      ["capture", 1000],
      ["refund", 1000],
    ]);

    // Cancelling again is an illegal transition, and refunds nothing more.
    const again = await change(CANCEL, "cancelOrder", { orderId: confirmed }, customer(A));
    expect(again.order?.status).toBe("CANCELLED");
    expect(again.userErrors).toEqual([
      {
        field: ["input", "orderId"],
        code: "ILLEGAL_STATUS_TRANSITION",
        message: "A CANCELLED order cannot become CANCELLED.",
      },
    ]);
    expect(await env.payments.charges()).toHaveLength(charges.length);
  });

  it("hides another customer's order: reading is null, cancelling is NOT_FOUND and changes nothing", async () => {
    const theirs = await insertOrder(B, at);
    expect(await data(`query ($id: ID!) { order(id: $id) { id } }`, { id: theirs }, customer(A))).toEqual({
      order: null,
    });
    for (const orderId of [theirs, randomUUID(), "not-an-id"]) {
      const result = await run(CANCEL, { input: { orderId } }, customer(A));
      expect(codes(result)).toEqual(["NOT_FOUND"]);
      expect(result.data).toBeNull();
    }
    const row = await env.pg.db
      .selectFrom("orders")
      .select("status")
      .where("id", "=", theirs)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("PENDING");
    expect(await withoutStatusChanges()).toEqual([]);
    expect(codes(await run(CANCEL, { input: { orderId: theirs } }))).toEqual(["UNAUTHENTICATED"]);
  });

  it("ships and delivers for staff only, with OrderShipped and OrderDelivered naming the products", async () => {
    const id = await insertOrder(A, at, 3, "CONFIRMED");
    expect(codes(await run(SHIP, { input: { orderId: id } }, customer(A)))).toEqual(["FORBIDDEN"]);
    expect(codes(await run(SHIP, { input: { orderId: id } }))).toEqual(["UNAUTHENTICATED"]);
    expect(codes(await run(DELIVER, { input: { orderId: id } }, customer(A)))).toEqual(["FORBIDDEN"]);

    const early = await change(DELIVER, "deliverOrder", { orderId: id }, staff());
    expect(early.userErrors.map((e) => e.code)).toEqual(["ILLEGAL_STATUS_TRANSITION"]);
    const badTracking = await change(
      SHIP,
      "shipOrder",
      { orderId: id, trackingNumber: "x".repeat(101) },
      staff(),
    );
    expect(badTracking.userErrors.map((e) => e.code)).toEqual(["INVALID_TRACKING_NUMBER"]);

    const shipped = await change(
      SHIP,
      "shipOrder",
      { orderId: id, trackingNumber: " 1Z999AA10123456784 " },
      staff(),
    );
    expect(shipped).toMatchObject({
      order: { status: "SHIPPED", trackingNumber: "1Z999AA10123456784" },
      userErrors: [],
    });
    // The customer can no longer cancel; staff still could.
    const late = await change(CANCEL, "cancelOrder", { orderId: id }, customer(A));
    expect(late.userErrors).toEqual([
      {
        field: ["input", "orderId"],
        code: "ILLEGAL_STATUS_TRANSITION",
        message: "A SHIPPED order cannot become CANCELLED; a shipped order can only be cancelled by staff.",
      },
    ]);
    const delivered = await change(DELIVER, "deliverOrder", { orderId: id }, staff());
    expect(delivered.order?.statusHistory.map((s) => s.status)).toEqual(["PENDING", "SHIPPED", "DELIVERED"]);
    const afterDelivery = await change(CANCEL, "cancelOrder", { orderId: id }, staff());
    expect(afterDelivery.userErrors.map((e) => e.code)).toEqual(["ILLEGAL_STATUS_TRANSITION"]);
    expect((await change(SHIP, "shipOrder", { orderId: id }, staff())).userErrors.map((e) => e.code)).toEqual(
      ["ILLEGAL_STATUS_TRANSITION"],
    );

    expect(await withoutStatusChanges()).toEqual([
      { type: "OrderShipped", aggregateId: id, payload: { orderId: id } },
      { type: "OrderDelivered", aggregateId: id, payload: { orderId: id, customerId: A, productIds: [TEE] } },
    ]);
  });

  it("lets staff cancel a shipped order, and refuses pending orders to shipping", async () => {
    const shipped = await insertOrder(A, at, 1, "SHIPPED");
    const pending = await insertOrder(A, at);
    const cancelled = await change(
      CANCEL,
      "cancelOrder",
      { orderId: shipped, reason: "lost in transit" },
      staff(),
    );
    expect(cancelled.order?.statusHistory.at(-1)).toEqual({ status: "CANCELLED", reason: "lost in transit" });
    const early = await change(SHIP, "shipOrder", { orderId: pending }, staff());
    expect(early.userErrors.map((e) => e.message)).toEqual(["A PENDING order cannot become SHIPPED."]);
    const long = await change(
      CANCEL,
      "cancelOrder",
      { orderId: pending, reason: "x".repeat(501) },
      customer(A),
    );
    expect(long.userErrors.map((e) => e.code)).toEqual(["INVALID_REASON"]);
  });
});

describe("reading orders", () => {
  it("shows an order to its customer and to admins; to anyone else it does not exist", async () => {
    const id = await insertOrder(A, new Date("2026-01-01T10:00:00.000Z"));
    const query = `query ($id: ID!) { order(id: $id) { id total { amount } } }`;
    const visible = { order: { id, total: { amount: 500 } } };

    expect(await data(query, { id }, { as: { id: A } })).toEqual(visible);
    expect(await data(query, { id }, { as: { id: ADMIN, role: "ADMIN" } })).toEqual(visible);
    expect(await data(query, { id }, { as: { id: B } })).toEqual({ order: null });
    expect(await data(query, { id: randomUUID() }, { as: { id: A } })).toEqual({ order: null });
    expect(await data(query, { id: "not-a-uuid" }, { as: { id: A } })).toEqual({ order: null });

    const anonymous = await run(query, { id });
    expect(anonymous.data).toEqual({ order: null });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });

  it("resolves Order _entities with one orders query and one lines query, hiding others' orders", async () => {
    const mine1 = await insertOrder(A, new Date("2026-01-01T10:00:00.000Z"), 2);
    const mine2 = await insertOrder(A, new Date("2026-01-02T10:00:00.000Z"), 1);
    const theirs = await insertOrder(B, new Date("2026-01-03T10:00:00.000Z"), 1);
    env.pg.queries.length = 0;

    const result = await data<{ _entities: unknown[] }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on Order { id status customer { id } lines { productName lineTotal { amount currencyCode } } }
      } }`,
      {
        reps: [mine2, theirs, randomUUID(), "not-a-uuid", mine1.toUpperCase()].map((id) => ({
          __typename: "Order",
          id,
        })),
      },
      { as: { id: A } },
    );
    const line = (n: number) => ({ productName: `Line ${n}`, lineTotal: money(500) });
    expect(result._entities).toEqual([
      { id: mine2, status: "PENDING", customer: { id: A }, lines: [line(0)] },
      null,
      null,
      null,
      { id: mine1, status: "PENDING", customer: { id: A }, lines: [line(0), line(1)] },
    ]);
    expect(env.pg.queries).toHaveLength(2);
    expect(env.pg.queries[0]).toMatch(/^select .* from "orders" where "id" in/);
    expect(env.pg.queries[1]).toMatch(/from "order_lines"/);

    const anonymous = await run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { id } } }`,
      {
        reps: [{ __typename: "Order", id: mine1 }],
      },
    );
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });

  it("resolves User _entities to stubs whose orders only the user and admins may read", async () => {
    await insertOrder(A, new Date("2026-01-01T10:00:00.000Z"));
    const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) {
      ... on User { id orders { totalCount } }
    } }`;
    const reps = { reps: [{ __typename: "User", id: A }] };

    env.pg.queries.length = 0;
    const stub = await data(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id } } }`,
      reps,
    );
    expect(stub).toEqual({ _entities: [{ id: A }] });
    expect(env.pg.queries).toEqual([]);

    expect(await data(query, reps, { as: { id: A } })).toEqual({
      _entities: [{ id: A, orders: { totalCount: 1 } }],
    });
    expect(await data(query, reps, { as: { id: ADMIN, role: "ADMIN" } })).toEqual({
      _entities: [{ id: A, orders: { totalCount: 1 } }],
    });
    const other = await run(query, reps, { as: { id: B } });
    expect(other.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    const anonymous = await run(query, reps);
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("orderStatus (partners)", () => {
  const STATUS = `query ($id: ID!) { orderStatus(id: $id) {
    id status statusHistory { status at } placedAt updatedAt
  } }`;
  const partner = { as: { id: "partner-1", role: "PARTNER" as const, clientId: "acme" } };
  /** The partner rule follows the channel; see order-desk.test.ts for orders placed through a partner. */
  const placedThroughAcme = (id: string) =>
    sql`UPDATE orders SET channel = 'partner', partner_client = 'acme' WHERE id = ${id}`.execute(env.pg.db);

  it("gives a partner its order's status, history and timestamps in two queries", async () => {
    const placedAt = new Date("2026-02-01T10:00:00.000Z");
    const id = await insertOrder(A, placedAt);
    await placedThroughAcme(id);
    await change(CANCEL, "cancelOrder", { orderId: id, reason: "Call me on 555-0100" }, customer(A));
    env.pg.queries.length = 0;

    const result = await data<{ orderStatus: Record<string, unknown> }>(STATUS, { id }, partner);
    expect(env.pg.queries).toHaveLength(2);
    expect(env.pg.queries[0]).toMatch(/from "orders" where "id" in/);
    expect(env.pg.queries[1]).toMatch(/from "order_status_changes"/);
    const [row] = await env.pg.db.selectFrom("orders").select("updated_at").where("id", "=", id).execute();
    expect(result.orderStatus).toEqual({
      id,
      status: "CANCELLED",
      statusHistory: [
        { status: "PENDING", at: placedAt.toISOString() },
        { status: "CANCELLED", at: expect.any(String) },
      ],
      placedAt: placedAt.toISOString(),
      updatedAt: row?.updated_at.toISOString(),
    });
  });

  it("is null for an order that does not exist, and open to staff too", async () => {
    expect(await data(STATUS, { id: randomUUID() }, partner)).toEqual({ orderStatus: null });
    expect(await data(STATUS, { id: "not-a-uuid" }, partner)).toEqual({ orderStatus: null });
    const id = await insertOrder(B, new Date("2026-02-02T10:00:00.000Z"));
    const staffView = await data<{ orderStatus: { id: string } }>(STATUS, { id }, staff());
    expect(staffView.orderStatus.id).toBe(id);
  });

  it("refuses anonymous callers and customers, even for their own order", async () => {
    const id = await insertOrder(A, new Date("2026-02-03T10:00:00.000Z"));
    const anonymous = await run(STATUS, { id });
    expect(anonymous.data).toEqual({ orderStatus: null });
    expect(codes(anonymous)).toEqual(["UNAUTHENTICATED"]);
    const own = await run(STATUS, { id }, customer(A));
    expect(own.data).toEqual({ orderStatus: null });
    expect(codes(own)).toEqual(["FORBIDDEN"]);
  });

  it("exposes nothing about the customer, the address or the payment", async () => {
    const fields = async (type: string) =>
      (
        await data<{ __type: { fields: { name: string }[] } }>(
          `{ __type(name: "${type}") { fields { name } } }`,
        )
      ).__type.fields.map((field) => field.name);
    expect(await fields("OrderStatusReport")).toEqual([
      "id",
      "status",
      "statusHistory",
      "placedAt",
      "updatedAt",
    ]);
    expect(await fields("OrderStatusStep")).toEqual(["status", "at"]);
  });

  it("does not let a partner read the order itself, by id or as an _entities representation", async () => {
    const id = await insertOrder(A, new Date("2026-02-04T10:00:00.000Z"));
    expect(await data(`query ($id: ID!) { order(id: $id) { id } }`, { id }, partner)).toEqual({
      order: null,
    });
    expect(
      await data(
        `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { id shippingAddress { name } } } }`,
        { reps: [{ __typename: "Order", id }] },
        partner,
      ),
    ).toEqual({ _entities: [null] });
  });
});

describe("User.orders", () => {
  const ORDERS = `query ($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) {
    ... on User { orders(first: $first, after: $after) {
      edges { cursor node { id placedAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    } }
  } }`;
  interface OrdersPage {
    edges: { cursor: string; node: { id: string; placedAt: string } }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
    totalCount: number;
  }
  const pageOf = async (first: number | null, after: string | null, as = { id: A }) => {
    const result = await data<{ _entities: { orders: OrdersPage }[] }>(
      ORDERS,
      { reps: [{ __typename: "User", id: A }], first, after },
      { as },
    );
    const page = result._entities[0]?.orders;
    if (!page) throw new Error("no page");
    return page;
  };

  it("pages newest first by (placedAt, id), ties included, with exact cursors and counts", async () => {
    const t = (minute: number) => new Date(`2026-02-01T10:0${minute}:00.123Z`);
    const ids = [
      { id: await insertOrder(A, t(1)), at: t(1) },
      { id: await insertOrder(A, t(3)), at: t(3) },
      { id: await insertOrder(A, t(3)), at: t(3) },
      { id: await insertOrder(A, t(2)), at: t(2) },
      { id: await insertOrder(A, t(5)), at: t(5) },
    ];
    await insertOrder(B, t(4));
    const newestFirst = [...ids].sort(
      (x, y) => y.at.getTime() - x.at.getTime() || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0),
    );
    const edge = ({ id, at }: { id: string; at: Date }) => ({
      cursor: encodeCursor([at.toISOString(), id]),
      node: { id, placedAt: at.toISOString() },
    });
    const expected = newestFirst.map(edge);

    env.pg.queries.length = 0;
    const first = await pageOf(2, null);
    expect(env.pg.queries).toHaveLength(2);
    expect(first).toEqual({
      edges: expected.slice(0, 2),
      pageInfo: {
        hasNextPage: true,
        hasPreviousPage: false,
        startCursor: expected[0]?.cursor,
        endCursor: expected[1]?.cursor,
      },
      totalCount: 5,
    });
    const second = await pageOf(2, first.pageInfo.endCursor);
    expect(second.edges).toEqual(expected.slice(2, 4));
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const last = await pageOf(2, second.pageInfo.endCursor);
    expect(last).toEqual({
      edges: expected.slice(4),
      pageInfo: {
        hasNextPage: false,
        hasPreviousPage: true,
        startCursor: expected[4]?.cursor,
        endCursor: expected[4]?.cursor,
      },
      totalCount: 5,
    });
    expect((await pageOf(null, null)).edges).toEqual(expected);
  });

  it("refuses a bad page size or a cursor it did not hand out", async () => {
    const codes = async (first: number | null, after: string | null) => {
      const result = await run(
        ORDERS,
        { reps: [{ __typename: "User", id: A }], first, after },
        { as: { id: A } },
      );
      return result.errors?.map((e) => e.extensions?.code);
    };
    expect(await codes(0, null)).toEqual(["BAD_USER_INPUT"]);
    expect(await codes(101, null)).toEqual(["BAD_USER_INPUT"]);
    expect(await codes(10, "not-a-cursor")).toEqual(["BAD_USER_INPUT"]);
    expect(await codes(10, encodeCursor(["2026-01-01T00:00:00.000Z", "not-a-uuid"]))).toEqual([
      "BAD_USER_INPUT",
    ]);
    expect(await codes(10, encodeCursor(["yesterday", randomUUID()]))).toEqual(["BAD_USER_INPUT"]);
    // Dates JavaScript reads and PostgreSQL's timestamptz does not.
    for (const placedAt of ["-100000-01-01T00:00:00.000Z", "+275760-09-13T00:00:00.000Z"]) {
      expect(await codes(10, encodeCursor([placedAt, randomUUID()]))).toEqual(["BAD_USER_INPUT"]);
    }
  });

  it("loads the lines of 10 orders with one query", async () => {
    const base = Date.parse("2026-03-01T00:00:00.000Z");
    for (let i = 0; i < 10; i++) await insertOrder(A, new Date(base + i * 60_000), (i % 3) + 1);
    env.pg.queries.length = 0;
    const result = await data<{ _entities: { orders: { edges: { node: { lines: unknown[] } }[] } }[] }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on User { orders(first: 10) { edges { node { id lines { productName quantity } } } } }
      } }`,
      { reps: [{ __typename: "User", id: A }] },
      { as: { id: A } },
    );
    const lineCounts = result._entities[0]?.orders.edges.map((e) => e.node.lines.length);
    expect(lineCounts).toEqual([1, 3, 2, 1, 3, 2, 1, 3, 2, 1]);
    expect(env.pg.queries).toHaveLength(3);
    expect(env.pg.queries.filter((q) => q.includes('from "order_lines"'))).toHaveLength(1);
  });

  it("pages several users' orders with one query for pages and one for counts", async () => {
    const C = randomUUID();
    await insertOrder(A, new Date("2026-04-01T00:00:00.000Z"));
    await insertOrder(A, new Date("2026-04-02T00:00:00.000Z"));
    await insertOrder(B, new Date("2026-04-03T00:00:00.000Z"));
    env.pg.queries.length = 0;
    const result = await data<{
      _entities: { id: string; orders: { totalCount: number; edges: unknown[] } }[];
    }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on User { id orders(first: 1) { totalCount edges { node { id } } } }
      } }`,
      { reps: [A, B, C].map((id) => ({ __typename: "User", id })) },
      { as: { id: ADMIN, role: "ADMIN" } },
    );
    expect(result._entities.map((u) => [u.id, u.orders.totalCount, u.orders.edges.length])).toEqual([
      [A, 2, 1],
      [B, 1, 1],
      [C, 0, 0],
    ]);
    expect(env.pg.queries).toHaveLength(2);
  });
});

describe("config and app", () => {
  it("reads defaults and reports every bad value at once", () => {
    expect(loadConfig({})).toMatchObject({
      port: 4003,
      databaseUrl: "postgres://postgres@127.0.0.1:5432/orders",
      redisUrl: "redis://127.0.0.1:6379",
      eventsPrefix: "nexus",
      catalogUrl: "http://127.0.0.1:4002/graphql",
      outboxPollMs: 500,
      cartTtlDays: 30,
      idempotencyKeyRetentionHours: 48,
      inventoryUrl: "http://127.0.0.1:4004/graphql",
      guestCheckout: false,
      paymentProvider: "test",
    });
    expect(loadConfig({ GUEST_CHECKOUT: "true" }).guestCheckout).toBe(true);
    expect(loadConfig({ DATABASE_URL: "postgres://db.internal:5432/postgres" }).databaseUrl).toBe(
      "postgres://db.internal:5432/orders",
    );
    let error: unknown;
    try {
      loadConfig({
        OUTBOX_POLL_MS: "soon",
        CATALOG_URL: "ftp://catalog",
        REDIS_URL: "nope",
        CART_TTL_DAYS: "0",
        IDEMPOTENCY_KEY_RETENTION_HOURS: "12",
        INVENTORY_URL: "ftp://inventory",
        GUEST_CHECKOUT: "maybe",
        PAYMENT_PROVIDER: "stripe",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'REDIS_URL must be a URL, got "nope"',
      'OUTBOX_POLL_MS must be an integer between 10 and 60000, got "soon"',
      'CATALOG_URL must use http: or https:, got "ftp:"',
      'CART_TTL_DAYS must be an integer between 1 and 365, got "0"',
      'IDEMPOTENCY_KEY_RETENTION_HOURS must be an integer between 24 and 2160, got "12"',
      'INVENTORY_URL must use http: or https:, got "ftp:"',
      'GUEST_CHECKOUT must be true or false, got "maybe"',
      'PAYMENT_PROVIDER must be one of test, got "stripe"',
    ]);
  });

  it("startApp migrates, serves cart and checkout over HTTP, relays the event and stops cleanly", async () => {
    const url = databaseUrl(TEST_SERVER_URL, `nexus_test_orders_app_${randomUUID().slice(0, 8)}`);
    const appPrefix = testRedisPrefix("orders-app");
    const queries: string[] = [];
    const jwksUrl = env.catalogHttp.url.replace(/\/graphql$/, "/.well-known/jwks.json");
    const config = loadConfig({
      HOST: "127.0.0.1",
      ORDERS_PORT: "0",
      LOG_LEVEL: "silent",
      ORDERS_DATABASE_URL: url,
      REDIS_URL: TEST_REDIS_URL,
      EVENTS_PREFIX: appPrefix,
      CATALOG_URL: env.catalogHttp.url,
      INVENTORY_URL: env.inventoryHttp.url,
      OUTBOX_POLL_MS: "50",
      JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
      JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
      JWKS_URL: jwksUrl,
      SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
    });
    const app = await startApp(config, logger, { onQuery: (q) => queries.push(q) });
    try {
      const post = async (query: string, variables: Record<string, unknown>, requestId: string) => {
        const body = JSON.stringify({ query, variables });
        const response = await fetch(app.url, {
          method: "POST",
          headers: {
            ...testSubgraphHeaders(body),
            authorization: await env.auth.bearer(A),
            "x-request-id": requestId,
          },
          body,
        });
        return (await response.json()) as {
          data: Record<string, { userErrors: unknown[] } & Record<string, unknown>>;
        };
      };
      const added = await post(
        "mutation ($input: AddToCartInput!) { addToCart(input: $input) { cart { subtotal { amount } lines { availableQuantity } } userErrors { code } } }",
        { input: { productId: TEE, quantity: 4 } },
        "req-http-1",
      );
      expect(added.data.addToCart).toEqual({
        cart: { subtotal: { amount: 4 * 1999 }, lines: [{ availableQuantity: 100 }] },
        userErrors: [],
      });
      // Availability came from inventory's `_entities`, signed as the gateway signs.
      expect(env.inventoryRequests).toEqual([[{ __typename: "Product", id: TEE }]]);
      const placed = await post(
        "mutation ($input: CheckoutInput!) { checkout(input: $input) { order { total { amount } } userErrors { code } } }",
        { input: { idempotencyKey: "app-1", shippingAddress: ADDRESS } },
        "req-http-2",
      );
      expect(placed.data.checkout).toEqual({ order: { total: { amount: 4 * 1999 } }, userErrors: [] });
      expect(env.catalogRequests.map((r) => r.requestId)).toEqual(["req-http-1", "req-http-2"]);
      expect(queries.some((q) => q.startsWith('insert into "orders"'))).toBe(true);

      const event = await app.db
        .selectFrom("outbox")
        .select("id")
        .where("type", "=", "OrderPlaced")
        .executeTakeFirstOrThrow();
      const job = await until("the app to publish OrderPlaced", async () => {
        const hash = await env.redis.hgetall(`${appPrefix}:events.inventory:${event.id}`);
        return hash.name ? hash : undefined;
      });
      expect(job.name).toBe("OrderPlaced");
      expect((await fetch(app.url.replace(/\/graphql$/, "/health"))).status).toBe(200);
    } finally {
      await app.stop();
      await dropDatabase(url);
      await deleteRedisKeys(env.redis, [appPrefix]);
    }
  });
});
