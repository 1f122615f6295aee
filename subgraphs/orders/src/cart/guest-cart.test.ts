import { createHash } from "node:crypto";
import type { Logger } from "@nexus/core";
import { describe, expect, it } from "vitest";
import { createTestOperations, LAPTOP, money, SHOES, TEE, useTestEnv } from "../test-env.ts";

const env = useTestEnv("orders_guest_cart");
const { A, B } = env;
const { run, data, outbox } = createTestOperations(env);

const CART_FIELDS = `token lines { productId quantity availableQuantity exceedsAvailable unitPrice { amount currencyCode } }
  subtotal { amount currencyCode } totalQuantity`;
const PAYLOAD = `cart { ${CART_FIELDS} } userErrors { field code message }`;
const ADD = `mutation ($input: AddToCartInput!) { addToCart(input: $input) { ${PAYLOAD} } }`;
const UPDATE = `mutation ($input: UpdateCartLineInput!) { updateCartLine(input: $input) { ${PAYLOAD} } }`;
const REMOVE = `mutation ($input: RemoveCartLineInput!) { removeCartLine(input: $input) { ${PAYLOAD} } }`;
const CLEAR = `mutation ($input: ClearCartInput) { clearCart(input: $input) { ${PAYLOAD} } }`;
const MERGE = `mutation ($input: MergeGuestCartInput!) { mergeGuestCart(input: $input) { ${PAYLOAD} } }`;
const CART = `query ($cartToken: String) { cart(cartToken: $cartToken) { ${CART_FIELDS} } }`;

interface CartData {
  token: string | null;
  lines: {
    productId: string;
    quantity: number;
    availableQuantity: number | null;
    exceedsAvailable: boolean | null;
    unitPrice: unknown;
  }[];
  subtotal: { amount: number; currencyCode: string };
  totalQuantity: number;
}
interface Payload {
  cart: CartData;
  userErrors: { field: string[] | null; code: string; message: string }[];
}

const as = (id: string) => ({ as: { id } });
const codes = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] | undefined }) =>
  result.errors?.map((e) => e.extensions?.code);

async function mutate(
  mutation: string,
  input: Record<string, unknown> | null,
  who?: string,
): Promise<Payload> {
  const result = await data<Record<string, Payload>>(mutation, input ? { input } : {}, who ? as(who) : {});
  const payload = Object.values(result)[0];
  if (!payload) throw new Error("no payload");
  return payload;
}
const summary = (cart: CartData) => cart.lines.map((l) => [l.productId, l.quantity]);
const guestCart = (cartToken: string | null) =>
  data<{ cart: CartData }>(CART, { cartToken }).then((r) => r.cart);
const cartEvents = async () => (await outbox()).filter((e) => e.type === "CartUpdated");

describe("guest carts", () => {
  it("creates a guest cart for a visitor and keys it by the hash of its token", async () => {
    const created = await mutate(ADD, { productId: TEE, quantity: 2 });
    expect(created.userErrors).toEqual([]);
    const token = created.cart.token ?? "";
    expect(token).toMatch(/^gct_[A-Za-z0-9_-]{43}$/);
    expect(summary(created.cart)).toEqual([[TEE, 2]]);

    // Only the token's hash is in Redis: whoever reads the store cannot use the cart.
    const keys = await env.redis.keys(`${env.prefix}:cart:*`);
    const hash = createHash("sha256").update(token).digest("hex");
    expect(keys).toEqual([`${env.prefix}:cart:guest:${hash}`]);
    expect(keys.some((key) => key.includes(token))).toBe(false);
    expect(await env.redis.ttl(keys[0] ?? "")).toBeGreaterThan(30 * 24 * 3600 - 10);

    // The holder adds, updates, reads, removes and clears with the token.
    const more = await mutate(ADD, { productId: SHOES, quantity: 1, cartToken: token });
    expect(more.cart.token).toBe(token);
    expect(summary(more.cart)).toEqual([
      [TEE, 2],
      [SHOES, 1],
    ]);
    expect(summary((await mutate(UPDATE, { productId: TEE, quantity: 4, cartToken: token })).cart)).toEqual([
      [TEE, 4],
      [SHOES, 1],
    ]);
    const read = await guestCart(token);
    expect(read).toMatchObject({ token, totalQuantity: 5, subtotal: money(4 * 1999 + 8950) });
    expect(summary((await mutate(REMOVE, { productId: SHOES, cartToken: token })).cart)).toEqual([[TEE, 4]]);
    const cleared = await mutate(CLEAR, { cartToken: token });
    expect(cleared.cart).toMatchObject({ token: null, lines: [], totalQuantity: 0 });
    expect(await env.redis.keys(`${env.prefix}:cart:*`)).toEqual([]);

    // A guest cart belongs to no customer: nothing is announced for abandoned-cart lists.
    expect(await cartEvents()).toEqual([]);
  });

  it("shows nothing to a wrong token or another cart's token, and needs a token or a sign-in", async () => {
    const mine = (await mutate(ADD, { productId: TEE, quantity: 1 })).cart.token ?? "";
    const theirs = (await mutate(ADD, { productId: SHOES, quantity: 3 })).cart.token ?? "";
    expect(mine).not.toBe(theirs);
    expect(summary(await guestCart(theirs))).toEqual([[SHOES, 3]]);
    expect(summary(await guestCart(mine))).toEqual([[TEE, 1]]);

    for (const wrong of [`${mine.slice(0, -1)}x`, "gct_guess", "anything"]) {
      expect(await guestCart(wrong)).toMatchObject({ token: null, lines: [], totalQuantity: 0 });
      const update = await mutate(UPDATE, { productId: TEE, quantity: 5, cartToken: wrong });
      expect(update.userErrors.map((e) => e.code)).toEqual(["LINE_NOT_FOUND"]);
      expect(update.cart.lines).toEqual([]);
      const remove = await mutate(REMOVE, { productId: TEE, cartToken: wrong });
      expect(remove.userErrors.map((e) => e.code)).toEqual(["LINE_NOT_FOUND"]);
    }
    // An unknown token never becomes a cart's token: adding with it makes a new cart and token.
    const fresh = await mutate(ADD, {
      productId: LAPTOP,
      quantity: 1,
      cartToken: "gct_chosen-by-the-client",
    });
    expect(fresh.cart.token).not.toBe("gct_chosen-by-the-client");
    expect(summary(await guestCart("gct_chosen-by-the-client"))).toEqual([]);
    expect(summary(await guestCart(fresh.cart.token))).toEqual([[LAPTOP, 1]]);
    expect(summary(await guestCart(mine))).toEqual([[TEE, 1]]);

    // Without a token, a visitor has no cart to read or change.
    expect(codes(await run(CART))).toEqual(["UNAUTHENTICATED"]);
    expect(codes(await run(UPDATE, { input: { productId: TEE, quantity: 1 } }))).toEqual(["UNAUTHENTICATED"]);
    expect(codes(await run(REMOVE, { input: { productId: TEE } }))).toEqual(["UNAUTHENTICATED"]);
    expect(codes(await run(CLEAR))).toEqual(["UNAUTHENTICATED"]);
    expect(codes(await run(MERGE, { input: { cartToken: mine } }))).toEqual(["UNAUTHENTICATED"]);
    // A refused first add makes no cart and shows no token.
    const refused = await mutate(ADD, { productId: TEE, quantity: 0 });
    expect(refused.userErrors.map((e) => e.code)).toEqual(["INVALID_QUANTITY"]);
    expect(refused.cart).toMatchObject({ token: null, lines: [] });
  });

  it("never shows a guest cart's token to a signed-in customer reading their own cart", async () => {
    const token = (await mutate(ADD, { productId: TEE, quantity: 1 })).cart.token ?? "";
    await mutate(ADD, { productId: SHOES, quantity: 1 }, A);
    // Reading does not merge: the customer's cart, without a token; the guest cart is still there.
    const { cart } = await data<{ cart: CartData }>(CART, { cartToken: token }, as(A));
    expect(cart.token).toBeNull();
    expect(summary(cart)).toEqual([[SHOES, 1]]);
    expect(summary(await guestCart(token))).toEqual([[TEE, 1]]);
  });
});

describe("mergeGuestCart", () => {
  it("adds the guest cart into the customer's, clamps at the limits, says so, and deletes the guest cart", async () => {
    const token = (await mutate(ADD, { productId: TEE, quantity: 60 })).cart.token ?? "";
    await mutate(ADD, { productId: SHOES, quantity: 2, cartToken: token });
    await mutate(ADD, { productId: TEE, quantity: 50 }, A);
    await mutate(ADD, { productId: LAPTOP, quantity: 1 }, A);
    await env.pg.db.deleteFrom("outbox").execute();

    const merged = await mutate(MERGE, { cartToken: token }, A);
    expect(summary(merged.cart).sort()).toEqual(
      [
        [TEE, 99],
        [LAPTOP, 1],
        [SHOES, 2],
      ].sort(),
    );
    expect(merged.cart.token).toBeNull();
    expect(merged.userErrors).toEqual([
      {
        field: ["input", "cartToken"],
        code: "QUANTITY_LIMITED",
        message: `Product ${TEE}: 110 units together, the line keeps 99 (99 at most).`,
      },
    ]);
    expect(await guestCart(token)).toMatchObject({ lines: [] });
    expect(await env.redis.keys(`${env.prefix}:cart:guest:*`)).toEqual([]);
    // The customer's cart changed, so it is announced.
    const [event, ...others] = await cartEvents();
    expect(others).toEqual([]);
    expect(event?.payload).toMatchObject({ customerId: A, currencyCode: "USD" });

    // A second call (or a token whose cart is gone) changes nothing and says nothing.
    const again = await mutate(MERGE, { cartToken: token }, A);
    expect(again.userErrors).toEqual([]);
    expect(summary(again.cart)).toEqual(summary(merged.cart));
    expect(await cartEvents()).toHaveLength(1);
    expect((await mutate(MERGE, { cartToken: "   " }, A)).userErrors.map((e) => e.code)).toEqual([
      "INVALID_CART_TOKEN",
    ]);
  });

  it("merges a guest cart once when several sign-ins race", async () => {
    const token = (await mutate(ADD, { productId: TEE, quantity: 3 })).cart.token ?? "";
    await mutate(ADD, { productId: TEE, quantity: 1 }, A);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => mutate(MERGE, { cartToken: token }, A)),
    );
    expect(results.every((r) => r.userErrors.length === 0)).toBe(true);
    expect((await guestCart(token)).lines).toEqual([]);
    expect((await env.carts.get(A)).lines.map((l) => [l.productId, l.quantity])).toEqual([[TEE, 4]]);
  });

  it("leaves out the lines beyond 50, oldest kept, and tells which", async () => {
    for (let i = 0; i < 49; i++) {
      await env.carts.add(A, `65a0000000000000000100${String(i).padStart(2, "0")}`, 1);
    }
    const token = (await mutate(ADD, { productId: TEE, quantity: 1 })).cart.token ?? "";
    await new Promise((resolve) => setTimeout(resolve, 5));
    await mutate(ADD, { productId: SHOES, quantity: 2, cartToken: token });
    const merged = await mutate(MERGE, { cartToken: token }, A);
    expect(merged.userErrors.map((e) => [e.code, e.message])).toEqual([
      ["TOO_MANY_LINES", `Product ${SHOES} (2 units) was left out: a cart holds at most 50 lines.`],
    ]);
    const cart = await env.carts.get(A);
    expect(cart.lines).toHaveLength(50);
    expect(cart.lines.some((l) => l.productId === TEE)).toBe(true);
    expect(cart.lines.some((l) => l.productId === SHOES)).toBe(false);
  });

  it("merges first when a signed-in mutation passes a guest cart's token", async () => {
    const token = (await mutate(ADD, { productId: TEE, quantity: 2 })).cart.token ?? "";
    const payload = await mutate(ADD, { productId: SHOES, quantity: 1, cartToken: token }, A);
    expect(payload.userErrors).toEqual([]);
    expect(payload.cart.token).toBeNull();
    expect(summary(payload.cart)).toEqual([
      [TEE, 2],
      [SHOES, 1],
    ]);
    expect(await guestCart(token)).toMatchObject({ lines: [] });
    // Another customer holding the same (now spent) token gets nothing from it.
    const other = await mutate(ADD, { productId: LAPTOP, quantity: 1, cartToken: token }, B);
    expect(summary(other.cart)).toEqual([[LAPTOP, 1]]);
  });
});

describe("availability", () => {
  it("flags a line holding more than is available, warns INSUFFICIENT_STOCK and saves it, in one inventory request", async () => {
    env.inventoryAvailable.set(TEE, 3);
    env.inventoryAvailable.set(SHOES, 0);
    await mutate(ADD, { productId: LAPTOP, quantity: 1 }, A);
    env.inventoryRequests.length = 0;
    const fits = await mutate(ADD, { productId: TEE, quantity: 3 }, A);
    expect(fits.userErrors).toEqual([]);
    expect(fits.cart.lines.map((l) => [l.productId, l.availableQuantity, l.exceedsAvailable])).toEqual([
      [LAPTOP, 100, false],
      [TEE, 3, false],
    ]);
    // Every line's availability, for the warning and for the payload: one request.
    expect(env.inventoryRequests).toEqual([
      [
        { __typename: "Product", id: LAPTOP },
        { __typename: "Product", id: TEE },
      ],
    ]);

    const over = await mutate(ADD, { productId: TEE, quantity: 1 }, A);
    expect(over.userErrors).toEqual([
      {
        field: ["input", "quantity"],
        code: "INSUFFICIENT_STOCK",
        message:
          "Only 3 units are available; the line holds 4. It is saved, and nothing is reserved until checkout.",
      },
    ]);
    expect(over.cart.lines.find((l) => l.productId === TEE)).toMatchObject({
      quantity: 4,
      availableQuantity: 3,
      exceedsAvailable: true,
    });
    const none = await mutate(ADD, { productId: SHOES, quantity: 1 }, A);
    expect(none.userErrors.map((e) => [e.code, e.message])).toEqual([
      [
        "INSUFFICIENT_STOCK",
        "Only 0 units are available; the line holds 1. It is saved, and nothing is reserved until checkout.",
      ],
    ]);
    const back = await mutate(UPDATE, { productId: TEE, quantity: 2 }, A);
    expect(back.userErrors).toEqual([]);
    const up = await mutate(UPDATE, { productId: TEE, quantity: 9 }, A);
    expect(up.userErrors.map((e) => e.code)).toEqual(["INSUFFICIENT_STOCK"]);
    expect((await env.carts.get(A)).lines.find((l) => l.productId === TEE)?.quantity).toBe(9);
    // Nothing about stock was written anywhere: only the cart's own announcements.
    expect(new Set((await outbox()).map((e) => e.type))).toEqual(new Set(["CartUpdated"]));
  });

  it("works for guest carts too, and keeps working with availability unknown when inventory fails", async () => {
    env.inventoryAvailable.set(TEE, 1);
    const guest = await mutate(ADD, { productId: TEE, quantity: 2 });
    expect(guest.userErrors.map((e) => e.code)).toEqual(["INSUFFICIENT_STOCK"]);
    expect(guest.cart.lines[0]).toMatchObject({ availableQuantity: 1, exceedsAvailable: true });

    env.faults.inventoryDown = true;
    const warnings: { message: string; fields: Record<string, unknown> | undefined }[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: (message, fields) => warnings.push({ message, fields }),
      error: () => {},
      child: () => logger,
    };
    const { addToCart: blind } = await data<{ addToCart: Payload }>(
      ADD,
      { input: { productId: TEE, quantity: 5 } },
      { ...as(A), deps: { ...env.deps, logger }, requestId: "req-blind" },
    );
    expect(warnings.map((w) => [w.message, w.fields?.requestId])).toEqual([
      ["inventory unavailable; cart availability unknown", "req-blind"],
    ]);
    expect(blind.userErrors).toEqual([]);
    expect(blind.cart.lines).toEqual([
      {
        productId: TEE,
        quantity: 5,
        availableQuantity: null,
        exceedsAvailable: null,
        unitPrice: money(1999),
      },
    ]);
    expect(summary(await guestCart(guest.cart.token))).toEqual([[TEE, 2]]);
  });
});
