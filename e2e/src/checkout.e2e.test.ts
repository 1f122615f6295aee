/**
 * The order saga end to end, through the gateway: cart, checkout, inventory's reservation,
 * payment, and the order's later life, under concurrency. Stock is set by an admin's `setStock`
 * to make the oversell figures exact; the ledger is checked in inventory's database.
 */
import { randomUUID } from "node:crypto";
import { createPostgresDb } from "@nexus/stores";
import { rawId, until } from "@nexus/testing";
import { graphql, graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const productFinds: unknown[] = [];
let stack: Stack;
let inventoryDb: Kysely<Record<string, never>>;
let productIds: string[] = [];

const ADDRESS = {
  name: "E2E Buyer",
  line1: "1 Test Way",
  city: "Berlin",
  postalCode: "10115",
  countryCode: "DE",
};

const as = (bearer: string) => ({ authorization: bearer });

async function addToCart(bearer: string, productId: string, quantity: number) {
  const { addToCart } = await graphqlOk<{ addToCart: { userErrors: unknown[] } }>(
    stack.endpoint,
    "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code message } } }",
    { input: { productId, quantity } },
    as(bearer),
  );
  expect(addToCart.userErrors).toEqual([]);
}

const CHECKOUT = `mutation ($input: CheckoutInput!) { checkout(input: $input) {
  order { id placedAt total { amount currencyCode } lines { product { id } productName quantity unitPrice { amount } }
    shippingAddress { name city postalCode countryCode } }
  userErrors { code message } } }`;

interface CheckoutPayload {
  order: { id: string } | null;
  userErrors: { code: string; message: string }[];
}

async function checkout(bearer: string, input: Record<string, unknown>): Promise<CheckoutPayload> {
  const { checkout } = await graphqlOk<{ checkout: CheckoutPayload }>(
    stack.endpoint,
    CHECKOUT,
    { input },
    as(bearer),
  );
  return checkout;
}

async function statusOf(bearer: string, id: string) {
  const { order } = await graphqlOk<{
    order: { status: string; statusHistory: { status: string; reason: string | null }[] };
  }>(
    stack.endpoint,
    "query ($id: ID!) { order(id: $id) { status statusHistory { status reason } } }",
    { id },
    as(bearer),
  );
  return order;
}

/** The saga of hundreds of concurrent checkouts can take a while on a loaded CI machine. */
const SETTLE = { timeoutMs: 60_000 };

async function settled(bearer: string, id: string, status: string) {
  return until(
    `order ${id} to be ${status}`,
    async () => {
      const order = await statusOf(bearer, id);
      return order.status === status ? order : undefined;
    },
    SETTLE,
  );
}

/** Sets a product's available stock as an admin would, through the gateway (and so the ledger). */
async function setAvailable(productId: string, available: number) {
  const admin = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
  const { product } = await graphqlOk<{ product: { inventory: { reserved: number } } }>(
    stack.endpoint,
    "query ($id: ID!) { product(id: $id) { inventory { reserved } } }",
    { id: productId },
    admin,
  );
  const { setStock } = await graphqlOk<{ setStock: { userErrors: unknown[] } }>(
    stack.endpoint,
    "mutation ($input: SetStockInput!) { setStock(input: $input) { userErrors { code message } } }",
    { input: { productId, onHand: product.inventory.reserved + available, reason: "e2e oversell setup" } },
    admin,
  );
  expect(setStock.userErrors).toEqual([]);
}

async function register(name: string): Promise<string> {
  const email = `${name}-${randomUUID().slice(0, 8)}@example.com`;
  const { register } = await graphqlOk<{ register: { accessToken: string } }>(
    stack.endpoint,
    "mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }",
    { input: { email, password: "e2e password", name } },
  );
  return `Bearer ${register.accessToken}`;
}

/** The saga's events about an order, oldest first; its OrderStatusChanged events are `statusEvents`. */
async function ordersOutbox(orderId: string) {
  const rows = await stack.ordersDb
    .selectFrom("outbox")
    .select(["type", "payload"])
    .where("aggregate_id", "=", rawId(orderId))
    .where("type", "!=", "OrderStatusChanged")
    .orderBy("occurred_at")
    .execute();
  return rows.map((row) => [row.type, row.payload]);
}

/**
 * The statuses the order's OrderStatusChanged events announced, in the order of the states they
 * describe (a transition's two events share a transaction, so their timestamps may tie).
 */
async function statusEvents(orderId: string) {
  const rows = await stack.ordersDb
    .selectFrom("outbox")
    .select("payload")
    .where("aggregate_id", "=", rawId(orderId))
    .where("type", "=", "OrderStatusChanged")
    .execute();
  const rank = ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "REJECTED", "CANCELLED"];
  return rows
    .map((row) => (row.payload as { status: string }).status)
    .sort((a, b) => rank.indexOf(a) - rank.indexOf(b));
}

beforeAll(async () => {
  stack = await startStack({
    mongoUrl: inject("mongoUrl"),
    // Product finds are counted: the search index's catch-up pass, on its own clock, would add to them.
    env: { OUTBOX_POLL_MS: "100", SEARCH_CATCH_UP_MS: "0" },
    onProductFind: (filter) => productFinds.push(filter),
  });
  inventoryDb = createPostgresDb(stack.databases.inventory);
  const { products } = await graphqlOk<{ products: { edges: { node: { id: string } }[] } }>(
    stack.endpoint,
    "{ products(first: 12) { edges { node { id } } } }",
  );
  productIds = products.edges.map((edge) => edge.node.id);
}, 120_000);

afterAll(async () => {
  await inventoryDb?.destroy();
  await stack?.stop();
});

describe("checkout and the order saga through the gateway", () => {
  it("never oversells: stock 50, 200 customers checking out one unit at once -> 50 CONFIRMED, 150 REJECTED", async () => {
    const productId = productIds[0] ?? "";
    await setAvailable(productId, 50);
    const customers = await Promise.all(Array.from({ length: 200 }, () => stack.auth.bearer(randomUUID())));
    for (let i = 0; i < customers.length; i += 50) {
      await Promise.all(customers.slice(i, i + 50).map((bearer) => addToCart(bearer, productId, 1)));
    }

    // Watch the level while the saga runs: available must never drop below zero.
    let lowest = Number.POSITIVE_INFINITY;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const { rows } = await sql<{ available: number }>`
          SELECT on_hand - reserved AS available FROM stock_levels WHERE product_id = ${rawId(productId)}`.execute(
          inventoryDb,
        );
        lowest = Math.min(lowest, rows[0]?.available ?? lowest);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    const payloads = await Promise.all(
      customers.map((bearer) => checkout(bearer, { idempotencyKey: randomUUID(), shippingAddress: ADDRESS })),
    );
    expect(payloads.filter((p) => p.userErrors.length > 0)).toEqual([]);
    const ids = payloads.map((p) => rawId(p.order?.id));

    const counts = await until(
      "every order to settle",
      async () => {
        const rows = await stack.ordersDb
          .selectFrom("orders")
          .select(["status", sql<number>`count(*)::int`.as("n")])
          .where("id", "in", ids)
          .groupBy("status")
          .execute();
        const byStatus = Object.fromEntries(rows.map((row) => [row.status, row.n]));
        return byStatus.PENDING ? undefined : byStatus;
      },
      SETTLE,
    );
    watching = false;
    await watcher;

    expect(counts).toEqual({ CONFIRMED: 50, REJECTED: 150 });
    expect(lowest).toBeGreaterThanOrEqual(0);
    const { product } = await graphqlOk<{ product: { inventory: { available: number; inStock: boolean } } }>(
      stack.endpoint,
      "query ($id: ID!) { product(id: $id) { inventory { available inStock } } }",
      { id: productId },
    );
    expect(product.inventory).toEqual({ available: 0, inStock: false });
    // The ledger sums to the levels: every unit on hand and every reservation has its movements.
    const { rows: ledger } = await sql<{
      on_hand: number;
      reserved: number;
      ledger_on_hand: number;
      ledger_reserved: number;
    }>`
      SELECT l.on_hand, l.reserved,
             (SELECT sum(on_hand_delta)::int FROM stock_movements m WHERE m.product_id = l.product_id) AS ledger_on_hand,
             (SELECT sum(reserved_delta)::int FROM stock_movements m WHERE m.product_id = l.product_id) AS ledger_reserved
      FROM stock_levels l WHERE l.product_id = ${rawId(productId)}`.execute(inventoryDb);
    expect(ledger[0]?.ledger_on_hand).toBe(ledger[0]?.on_hand);
    expect(ledger[0]?.ledger_reserved).toBe(ledger[0]?.reserved);

    const rejected = await stack.ordersDb
      .selectFrom("order_status_changes")
      .select("reason")
      .where("order_id", "in", ids)
      .where("status", "=", "REJECTED")
      .execute();
    expect(rejected).toHaveLength(150);
    for (const { reason } of rejected)
      expect(reason).toMatch(
        new RegExp(`^out of stock: .*\\(${rawId(productId)}\\): 1 requested, 0 available$`),
      );
    const confirmed = await stack.ordersDb
      .selectFrom("payments")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("order_id", "in", ids)
      .where("status", "=", "CAPTURED")
      .executeTakeFirstOrThrow();
    expect(confirmed.n).toBe(50);
  }, 180_000);

  it("places one order for 100 concurrent checkouts with one key, every response identical", async () => {
    const bearer = await stack.auth.bearer(randomUUID());
    await addToCart(bearer, productIds[1] ?? "", 2);
    await addToCart(bearer, productIds[2] ?? "", 1);
    const input = { idempotencyKey: randomUUID(), shippingAddress: ADDRESS };
    const payloads = await Promise.all(Array.from({ length: 100 }, () => checkout(bearer, input)));
    const distinct = new Set(payloads.map((p) => JSON.stringify(p)));
    expect(distinct.size).toBe(1);
    const orderId = payloads[0]?.order?.id ?? "";
    expect(payloads[0]?.userErrors).toEqual([]);
    const orders = await stack.ordersDb
      .selectFrom("orders")
      .innerJoin("idempotency_keys", "idempotency_keys.order_id", "orders.id")
      .select("orders.id")
      .where("idempotency_keys.key", "=", input.idempotencyKey)
      .execute();
    expect(orders).toEqual([{ id: rawId(orderId) }]);
    const placedEvents = (await ordersOutbox(orderId)).filter(([type]) => type === "OrderPlaced");
    expect(placedEvents).toEqual([["OrderPlaced", expect.objectContaining({ orderId: rawId(orderId) })]]);
    await settled(bearer, orderId, "CONFIRMED");

    // The same key for another purchase is refused.
    await addToCart(bearer, productIds[3] ?? "", 1);
    expect((await checkout(bearer, input)).userErrors.map((e) => e.code)).toEqual(["IDEMPOTENCY_KEY_REUSED"]);
  }, 120_000);

  it("declines the test card end to end: REJECTED with the reason, and inventory told to release", async () => {
    const bearer = await stack.auth.bearer(randomUUID());
    await addToCart(bearer, productIds[4] ?? "", 1);
    const { order } = await checkout(bearer, {
      idempotencyKey: randomUUID(),
      shippingAddress: ADDRESS,
      paymentToken: "tok_test_decline",
    });
    const rejected = await settled(bearer, order?.id ?? "", "REJECTED");
    expect(rejected.statusHistory).toEqual([
      { status: "PENDING", reason: null },
      { status: "REJECTED", reason: "payment declined: card_declined" },
    ]);
    expect((await ordersOutbox(order?.id ?? "")).map(([type]) => type)).toEqual([
      "OrderPlaced",
      "OrderRejected",
    ]);
    expect(await statusEvents(order?.id ?? "")).toEqual(["PENDING", "REJECTED"]);
  }, 60_000);

  it("pages `me { orders }` with every line's product from one catalog query, and hides orders from other customers", async () => {
    const alice = await register("alice");
    const mallory = await register("mallory");
    const placed: string[] = [];
    for (let n = 0; n < 3; n++) {
      for (const productId of productIds.slice(5 + n, 8 + n)) await addToCart(alice, productId, 1);
      const { order } = await checkout(alice, { idempotencyKey: `history-${n}`, shippingAddress: ADDRESS });
      placed.push(order?.id ?? "");
    }
    const PAGE = `query ($after: String) { me { orders(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id lines { productName product { id name price { amount } } } } } } } }`;
    interface Page {
      me: {
        orders: {
          totalCount: number;
          pageInfo: { hasNextPage: boolean; endCursor: string };
          edges: {
            node: { id: string; lines: { productName: string; product: { id: string; name: string } }[] };
          }[];
        };
      };
    }
    productFinds.length = 0;
    const first = await graphqlOk<Page>(stack.endpoint, PAGE, {}, as(alice));
    expect(productFinds).toHaveLength(1);
    const second = await graphqlOk<Page>(
      stack.endpoint,
      PAGE,
      { after: first.me.orders.pageInfo.endCursor },
      as(alice),
    );
    expect(productFinds).toHaveLength(2);
    expect(first.me.orders.totalCount).toBe(3);
    expect(first.me.orders.pageInfo.hasNextPage).toBe(true);
    expect(second.me.orders.pageInfo.hasNextPage).toBe(false);
    const paged = [...first.me.orders.edges, ...second.me.orders.edges].map((e) => e.node);
    expect(paged.map((o) => o.id)).toEqual([...placed].reverse());
    for (const order of paged) {
      expect(order.lines).toHaveLength(3);
      for (const line of order.lines) expect(line.product.name).toBe(line.productName);
    }
    // Backward through the gateway: the oldest two, then the one before them, in list order.
    const BACK = `query ($before: String) { me { orders(last: 2, before: $before) {
      pageInfo { hasNextPage hasPreviousPage startCursor } edges { node { id } } } } }`;
    interface BackPage {
      me: {
        orders: {
          pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string };
          edges: { node: { id: string } }[];
        };
      };
    }
    const oldest = (await graphqlOk<BackPage>(stack.endpoint, BACK, {}, as(alice))).me.orders;
    expect(oldest.edges.map((e) => e.node.id)).toEqual([placed[1], placed[0]]);
    expect(oldest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const newest = (
      await graphqlOk<BackPage>(stack.endpoint, BACK, { before: oldest.pageInfo.startCursor }, as(alice))
    ).me.orders;
    expect(newest.edges.map((e) => e.node.id)).toEqual([placed[2]]);
    expect(newest.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

    // Mallory knows Alice's order id: she can neither read nor cancel it.
    const target = placed[0] ?? "";
    const read = await graphqlOk<{ order: unknown }>(
      stack.endpoint,
      "query ($id: ID!) { order(id: $id) { id } }",
      { id: target },
      as(mallory),
    );
    expect(read.order).toBeNull();
    const cancel = await graphql(
      stack.endpoint,
      "mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { order { id } userErrors { code } } }",
      { input: { orderId: target } },
      as(mallory),
    );
    expect(cancel.body.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    expect((await statusOf(alice, target)).status).not.toBe("CANCELLED");
  }, 120_000);

  it("cancels a confirmed order with a refund, and ships and delivers another for staff", async () => {
    const bearer = await stack.auth.bearer(randomUUID());
    const staff = await stack.auth.bearer(randomUUID(), "ADMIN");
    const place = async (productId: string) => {
      await addToCart(bearer, productId, 1);
      const { order } = await checkout(bearer, { idempotencyKey: randomUUID(), shippingAddress: ADDRESS });
      await settled(bearer, order?.id ?? "", "CONFIRMED");
      return order?.id ?? "";
    };
    const CHANGE = (name: string, input: string) => `mutation ($input: ${input}!) { ${name}(input: $input) {
      order { status payment { status } } userErrors { code } } }`;
    const change = async (name: string, input: string, variables: Record<string, unknown>, who: string) => {
      const result = await graphqlOk<
        Record<
          string,
          { order: { status: string; payment: { status: string } | null }; userErrors: { code: string }[] }
        >
      >(stack.endpoint, CHANGE(name, input), { input: variables }, as(who));
      return result[name];
    };

    const cancelled = await place(productIds[9] ?? "");
    expect(await change("cancelOrder", "CancelOrderInput", { orderId: cancelled }, bearer)).toEqual({
      order: { status: "CANCELLED", payment: { status: "REFUNDED" } },
      userErrors: [],
    });
    expect((await ordersOutbox(cancelled)).map(([type]) => type)).toEqual([
      "OrderPlaced",
      "OrderConfirmed",
      "OrderCancelled",
    ]);
    expect(await statusEvents(cancelled)).toEqual(["PENDING", "CONFIRMED", "CANCELLED"]);

    const shipped = await place(productIds[10] ?? "");
    const refused = await graphql(
      stack.endpoint,
      CHANGE("shipOrder", "ShipOrderInput"),
      { input: { orderId: shipped } },
      as(bearer),
    );
    expect(refused.body.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    expect(
      (await change("shipOrder", "ShipOrderInput", { orderId: shipped, trackingNumber: "TRACK-1" }, staff))
        ?.order.status,
    ).toBe("SHIPPED");
    expect(
      (await change("cancelOrder", "CancelOrderInput", { orderId: shipped }, bearer))?.userErrors,
    ).toEqual([{ code: "ILLEGAL_STATUS_TRANSITION" }]);
    expect(
      (await change("deliverOrder", "DeliverOrderInput", { orderId: shipped }, staff))?.order.status,
    ).toBe("DELIVERED");
    expect((await ordersOutbox(shipped)).map(([type]) => type)).toEqual([
      "OrderPlaced",
      "OrderConfirmed",
      "OrderShipped",
      "OrderDelivered",
    ]);
    expect(await statusEvents(shipped)).toEqual(["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED"]);
  }, 120_000);
});
