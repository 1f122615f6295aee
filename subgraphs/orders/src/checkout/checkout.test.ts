import { randomUUID } from "node:crypto";
import { globalId } from "@nexus/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import {
  ADDRESS,
  CLOTHING,
  createTestOperations,
  ELECTRONICS,
  EURO_MUG,
  LAPTOP,
  money,
  SHOES,
  setStatus,
  TEE,
  UNKNOWN,
  useTestEnv,
  YACHT,
} from "../test-env.ts";
import { deleteIdempotencyKeysOlderThan } from "./checkout.repository.ts";

const env = useTestEnv("orders_checkout");
const { A, B } = env;
const { run, data, outbox, rowCounts } = createTestOperations(env);

const ORDER = `id status placedAt customer { id } total { amount currencyCode }
  lines { productId product { id } productName quantity unitPrice { amount currencyCode } lineTotal { amount currencyCode } }
  shippingAddress { name line1 line2 city region postalCode countryCode }
  statusHistory { status reason } payment { status }`;
const CHECKOUT = `mutation ($input: CheckoutInput!) { checkout(input: $input) {
  order { ${ORDER} } userErrors { field code message } } }`;

interface CheckoutPayload {
  order: { id: string; status: string; placedAt: string; lines: unknown[] } & Record<string, unknown>;
  userErrors: { field: string[] | null; code: string; message: string }[];
}

const as = (id: string) => ({ as: { id } });
async function checkout(
  input: Record<string, unknown>,
  who = A,
  requestId?: string,
): Promise<CheckoutPayload> {
  const result = await data<{ checkout: CheckoutPayload }>(
    CHECKOUT,
    { input },
    requestId ? { ...as(who), requestId } : as(who),
  );
  return result.checkout;
}
const fill = async (lines: [string, number][], who = A) => {
  for (const [productId, quantity] of lines)
    expect(await env.carts.add(who, productId, quantity)).toEqual({ ok: true });
};

describe("checkout", () => {
  it("prices the cart in one catalog request, snapshots it in one transaction and empties the cart", async () => {
    await fill([
      [TEE, 3],
      [LAPTOP, 1],
    ]);
    const payload = await checkout({ idempotencyKey: "k-1", shippingAddress: ADDRESS }, A, "req-checkout-1");
    expect(payload.userErrors).toEqual([]);
    expect(payload.order).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: "PENDING",
      placedAt: expect.any(String),
      customer: { id: A },
      total: money(3 * 1999 + 129_900),
      lines: [
        {
          productId: TEE,
          product: { id: TEE },
          productName: "Classic Tee",
          quantity: 3,
          unitPrice: money(1999),
          lineTotal: money(5997),
        },
        {
          productId: LAPTOP,
          product: { id: LAPTOP },
          productName: "Aero Laptop",
          quantity: 1,
          unitPrice: money(129_900),
          lineTotal: money(129_900),
        },
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
      statusHistory: [{ status: "PENDING", reason: null }],
      payment: null,
    });
    expect(env.catalogRequests.map((r) => [r.requestId, r.representations])).toEqual([
      [
        "req-checkout-1",
        [
          { __typename: "Product", id: TEE },
          { __typename: "Product", id: LAPTOP },
        ],
      ],
    ]);
    expect(
      env.pg.queries.map((q) => /^insert into "\w+"|^begin$|^commit$/.exec(q)?.[0]).filter(Boolean),
    ).toEqual([
      "begin",
      'insert into "idempotency_keys"',
      'insert into "orders"',
      'insert into "order_lines"',
      'insert into "order_status_changes"',
      // OrderPlaced, then OrderStatusChanged (PENDING).
      'insert into "outbox"',
      'insert into "outbox"',
      "commit",
      // After the order: the emptied cart's CartUpdated, in a transaction of its own.
      "begin",
      'insert into "outbox"',
      "commit",
    ]);
    expect(await outbox()).toEqual([
      {
        type: "OrderPlaced",
        aggregateId: payload.order.id,
        payload: {
          orderId: payload.order.id,
          customerId: A,
          currencyCode: "USD",
          countryCode: "GB",
          lines: [
            {
              productId: TEE,
              quantity: 3,
              unitPrice: 1999,
              productName: "Classic Tee",
              categoryId: CLOTHING,
              discount: 0,
            },
            {
              productId: LAPTOP,
              quantity: 1,
              unitPrice: 129_900,
              productName: "Aero Laptop",
              categoryId: ELECTRONICS,
              discount: 0,
            },
          ],
        },
      },
      // Its status, with the order's snapshot (read in full in status-change.test.ts).
      {
        type: "OrderStatusChanged",
        aggregateId: payload.order.id,
        payload: expect.objectContaining({ status: "PENDING", previousStatus: null, customerId: A }),
      },
      // The cart, emptied by the checkout.
      { type: "CartUpdated", aggregateId: A, payload: { customerId: A, currencyCode: null, lines: [] } },
    ]);
    expect((await env.carts.get(A)).lines).toEqual([]);

    // The snapshot outlives catalog changes, archiving included.
    env.catalogProducts.set(TEE, {
      id: TEE,
      name: "Classic Tee 2",
      status: "ACTIVE",
      price: money(1),
      category: { id: CLOTHING },
    });
    setStatus(env, LAPTOP, "ARCHIVED");
    const later = await data<{ order: unknown }>(
      `query ($id: ID!) { order(id: $id) { ${ORDER} } }`,
      { id: payload.order.id },
      as(A),
    );
    expect(later.order).toEqual(payload.order);
  });

  it("answers every retry of a key with the same order, and refuses the key for a different purchase", async () => {
    await fill([[TEE, 2]]);
    const input = { idempotencyKey: "retry-me", shippingAddress: ADDRESS };
    const first = await checkout(input);
    env.catalogRequests.length = 0;
    const again = await checkout({
      ...input,
      shippingAddress: { ...ADDRESS, countryCode: "GB", postalCode: "SW1Y 4JH" },
    });
    expect(again).toEqual(first);
    expect(env.catalogRequests).toEqual([]);

    const reused = await checkout({
      ...input,
      shippingAddress: { ...ADDRESS, city: "Paris", countryCode: "FR" },
    });
    expect(reused.userErrors).toEqual([
      {
        field: ["input", "idempotencyKey"],
        code: "IDEMPOTENCY_KEY_REUSED",
        message:
          "This idempotency key was already used for a checkout with a different cart, address or payment token.",
      },
    ]);
    expect(
      (await checkout({ ...input, paymentToken: "tok_test_decline" })).userErrors.map((e) => e.code),
    ).toEqual(["IDEMPOTENCY_KEY_REUSED"]);
    await fill([[SHOES, 1]]);
    expect((await checkout(input)).userErrors.map((e) => e.code)).toEqual(["IDEMPOTENCY_KEY_REUSED"]);
    // Keys belong to a customer: another customer's identical key is a new purchase.
    await fill([[TEE, 1]], B);
    const theirs = await checkout(input, B);
    expect(theirs.order.id).not.toBe(first.order.id);
    // Each order's OrderPlaced, OrderStatusChanged and its emptied cart's CartUpdated; replays write nothing.
    expect(await rowCounts()).toMatchObject({ orders: 2, keys: 2, outbox: 6 });
  });

  it("places exactly one order for 25 concurrent checkouts with one key, all answered alike", async () => {
    await fill([
      [TEE, 1],
      [SHOES, 2],
    ]);
    const input = { idempotencyKey: randomUUID(), shippingAddress: ADDRESS };
    const payloads = await Promise.all(Array.from({ length: 25 }, () => checkout(input)));
    expect(new Set(payloads.map((p) => JSON.stringify(p)))).toHaveProperty("size", 1);
    expect(payloads[0]?.userErrors).toEqual([]);
    expect(await rowCounts()).toEqual({ orders: 1, lines: 2, outbox: 3, keys: 1 });
  });

  it("reports every input problem at once and writes nothing", async () => {
    await fill([[TEE, 1]]);
    const payload = await checkout({
      idempotencyKey: "has spaces",
      shippingAddress: { ...ADDRESS, name: " ", countryCode: "XX" },
      paymentToken: "",
    });
    expect(payload.userErrors.map((e) => [e.code, e.field?.join(".")])).toEqual([
      ["INVALID_IDEMPOTENCY_KEY", "input.idempotencyKey"],
      ["INVALID_ADDRESS", "input.shippingAddress.name"],
      ["INVALID_COUNTRY", "input.shippingAddress.countryCode"],
      ["INVALID_PAYMENT_TOKEN", "input.paymentToken"],
    ]);
    expect(
      (await checkout({ idempotencyKey: "x".repeat(201), shippingAddress: ADDRESS })).userErrors.map(
        (e) => e.code,
      ),
    ).toEqual(["INVALID_IDEMPOTENCY_KEY"]);
    await env.carts.clear(A);
    expect(
      (await checkout({ idempotencyKey: "empty", shippingAddress: ADDRESS })).userErrors.map((e) => e.code),
    ).toEqual(["EMPTY_CART"]);
    expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0, keys: 0 });
    expect(
      (await run(CHECKOUT, { input: { idempotencyKey: "k", shippingAddress: ADDRESS } })).errors?.map(
        (e) => e.extensions?.code,
      ),
    ).toEqual(["UNAUTHENTICATED"]);
  });

  it("refuses a cart with products no longer sold, mixed currencies or an oversized total, keeping the cart", async () => {
    await fill([
      [TEE, 1],
      [UNKNOWN, 1],
      [EURO_MUG, 1],
    ]);
    const payload = await checkout({ idempotencyKey: "stale", shippingAddress: ADDRESS });
    // Lines added in the same millisecond are in product order, so compare without order.
    expect(payload.userErrors.map((e) => [e.code, e.field]).sort()).toEqual([
      ["CURRENCY_MISMATCH", ["cart", "lines", EURO_MUG]],
      ["PRODUCT_UNAVAILABLE", ["cart", "lines", UNKNOWN]],
    ]);
    expect((await env.carts.get(A)).lines).toHaveLength(3);
    await env.carts.clear(A);
    await fill([[YACHT, 2]]);
    expect(
      (await checkout({ idempotencyKey: "yacht", shippingAddress: ADDRESS })).userErrors.map((e) => e.code),
    ).toEqual(["TOTAL_TOO_LARGE"]);
    expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0, keys: 0 });
  });

  it.each(["ARCHIVED", "DRAFT"] as const)(
    "refuses a cart holding a product gone %s with PRODUCT_UNAVAILABLE: no order, no reservation, no charge",
    async (status) => {
      await fill([
        [TEE, 2],
        [SHOES, 1],
      ]);
      setStatus(env, SHOES, status);
      const payload = await checkout({ idempotencyKey: `gone-${status}`, shippingAddress: ADDRESS });
      expect(payload).toEqual({
        order: null,
        userErrors: [
          {
            field: ["cart", "lines", SHOES],
            code: "PRODUCT_UNAVAILABLE",
            message: `Product ${globalId("Product", SHOES)} is no longer for sale; remove it from the cart.`,
          },
        ],
      });
      // No order, no OrderPlaced for inventory to reserve, no capture; the cart is as it was.
      expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0, keys: 0 });
      expect(env.faults.captureCalls).toBe(0);
      expect((await env.carts.get(A)).lines.map((l) => [l.productId, l.quantity]).sort()).toEqual(
        [
          [TEE, 2],
          [SHOES, 1],
        ].sort(),
      );

      // Without the line, the same key buys the rest.
      await env.carts.remove(A, SHOES);
      const placed = await checkout({ idempotencyKey: `gone-${status}`, shippingAddress: ADDRESS });
      expect(placed.userErrors).toEqual([]);
      expect(placed.order.lines).toEqual([expect.objectContaining({ productId: TEE, quantity: 2 })]);
    },
  );

  it("rolls back order and key together when the outbox insert fails, so the key still works", async () => {
    await fill([[TEE, 1]]);
    const input = { idempotencyKey: "atomic", shippingAddress: ADDRESS };
    await sql`ALTER TABLE outbox ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`.execute(env.pg.db);
    try {
      const result = await run(CHECKOUT, { input }, as(A));
      expect(result.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
      expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0, keys: 0 });
    } finally {
      await sql`ALTER TABLE outbox DROP CONSTRAINT refuse_all`.execute(env.pg.db);
    }
    expect((await env.carts.get(A)).lines).toHaveLength(1);
    expect((await checkout(input)).userErrors).toEqual([]);
  });

  it("keeps what was added to the cart while a checkout ran", async () => {
    await fill([[TEE, 3]]);
    await env.carts.subtract(A, [
      { productId: TEE, quantity: 2 },
      { productId: SHOES, quantity: 1 },
    ]);
    expect((await env.carts.get(A)).lines.map((l) => [l.productId, l.quantity])).toEqual([[TEE, 1]]);
  });

  it("answers with the order, cart unannounced, when the cart cannot be emptied after it", async () => {
    await fill([[TEE, 1]]);
    const carts = {
      ...env.carts,
      subtract: async () => {
        throw new Error("Redis connection lost");
      },
    };
    const result = await run(
      CHECKOUT,
      { input: { idempotencyKey: "cart-down", shippingAddress: ADDRESS } },
      { ...as(A), deps: { ...env.deps, carts } },
    );
    expect(result.errors).toBeUndefined();
    expect((await outbox()).map((event) => event.type)).toEqual(["OrderPlaced", "OrderStatusChanged"]);
  });

  it("announces the cart left after checkout: lines sold keep the price just paid, others are unpriced", async () => {
    await fill([[TEE, 3]]);
    // Another request adds to the cart while this checkout is between its order and the cart.
    const carts = {
      ...env.carts,
      async subtract(customerId: string, lines: readonly { productId: string; quantity: number }[]) {
        await env.carts.add(customerId, TEE, 1);
        await env.carts.add(customerId, SHOES, 2);
        return env.carts.subtract(customerId, lines);
      },
    };
    const result = await run(
      CHECKOUT,
      { input: { idempotencyKey: "racing", shippingAddress: ADDRESS } },
      { ...as(A), deps: { ...env.deps, carts } },
    );
    expect(result.errors).toBeUndefined();
    expect((await outbox()).filter((event) => event.type === "CartUpdated")).toEqual([
      {
        type: "CartUpdated",
        aggregateId: A,
        payload: {
          customerId: A,
          currencyCode: "USD",
          lines: [
            { productId: TEE, quantity: 1, unitPrice: 1999 },
            { productId: SHOES, quantity: 2, unitPrice: null },
          ],
        },
      },
    ]);
  });

  it("forgets keys only after the retention period", async () => {
    await fill([[TEE, 1]]);
    await checkout({ idempotencyKey: "old", shippingAddress: ADDRESS });
    await fill([[TEE, 1]]);
    await checkout({ idempotencyKey: "recent", shippingAddress: ADDRESS });
    await env.pg.db
      .updateTable("idempotency_keys")
      .set({ created_at: sql`now() - interval '49 hours'` } as never)
      .where("key", "=", "old")
      .execute();
    await env.pg.db
      .updateTable("idempotency_keys")
      .set({ created_at: sql`now() - interval '47 hours'` } as never)
      .where("key", "=", "recent")
      .execute();
    expect(await deleteIdempotencyKeysOlderThan(env.pg.db, 48)).toBe(1);
    const left = await env.pg.db.selectFrom("idempotency_keys").select("key").execute();
    expect(left).toEqual([{ key: "recent" }]);
    expect(await rowCounts()).toMatchObject({ orders: 2 });
  });

  it("resolves Order _entities with the checkout's address and history", async () => {
    await fill([[TEE, 1]]);
    const { order } = await checkout({ idempotencyKey: "entities", shippingAddress: ADDRESS });
    env.pg.queries.length = 0;
    const result = await data<{ _entities: unknown[] }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order {
        id shippingAddress { countryCode } statusHistory { status } } } }`,
      { reps: [{ __typename: "Order", id: order.id }] },
      as(A),
    );
    expect(result._entities).toEqual([
      { id: order.id, shippingAddress: { countryCode: "GB" }, statusHistory: [{ status: "PENDING" }] },
    ]);
    expect(env.pg.queries).toHaveLength(2);
  });
});

describe("checkout in a store selling in JPY", () => {
  const inYenStore = () => ({ as: { id: A }, deps: { ...env.deps, storeCurrency: "JPY" } });
  const reprice = (id: string, amount: number, currencyCode: string) => {
    const product = env.catalogProducts.get(id);
    if (!product) throw new Error(`no product ${id}`);
    product.price = money(amount, currencyCode);
  };
  const checkoutInYenStore = async (idempotencyKey: string) =>
    (
      await data<{ checkout: CheckoutPayload }>(
        CHECKOUT,
        { input: { idempotencyKey, shippingAddress: ADDRESS } },
        inYenStore(),
      )
    ).checkout;

  it("places the order in whole yen", async () => {
    reprice(TEE, 1980, "JPY");
    reprice(LAPTOP, 149_800, "JPY");
    await fill([
      [TEE, 3],
      [LAPTOP, 1],
    ]);
    const payload = await checkoutInYenStore("yen-1");
    expect(payload.userErrors).toEqual([]);
    expect(payload.order.total).toEqual(money(3 * 1980 + 149_800, "JPY"));
    // Lines added in the same millisecond are in product order, so compare without order.
    const lines = payload.order.lines as { productId: string; unitPrice: unknown; lineTotal: unknown }[];
    expect(
      lines
        .map(({ productId, unitPrice, lineTotal }) => ({ productId, unitPrice, lineTotal }))
        .sort((a, b) => a.productId.localeCompare(b.productId)),
    ).toEqual([
      { productId: LAPTOP, unitPrice: money(149_800, "JPY"), lineTotal: money(149_800, "JPY") },
      { productId: TEE, unitPrice: money(1980, "JPY"), lineTotal: money(5940, "JPY") },
    ]);
    const stored = await env.pg.db
      .selectFrom("orders")
      .select(["currency_code", "total_amount"])
      .where("id", "=", payload.order.id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ currency_code: "JPY", total_amount: 155_740 });
  });

  it("refuses a line still priced in another currency, whichever line it is, keeping the cart", async () => {
    reprice(TEE, 1980, "JPY");
    // SHOES kept the dollar price the store had before it switched to yen.
    await fill([
      [SHOES, 1],
      [TEE, 1],
    ]);
    const payload = await checkoutInYenStore("yen-2");
    expect(payload.order).toBeNull();
    expect(payload.userErrors).toEqual([
      {
        field: ["cart", "lines", SHOES],
        code: "CURRENCY_MISMATCH",
        message: "Trail Runner is priced in USD; the store sells in JPY. Remove it from the cart.",
      },
    ]);
    expect((await env.carts.get(A)).lines).toHaveLength(2);
    expect(await rowCounts()).toMatchObject({ orders: 0 });
  });
});

describe("STORE_CURRENCY", () => {
  it("is read into the config, USD by default, and refused when ISO 4217 does not know it", () => {
    expect(loadConfig({}).storeCurrency).toBe("USD");
    expect(loadConfig({ STORE_CURRENCY: "JPY" }).storeCurrency).toBe("JPY");
    expect(() => loadConfig({ STORE_CURRENCY: "jpy" })).toThrow(
      'STORE_CURRENCY must be an ISO 4217 currency code in capitals such as USD, got "jpy"',
    );
  });
});
