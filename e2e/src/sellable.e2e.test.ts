/**
 * Only ACTIVE products are for sale, end to end through the gateway: an admin withdraws products
 * (DRAFT, ARCHIVED) with the catalog's own mutations, and a customer can neither add them, nor
 * check out a cart that holds one, while order history keeps what was bought. Then what insights
 * counts as sold: confirmed orders only, not declined or cancelled ones.
 */
import { randomUUID } from "node:crypto";
import { createPostgresDb } from "@nexus/stores";
import { rawId, until } from "@nexus/testing";
import { graphql, graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let stack: Stack;
let admin: { authorization: string };
/** ACTIVE demo products, each used by one step only. */
let productIds: string[] = [];

const ADDRESS = {
  name: "E2E Buyer",
  line1: "1 Test Way",
  city: "Berlin",
  postalCode: "10115",
  countryCode: "DE",
};

const product = (n: number): string => {
  const id = productIds[n];
  if (!id) throw new Error(`no demo product ${n}`);
  return id;
};

interface Customer {
  id: string;
  headers: { authorization: string };
}

async function customer(): Promise<Customer> {
  const id = randomUUID();
  return { id, headers: { authorization: await stack.auth.bearer(id) } };
}

interface UserError {
  field: string[] | null;
  code: string;
  message: string;
}

async function addToCart(who: Customer, productId: string, quantity = 1): Promise<UserError[]> {
  const { addToCart } = await graphqlOk<{ addToCart: { userErrors: UserError[] } }>(
    stack.endpoint,
    "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { field code message } } }",
    { input: { productId, quantity } },
    who.headers,
  );
  return addToCart.userErrors;
}

async function checkout(who: Customer, paymentToken?: string) {
  const { checkout } = await graphqlOk<{
    checkout: { order: { id: string; status: string } | null; userErrors: UserError[] };
  }>(
    stack.endpoint,
    `mutation ($input: CheckoutInput!) { checkout(input: $input) {
      order { id status } userErrors { field code message } } }`,
    { input: { idempotencyKey: randomUUID(), shippingAddress: ADDRESS, paymentToken } },
    who.headers,
  );
  return checkout;
}

async function settled(who: Customer, orderId: string, status: string) {
  return until(
    `order ${orderId} to be ${status}`,
    async () => {
      const { order } = await graphqlOk<{ order: { status: string } }>(
        stack.endpoint,
        "query ($id: ID!) { order(id: $id) { status } }",
        { id: orderId },
        who.headers,
      );
      return order.status === status ? order : undefined;
    },
    { timeoutMs: 30_000 },
  );
}

/** Takes a product off sale as an admin would: back to DRAFT with updateProduct, or archiveProduct. */
async function withdraw(productId: string, status: "DRAFT" | "ARCHIVED") {
  const mutation =
    status === "DRAFT"
      ? `mutation ($id: ID!) { change: updateProduct(input: { id: $id, status: DRAFT }) {
          product { status } userErrors { code } } }`
      : `mutation ($id: ID!) { change: archiveProduct(input: { id: $id }) { product { status } userErrors { code } } }`;
  const { change } = await graphqlOk<{ change: { product: { status: string }; userErrors: unknown[] } }>(
    stack.endpoint,
    mutation,
    { id: productId },
    admin,
  );
  expect(change).toEqual({ product: { status }, userErrors: [] });
}

/** What the orders database holds for a customer: orders, and payments for them. */
async function ordersOf(who: Customer) {
  const orders = await stack.ordersDb
    .selectFrom("orders")
    .select("id")
    .where("customer_id", "=", who.id)
    .execute();
  const payments = await stack.ordersDb
    .selectFrom("payments")
    .select(sql<number>`count(*)::int`.as("n"))
    .where(
      "order_id",
      "in",
      stack.ordersDb.selectFrom("orders").select("id").where("customer_id", "=", who.id),
    )
    .executeTakeFirstOrThrow();
  return { orders: orders.length, payments: payments.n };
}

beforeAll(async () => {
  stack = await startStack({ mongoUrl: inject("mongoUrl"), env: { OUTBOX_POLL_MS: "100" } });
  admin = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
  const { products } = await graphqlOk<{ products: { edges: { node: { id: string } }[] } }>(
    stack.endpoint,
    "{ products(first: 12) { edges { node { id } } } }",
  );
  productIds = products.edges.map((edge) => edge.node.id);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("only ACTIVE products are for sale, through the gateway", () => {
  it("refuses to add a product an admin set back to DRAFT or archived, like an unknown one", async () => {
    const buyer = await customer();
    await withdraw(product(0), "DRAFT");
    await withdraw(product(1), "ARCHIVED");
    const unknown = "65a0000000000000000000ff";
    for (const productId of [product(0), product(1), unknown]) {
      expect(await addToCart(buyer, productId)).toEqual([
        {
          field: ["input", "productId"],
          code: "PRODUCT_NOT_FOUND",
          message: "There is no such product for sale.",
        },
      ]);
    }
    // Hidden from the customer by id as well, still there for the admin.
    const PRODUCT = "query ($id: ID!) { product(id: $id) { id status } }";
    for (const [n, status] of [
      [0, "DRAFT"],
      [1, "ARCHIVED"],
    ] as const) {
      const id = product(n);
      expect(await graphqlOk(stack.endpoint, PRODUCT, { id }, buyer.headers)).toEqual({ product: null });
      expect(await graphqlOk(stack.endpoint, PRODUCT, { id }, admin)).toEqual({ product: { id, status } });
    }
    const { cart } = await graphqlOk<{ cart: { lines: unknown[] } }>(
      stack.endpoint,
      "{ cart { lines { productId } } }",
      {},
      buyer.headers,
    );
    expect(cart.lines).toEqual([]);
  });

  it("shows a product archived while in the cart as unavailable, and refuses to check it out", async () => {
    const buyer = await customer();
    expect(await addToCart(buyer, product(2), 2)).toEqual([]);
    expect(await addToCart(buyer, product(3), 1)).toEqual([]);
    await withdraw(product(3), "ARCHIVED");

    const CART = `{ cart { subtotal { amount }
      lines { productId available quantity product { id name } unitPrice { amount } lineTotal { amount } } } }`;
    const result = await graphql<{
      cart: {
        subtotal: { amount: number };
        lines: {
          productId: string;
          product: { name: string } | null;
          unitPrice: { amount: number } | null;
        }[];
      };
    }>(stack.endpoint, CART, {}, buyer.headers);
    expect(result.body.errors).toBeUndefined();
    const cart = result.body.data?.cart;
    const kept = cart?.lines.find((line) => line.productId === product(2));
    expect(kept).toMatchObject({ available: true, quantity: 2, product: { id: product(2) } });
    expect(cart?.lines.find((line) => line.productId === product(3))).toEqual({
      productId: product(3),
      available: false,
      quantity: 1,
      product: null,
      unitPrice: null,
      lineTotal: null,
    });
    expect(cart?.subtotal).toEqual({ amount: 2 * (kept?.unitPrice?.amount ?? Number.NaN) });

    expect(await checkout(buyer)).toEqual({
      order: null,
      userErrors: [
        {
          field: ["cart", "lines", product(3)],
          code: "PRODUCT_UNAVAILABLE",
          message: `Product ${product(3)} is no longer for sale; remove it from the cart.`,
        },
      ],
    });
    // No order, so nothing for inventory to reserve and nothing to charge.
    expect(await ordersOf(buyer)).toEqual({ orders: 0, payments: 0 });

    // Without the line, the rest can be bought.
    await graphqlOk(
      stack.endpoint,
      "mutation ($input: RemoveCartLineInput!) { removeCartLine(input: $input) { userErrors { code } } }",
      { input: { productId: product(3) } },
      buyer.headers,
    );
    const placed = await checkout(buyer);
    expect(placed.userErrors).toEqual([]);
    await settled(buyer, placed.order?.id ?? "", "CONFIRMED");
    expect(await ordersOf(buyer)).toEqual({ orders: 1, payments: 1 });
  }, 60_000);

  it("keeps the snapshot of a line whose product was archived after the order", async () => {
    const buyer = await customer();
    const { product: before } = await graphqlOk<{ product: { name: string; price: { amount: number } } }>(
      stack.endpoint,
      "query ($id: ID!) { product(id: $id) { name price { amount } } }",
      { id: product(4) },
    );
    expect(await addToCart(buyer, product(4), 3)).toEqual([]);
    const { order } = await checkout(buyer);
    const orderId = order?.id ?? "";
    await settled(buyer, orderId, "CONFIRMED");
    await withdraw(product(4), "ARCHIVED");

    const ORDER = `query ($id: ID!) { order(id: $id) { id status total { amount }
      lines { productId productName quantity unitPrice { amount } product { id name } } } }`;
    const snapshot = {
      productId: product(4),
      productName: before.name,
      quantity: 3,
      unitPrice: { amount: before.price.amount },
    };
    const history = await graphql<{ order: unknown }>(stack.endpoint, ORDER, { id: orderId }, buyer.headers);
    expect(history.body.data).toEqual({
      order: {
        id: orderId,
        status: "CONFIRMED",
        total: { amount: 3 * before.price.amount },
        lines: [{ ...snapshot, product: null }],
      },
    });
    // No error: the gateway only notes, outside `errors`, that catalog did not resolve it.
    expect(history.body.errors).toBeUndefined();
    const notes = (history.body as { extensions?: { valueCompletion?: { path: unknown[] }[] } }).extensions;
    expect(notes?.valueCompletion?.map((note) => note.path)).toEqual([
      ["order", "lines", 0, "product", "name"],
    ]);
    // Staff still see the archived product on the order.
    const staff = await graphqlOk<{ order: { lines: unknown[] } }>(
      stack.endpoint,
      ORDER,
      { id: orderId },
      admin,
    );
    expect(staff.order.lines).toEqual([{ ...snapshot, product: { id: product(4), name: before.name } }]);
  }, 60_000);
});

describe("what insights counts as sold, through the gateway", () => {
  it("counts a confirmed order, and neither a declined nor a cancelled one", async () => {
    const buyer = await customer();
    const place = async (productId: string, quantity: number, paymentToken?: string) => {
      expect(await addToCart(buyer, productId, quantity)).toEqual([]);
      const { order, userErrors } = await checkout(buyer, paymentToken);
      expect(userErrors).toEqual([]);
      return order?.id ?? "";
    };
    const confirmed = await place(product(5), 2);
    const declined = await place(product(6), 3, "tok_test_decline");
    const cancelled = await place(product(7), 4);
    await settled(buyer, confirmed, "CONFIRMED");
    await settled(buyer, declined, "REJECTED");
    await settled(buyer, cancelled, "CONFIRMED");
    await graphqlOk(
      stack.endpoint,
      "mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { userErrors { code } } }",
      { input: { orderId: cancelled } },
      buyer.headers,
    );

    // Insights hears how each order ended through its queue, a little later; it keeps raw ids.
    const [confirmedId, declinedId, cancelledId] = [rawId(confirmed), rawId(declined), rawId(cancelled)];
    const insights = createPostgresDb<{
      order_outcomes: { order_id: string; confirmed_at: Date | null; reversed_at: Date | null };
    }>(stack.databases.insights);
    try {
      await until("insights to hear how the three orders ended", async () => {
        const outcomes = await insights
          .selectFrom("order_outcomes")
          .select([
            "order_id",
            sql<boolean>`confirmed_at IS NOT NULL`.as("confirmed"),
            sql<boolean>`reversed_at IS NOT NULL`.as("reversed"),
          ])
          .where("order_id", "in", [confirmedId, declinedId, cancelledId])
          .orderBy("order_id")
          .execute();
        const expected = [
          { order_id: confirmedId, confirmed: true, reversed: false },
          { order_id: declinedId, confirmed: false, reversed: true },
          { order_id: cancelledId, confirmed: true, reversed: true },
        ].sort((a, b) => a.order_id.localeCompare(b.order_id));
        return JSON.stringify(outcomes) === JSON.stringify(expected) ? outcomes : undefined;
      });
    } finally {
      await insights.destroy();
    }
    const { topProducts } = await graphqlOk<{
      topProducts: { product: { id: string }; unitsSold: number; orderCount: number }[];
    }>(stack.endpoint, "{ topProducts(first: 100) { product { id } unitsSold orderCount } }", {}, admin);
    expect(
      topProducts.filter((row) => [product(5), product(6), product(7)].includes(row.product.id)),
    ).toEqual([{ product: { id: product(5) }, unitsSold: 2, orderCount: 1 }]);
  }, 60_000);
});
