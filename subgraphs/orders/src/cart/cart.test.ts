import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import {
  BROKEN,
  createTestOperations,
  EURO_MUG,
  LAPTOP,
  money,
  SHOES,
  setStatus,
  TEE,
  UNKNOWN,
  useTestEnv,
} from "../test-env.ts";

const env = useTestEnv("orders_cart");
const { A, B, ADMIN } = env;
const { run, data, outbox } = createTestOperations(env);

const CART_FIELDS = `lines { productId product { id } available quantity unitPrice { amount currencyCode } lineTotal { amount currencyCode } addedAt }
  subtotal { amount currencyCode } totalQuantity updatedAt expiresAt`;
const PAYLOAD = `cart { ${CART_FIELDS} } userErrors { field code message }`;
const ADD = `mutation ($input: AddToCartInput!) { addToCart(input: $input) { ${PAYLOAD} } }`;
const UPDATE = `mutation ($input: UpdateCartLineInput!) { updateCartLine(input: $input) { ${PAYLOAD} } }`;
const REMOVE = `mutation ($input: RemoveCartLineInput!) { removeCartLine(input: $input) { ${PAYLOAD} } }`;
const CLEAR = `mutation { clearCart { ${PAYLOAD} } }`;

interface CartData {
  lines: {
    productId: string;
    product: { id: string } | null;
    available: boolean;
    quantity: number;
    unitPrice: unknown;
    lineTotal: unknown;
    addedAt: string;
  }[];
  subtotal: { amount: number; currencyCode: string };
  totalQuantity: number;
  updatedAt: string | null;
  expiresAt: string | null;
}
interface Payload {
  cart: CartData;
  userErrors: { field: string[] | null; code: string; message: string }[];
}

const as = (id: string) => ({ as: { id } });
async function mutate(mutation: string, input: Record<string, unknown> | null, who = A): Promise<Payload> {
  const result = await data<Record<string, Payload>>(mutation, input ? { input } : {}, as(who));
  const payload = Object.values(result)[0];
  if (!payload) throw new Error("no payload");
  return payload;
}
const add = (productId: string, quantity: number, who = A) => mutate(ADD, { productId, quantity }, who);
const lineSummary = (cart: CartData) => cart.lines.map((l) => [l.productId, l.quantity]);

describe("cart", () => {
  it("adds lines priced by one catalog request, merges repeats and keeps a sliding 30-day expiry", async () => {
    await add(TEE, 2);
    env.catalogRequests.length = 0;
    const before = Date.now();
    const payload = await add(LAPTOP.toUpperCase(), 1);
    expect(payload.userErrors).toEqual([]);
    expect(payload.cart).toMatchObject({
      lines: [
        { product: { id: TEE }, quantity: 2, unitPrice: money(1999), lineTotal: money(3998) },
        { product: { id: LAPTOP }, quantity: 1, unitPrice: money(129_900), lineTotal: money(129_900) },
      ],
      subtotal: money(3998 + 129_900),
      totalQuantity: 3,
    });
    // The product added and the lines already there: one request, which also priced the payload.
    expect(env.catalogRequests).toHaveLength(1);
    const updatedAt = Date.parse(payload.cart.updatedAt ?? "");
    expect(updatedAt).toBeGreaterThanOrEqual(before - 5);
    expect(Date.parse(payload.cart.expiresAt ?? "") - updatedAt).toBe(30 * 24 * 3600 * 1000);
    const ttl = await env.redis.ttl(`${env.prefix}:cart:${A}`);
    expect(ttl).toBeGreaterThan(30 * 24 * 3600 - 10);

    const merged = await add(TEE, 3);
    expect(lineSummary(merged.cart)).toEqual([
      [TEE, 5],
      [LAPTOP, 1],
    ]);
  });

  it("refuses bad quantities, unknown products, another currency and a 51st line, changing nothing", async () => {
    await add(TEE, 98);
    const codes = async (productId: string, quantity: number) =>
      (await add(productId, quantity)).userErrors.map((e) => e.code);
    expect(await codes(SHOES, 0)).toEqual(["INVALID_QUANTITY"]);
    expect(await codes(SHOES, 100)).toEqual(["INVALID_QUANTITY"]);
    expect(await codes("not-an-id", -1)).toEqual(["PRODUCT_NOT_FOUND", "INVALID_QUANTITY"]);
    expect(await codes(UNKNOWN, 1)).toEqual(["PRODUCT_NOT_FOUND"]);
    expect(await codes(EURO_MUG, 1)).toEqual(["CURRENCY_MISMATCH"]);
    const over = await add(TEE, 2);
    expect(over.userErrors).toEqual([
      {
        field: ["input", "quantity"],
        code: "INVALID_QUANTITY",
        message: "A line holds at most 99 units; this one already holds 98.",
      },
    ]);
    expect(lineSummary(over.cart)).toEqual([[TEE, 98]]);
    expect((await add(TEE, 1)).cart.lines[0]?.quantity).toBe(99);

    // 50 lines at most: filled directly, as 50 catalog products are more than the fake sells.
    await env.carts.clear(A);
    for (let i = 0; i < 50; i++) {
      expect(await env.carts.add(A, `65a0000000000000000100${String(i).padStart(2, "0")}`, 1)).toEqual({
        ok: true,
      });
    }
    expect((await add(TEE, 1)).userErrors.map((e) => e.code)).toEqual(["TOO_MANY_LINES"]);
    expect(await env.carts.add(A, "65a000000000000000010000", 1)).toEqual({ ok: true });
  });

  it("fails with INTERNAL_SERVER_ERROR and an unchanged cart when the catalog fails", async () => {
    await add(TEE, 1);
    const result = await run(ADD, { input: { productId: BROKEN, quantity: 1 } }, as(A));
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["INTERNAL_SERVER_ERROR"]);
    expect(
      lineSummary((await data<{ cart: CartData }>(`{ cart { ${CART_FIELDS} } }`, {}, as(A))).cart),
    ).toEqual([[TEE, 1]]);
  });

  it("updates, removes and clears lines, refusing lines that are not there", async () => {
    await add(TEE, 1);
    await add(SHOES, 1);
    expect(lineSummary((await mutate(UPDATE, { productId: SHOES, quantity: 7 })).cart)).toEqual([
      [TEE, 1],
      [SHOES, 7],
    ]);
    expect((await mutate(UPDATE, { productId: SHOES, quantity: 0 })).userErrors.map((e) => e.code)).toEqual([
      "INVALID_QUANTITY",
    ]);
    expect((await mutate(UPDATE, { productId: LAPTOP, quantity: 1 })).userErrors.map((e) => e.code)).toEqual([
      "LINE_NOT_FOUND",
    ]);
    expect((await mutate(REMOVE, { productId: LAPTOP })).userErrors.map((e) => e.code)).toEqual([
      "LINE_NOT_FOUND",
    ]);
    expect(lineSummary((await mutate(REMOVE, { productId: TEE })).cart)).toEqual([[SHOES, 7]]);
    const cleared = await mutate(CLEAR, null);
    expect(cleared.cart).toEqual({
      lines: [],
      subtotal: money(0),
      totalQuantity: 0,
      updatedAt: null,
      expiresAt: null,
    });
    expect(await env.redis.exists(`${env.prefix}:cart:${A}`)).toBe(0);
  });

  it("refuses to add a DRAFT or ARCHIVED product like an unknown one, changing nothing", async () => {
    await add(TEE, 1);
    setStatus(env, SHOES, "DRAFT");
    setStatus(env, LAPTOP, "ARCHIVED");
    for (const productId of [SHOES, LAPTOP, UNKNOWN]) {
      const refused = await add(productId, 1);
      expect(refused.userErrors).toEqual([
        {
          field: ["input", "productId"],
          code: "PRODUCT_NOT_FOUND",
          message: "There is no such product for sale.",
        },
      ]);
      expect(lineSummary(refused.cart)).toEqual([[TEE, 1]]);
    }
    expect((await env.carts.get(A)).lines.map((l) => l.productId)).toEqual([TEE]);
  });

  it("keeps a line whose product is no longer for sale, unavailable, unpriced and out of the subtotal", async () => {
    await add(TEE, 2);
    await add(SHOES, 1);
    await add(LAPTOP, 1);
    setStatus(env, SHOES, "ARCHIVED");
    env.catalogProducts.delete(LAPTOP);
    env.catalogRequests.length = 0;
    const { cart } = await data<{ cart: CartData }>(`{ cart { ${CART_FIELDS} } }`, {}, as(A));
    // Lines added in the same millisecond are in product order, so compare by product.
    const byProduct = (lines: CartData["lines"]) =>
      [...lines].sort((a, b) => a.productId.localeCompare(b.productId));
    expect(
      byProduct(cart.lines).map((l) => [
        l.productId,
        l.product,
        l.available,
        l.quantity,
        l.unitPrice,
        l.lineTotal,
      ]),
    ).toEqual([
      [LAPTOP, null, false, 1, null, null],
      [TEE, { id: TEE }, true, 2, money(1999), money(3998)],
      [SHOES, null, false, 1, null, null],
    ]);
    expect(cart.subtotal).toEqual(money(3998));
    expect(cart.totalQuantity).toBe(4);
    // Availability, prices and the subtotal of every line: still one catalog request.
    expect(env.catalogRequests).toHaveLength(1);

    // Back on sale, it is priced again; removed, it is gone.
    setStatus(env, SHOES, "ACTIVE");
    const again = await data<{ cart: CartData }>(`{ cart { ${CART_FIELDS} } }`, {}, as(A));
    expect(again.cart.lines.find((l) => l.productId === SHOES)).toMatchObject({
      product: { id: SHOES },
      available: true,
      unitPrice: money(8950),
    });
    const removed = await mutate(REMOVE, { productId: LAPTOP });
    expect(byProduct(removed.cart.lines).map((l) => l.productId)).toEqual([TEE, SHOES]);
  });

  it("keeps carts apart, needs a sign-in to read one, and resolves User.cart for its owner and support staff only", async () => {
    await add(TEE, 1, A);
    await add(SHOES, 2, B);
    const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id cart { totalQuantity lines { product { id } } } } } }`;
    const reps = { reps: [{ __typename: "User", id: A }] };
    expect(await data(query, reps, as(A))).toEqual({
      _entities: [{ id: A, cart: { totalQuantity: 1, lines: [{ product: { id: TEE } }] } }],
    });
    expect(await data(query, reps, { as: { id: ADMIN, role: "ADMIN" } })).toEqual({
      _entities: [{ id: A, cart: { totalQuantity: 1, lines: [{ product: { id: TEE } }] } }],
    });
    expect((await run(query, reps, as(B))).errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    expect((await run(`{ cart { totalQuantity } }`)).errors?.map((e) => e.extensions?.code)).toEqual([
      "UNAUTHENTICATED",
    ]);
    // Adding without a sign-in makes a guest cart instead (guest-cart.test.ts).
  });

  it("never lets concurrent adds push a line past 99 units", async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => add(TEE, 5)));
    expect(results.filter((r) => r.userErrors.length === 0)).toHaveLength(19);
    const { cart } = await data<{ cart: CartData }>(`{ cart { ${CART_FIELDS} } }`, {}, as(A));
    expect(cart.lines[0]?.quantity).toBe(95);
  });
});

describe("CartUpdated", () => {
  /** The CartUpdated events written so far, oldest first, and forgets them. */
  async function announced() {
    const events = (await outbox()).filter((event) => event.type === "CartUpdated");
    await env.pg.db.deleteFrom("outbox").execute();
    return events;
  }
  const cartUpdated = (
    lines: { productId: string; quantity: number; unitPrice: number | null }[],
    currencyCode: string | null = "USD",
    customerId = A,
  ) => [{ type: "CartUpdated", aggregateId: customerId, payload: { customerId, currencyCode, lines } }];

  it("announces the whole cart, with the prices it shows, after every change that went through", async () => {
    await add(TEE, 2);
    expect(await announced()).toEqual(cartUpdated([{ productId: TEE, quantity: 2, unitPrice: 1999 }]));

    env.catalogRequests.length = 0;
    await add(LAPTOP, 1);
    expect(await announced()).toEqual(
      cartUpdated([
        { productId: TEE, quantity: 2, unitPrice: 1999 },
        { productId: LAPTOP, quantity: 1, unitPrice: 129_900 },
      ]),
    );
    // The prices announced are the ones the payload shows: still one catalog request.
    expect(env.catalogRequests).toHaveLength(1);

    await mutate(UPDATE, { productId: TEE, quantity: 5 });
    expect(await announced()).toEqual(
      cartUpdated([
        { productId: TEE, quantity: 5, unitPrice: 1999 },
        { productId: LAPTOP, quantity: 1, unitPrice: 129_900 },
      ]),
    );

    // A line no longer for sale shows no price, and is announced without one.
    setStatus(env, TEE, "ARCHIVED");
    await mutate(REMOVE, { productId: LAPTOP });
    expect(await announced()).toEqual(cartUpdated([{ productId: TEE, quantity: 5, unitPrice: null }], null));

    await mutate(CLEAR, null);
    expect(await announced()).toEqual(cartUpdated([], null));
  });

  it("announces nothing for a change that was refused, and only the changing customer's cart", async () => {
    await add(TEE, 1, B);
    await announced();
    expect((await add(TEE, 0)).userErrors.map((e) => e.code)).toEqual(["INVALID_QUANTITY"]);
    expect((await add(UNKNOWN, 1)).userErrors.map((e) => e.code)).toEqual(["PRODUCT_NOT_FOUND"]);
    expect((await add(EURO_MUG, 1, B)).userErrors.map((e) => e.code)).toEqual(["CURRENCY_MISMATCH"]);
    expect((await mutate(UPDATE, { productId: SHOES, quantity: 1 })).userErrors.map((e) => e.code)).toEqual([
      "LINE_NOT_FOUND",
    ]);
    expect((await mutate(REMOVE, { productId: SHOES })).userErrors.map((e) => e.code)).toEqual([
      "LINE_NOT_FOUND",
    ]);
    expect(await announced()).toEqual([]);

    await add(SHOES, 3);
    expect(await announced()).toEqual(
      cartUpdated([{ productId: SHOES, quantity: 3, unitPrice: 8950 }], "USD"),
    );
  });

  it("still changes the cart, unannounced, when the outbox cannot be written", async () => {
    await sql`ALTER TABLE outbox ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`.execute(env.pg.db);
    try {
      const payload = await add(TEE, 1);
      expect(payload.userErrors).toEqual([]);
      expect(lineSummary(payload.cart)).toEqual([[TEE, 1]]);
    } finally {
      await sql`ALTER TABLE outbox DROP CONSTRAINT refuse_all`.execute(env.pg.db);
    }
    expect(await announced()).toEqual([]);
  });
});

describe("a store selling in JPY", () => {
  const asYenStore = (id: string) => ({ as: { id }, deps: { ...env.deps, storeCurrency: "JPY" } });
  async function addInYenStore(productId: string, quantity: number): Promise<Payload> {
    const result = await data<{ addToCart: Payload }>(ADD, { input: { productId, quantity } }, asYenStore(A));
    return result.addToCart;
  }
  const reprice = (id: string, amount: number, currencyCode: string) => {
    const product = env.catalogProducts.get(id);
    if (!product) throw new Error(`no product ${id}`);
    product.price = money(amount, currencyCode);
  };

  it("sums the cart in whole yen, and an empty cart is zero yen", async () => {
    const empty = await data<{ cart: { subtotal: unknown } }>(
      `{ cart { subtotal { amount currencyCode } } }`,
      {},
      asYenStore(A),
    );
    expect(empty.cart.subtotal).toEqual(money(0, "JPY"));
    reprice(TEE, 1980, "JPY");
    reprice(LAPTOP, 149_800, "JPY");
    await addInYenStore(TEE, 2);
    const payload = await addInYenStore(LAPTOP, 1);
    expect(payload.userErrors).toEqual([]);
    expect(payload.cart.subtotal).toEqual(money(2 * 1980 + 149_800, "JPY"));
    expect(payload.cart.lines.map((l) => l.lineTotal)).toEqual([money(3960, "JPY"), money(149_800, "JPY")]);
  });

  it("refuses a product priced in another currency, and leaves an older line in one out of the subtotal", async () => {
    reprice(TEE, 1980, "JPY");
    // Still in dollars, as a store that sold in USD left it.
    expect((await addInYenStore(SHOES, 1)).userErrors).toEqual([
      {
        field: ["input", "productId"],
        code: "CURRENCY_MISMATCH",
        message: "This product is priced in USD; the store sells in JPY.",
      },
    ]);
    expect((await env.carts.get(A)).lines).toEqual([]);
    expect(await env.carts.add(A, SHOES, 1)).toEqual({ ok: true });
    const payload = await addInYenStore(TEE, 1);
    expect(payload.userErrors).toEqual([]);
    // Lines added in the same millisecond are in product order, so compare without order.
    expect(lineSummary(payload.cart).sort()).toEqual([
      [TEE, 1],
      [SHOES, 1],
    ]);
    expect(payload.cart.subtotal).toEqual(money(1980, "JPY"));
  });
});
