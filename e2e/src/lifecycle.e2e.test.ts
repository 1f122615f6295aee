/**
 * The customer lifecycle through the gateway, as a shopper and a storefront would live it, with
 * the real emails read back from the `.eml` files the SMTP catcher wrote (as `pnpm start` writes
 * `.nexus/mail/`): email verification and password reset from their links, a visitor's cart
 * joining the account at sign-in, checkout to a saved address and its confirmation, a rejected
 * order's lines back in the cart, a wishlisted product back in stock, and the in-app inbox.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type CaughtMail, parseEml } from "@nexus/mail";
import { rawId, until } from "@nexus/testing";
import { graphql, graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let stack: Stack;
let productIds: string[] = [];

const ADDRESS = {
  name: "Ada Lovelace",
  line1: "12 Analytical Row",
  city: "London",
  postalCode: "N1 9GU",
  countryCode: "GB",
};
const SETTLE = { timeoutMs: 60_000 };
const as = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });

interface UserError {
  code: string;
  message: string;
}

async function register(name: string, password = "first password 1") {
  const email = `${name}-${randomUUID().slice(0, 8)}@example.com`;
  const { register } = await graphqlOk<{ register: { accessToken: string | null; userErrors: UserError[] } }>(
    stack.endpoint,
    "mutation ($input: RegisterInput!) { register(input: $input) { accessToken userErrors { code message } } }",
    { input: { email, password, name } },
  );
  expect(register.userErrors).toEqual([]);
  return { email, accessToken: register.accessToken as string };
}

async function login(email: string, password: string) {
  const { login } = await graphqlOk<{ login: { accessToken: string | null; userErrors: UserError[] } }>(
    stack.endpoint,
    "mutation ($input: LoginInput!) { login(input: $input) { accessToken userErrors { code } } }",
    { input: { email, password } },
  );
  return login;
}

/**
 * The email of `type` sent to `email`: its delivery row in notifications' log says it was sent and
 * with which Message-ID; the message is then read back from the `.eml` file the catcher wrote.
 */
async function mailTo(email: string, type: string): Promise<CaughtMail> {
  const sent = await until(
    `${type} email to ${email}`,
    () =>
      stack.notificationsDb
        .selectFrom("deliveries")
        .select(["message_id", "status"])
        .where("email", "=", email)
        .where("message_type", "=", type)
        .where("channel", "=", "EMAIL")
        .where("status", "=", "SENT")
        .executeTakeFirst(),
    SETTLE,
  );
  const caught = await stack.mail.waitFor((mail) => mail.messageId === sent.message_id, 10_000);
  expect(caught.file).toMatch(/\.eml$/);
  return parseEml(await readFile(caught.file as string), caught.file);
}

/** The single-use token in a link of the message's text (`...?token=...`). */
function tokenIn(mail: CaughtMail, path: string): string {
  const match = new RegExp(`/${path}\\?token=([A-Za-z0-9_-]+)`).exec(mail.text);
  if (!match?.[1]) throw new Error(`no ${path} link in:\n${mail.text}`);
  return match[1];
}

async function setAvailable(productId: string, available: number) {
  const admin = as((await stack.auth.bearer(randomUUID(), "ADMIN")).replace(/^Bearer /, ""));
  const { product } = await graphqlOk<{ product: { inventory: { reserved: number } } }>(
    stack.endpoint,
    "query ($id: ID!) { product(id: $id) { inventory { reserved } } }",
    { id: productId },
    admin,
  );
  const { setStock } = await graphqlOk<{ setStock: { userErrors: UserError[] } }>(
    stack.endpoint,
    "mutation ($input: SetStockInput!) { setStock(input: $input) { userErrors { code message } } }",
    { input: { productId, onHand: product.inventory.reserved + available, reason: "e2e lifecycle" } },
    admin,
  );
  expect(setStock.userErrors).toEqual([]);
}

const CART = "cart { token totalQuantity lines { productId quantity } }";

async function orderStatus(accessToken: string, id: string, status: string) {
  return until(
    `order ${id} to be ${status}`,
    async () => {
      const { order } = await graphqlOk<{
        order: { status: string; statusHistory: { reason: string | null }[] };
      }>(
        stack.endpoint,
        "query ($id: ID!) { order(id: $id) { status statusHistory { reason } } }",
        { id },
        as(accessToken),
      );
      return order.status === status ? order : undefined;
    },
    SETTLE,
  );
}

async function checkout(accessToken: string, input: Record<string, unknown>) {
  const { checkout } = await graphqlOk<{
    checkout: { order: { id: string } | null; userErrors: UserError[] };
  }>(
    stack.endpoint,
    "mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } userErrors { code message } } }",
    { input: { idempotencyKey: randomUUID(), ...input } },
    as(accessToken),
  );
  expect(checkout.userErrors).toEqual([]);
  return checkout.order?.id as string;
}

beforeAll(async () => {
  stack = await startStack({ mongoUrl: inject("mongoUrl"), env: { OUTBOX_POLL_MS: "100" } });
  const { products } = await graphqlOk<{ products: { edges: { node: { id: string } }[] } }>(
    stack.endpoint,
    "{ products(first: 6) { edges { node { id } } } }",
  );
  productIds = products.edges.map((edge) => edge.node.id);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("accounts by email", () => {
  it("verifies an email from the link mailed at register, and resets a forgotten password from its link", async () => {
    const { email, accessToken } = await register("verify");

    const verification = await mailTo(email, "EMAIL_VERIFICATION");
    expect(verification.to).toEqual([email]);
    const { verifyEmail } = await graphqlOk<{ verifyEmail: { success: boolean; userErrors: UserError[] } }>(
      stack.endpoint,
      "mutation ($input: VerifyEmailInput!) { verifyEmail(input: $input) { success userErrors { code } } }",
      { input: { token: tokenIn(verification, "verify-email") } },
    );
    expect(verifyEmail).toEqual({ success: true, userErrors: [] });
    const { me } = await graphqlOk<{ me: { emailVerified: boolean } }>(
      stack.endpoint,
      "{ me { emailVerified } }",
      {},
      as(accessToken),
    );
    expect(me.emailVerified).toBe(true);

    // The answer is the same whether or not an account has the email; only the real one gets mail.
    const ask = (address: string) =>
      graphqlOk<{ requestPasswordReset: { success: boolean; userErrors: UserError[] } }>(
        stack.endpoint,
        "mutation ($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { success userErrors { code } } }",
        { input: { email: address } },
      );
    const nobody = `nobody-${randomUUID().slice(0, 8)}@example.com`;
    expect(await ask(nobody)).toEqual(await ask(email));

    const reset = await mailTo(email, "PASSWORD_RESET");
    const token = tokenIn(reset, "reset-password");
    const resetPassword = (newPassword: string) =>
      graphqlOk<{ resetPassword: { success: boolean; userErrors: UserError[] } }>(
        stack.endpoint,
        "mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) { success userErrors { code } } }",
        { input: { token, newPassword } },
      );
    expect((await resetPassword("second password 2")).resetPassword).toEqual({
      success: true,
      userErrors: [],
    });
    // Single use.
    expect((await resetPassword("third password 3")).resetPassword.userErrors.map((e) => e.code)).toEqual([
      "INVALID_TOKEN",
    ]);
    expect((await login(email, "first password 1")).userErrors.map((e) => e.code)).toEqual([
      "INVALID_CREDENTIALS",
    ]);
    expect((await login(email, "second password 2")).accessToken).toEqual(expect.any(String));

    const changed = await mailTo(email, "PASSWORD_CHANGED");
    expect(changed.subject).not.toBe("");
    const unknown = await stack.notificationsDb
      .selectFrom("deliveries")
      .select("id")
      .where("email", "=", nobody)
      .execute();
    expect(unknown).toEqual([]);
  });
});

describe("carts, checkout and the order's messages", () => {
  it("merges a visitor's cart at sign-in, checks out to a saved address and mails the confirmation", async () => {
    const [productId] = productIds as [string];
    const { addToCart } = await graphqlOk<{
      addToCart: { cart: { token: string | null; totalQuantity: number }; userErrors: UserError[] };
    }>(
      stack.endpoint,
      `mutation ($input: AddToCartInput!) { addToCart(input: $input) { ${CART} userErrors { code } } }`,
      { input: { productId, quantity: 2 } },
    );
    expect(addToCart.userErrors).toEqual([]);
    const cartToken = addToCart.cart.token as string;
    expect(cartToken).toEqual(expect.any(String));

    const { email, accessToken } = await register("buyer");
    const { mergeGuestCart } = await graphqlOk<{
      mergeGuestCart: { cart: { token: string | null; lines: { productId: string; quantity: number }[] } };
    }>(
      stack.endpoint,
      `mutation ($input: MergeGuestCartInput!) { mergeGuestCart(input: $input) { ${CART} userErrors { code } } }`,
      { input: { cartToken } },
      as(accessToken),
    );
    expect(mergeGuestCart.cart.lines).toEqual([{ productId, quantity: 2 }]);
    expect(mergeGuestCart.cart.token).toBeNull();

    const { addAddress } = await graphqlOk<{ addAddress: { address: { id: string } } }>(
      stack.endpoint,
      "mutation ($input: AddAddressInput!) { addAddress(input: $input) { address { id } userErrors { code } } }",
      { input: { address: ADDRESS } },
      as(accessToken),
    );
    const orderId = await checkout(accessToken, { shippingAddressId: addAddress.address.id });
    await orderStatus(accessToken, orderId, "CONFIRMED");

    const { order } = await graphqlOk<{ order: { lines: { productName: string }[] } }>(
      stack.endpoint,
      "query ($id: ID!) { order(id: $id) { lines { productName } } }",
      { id: orderId },
      as(accessToken),
    );
    const confirmed = await mailTo(email, "ORDER_CONFIRMED");
    expect(confirmed.text).toContain(order.lines[0]?.productName);
    // HTML escapes the name (an apostrophe, say); the address has nothing to escape.
    for (const body of [confirmed.text, confirmed.html ?? ""]) {
      expect(body).toContain(ADDRESS.line1);
      expect(body).toContain(ADDRESS.postalCode);
      // Links name the order by its raw id (docs/global-ids.md).
      expect(body).toContain(`/account/orders/${rawId(orderId)}`);
    }

    const inbox = async () =>
      (
        await graphqlOk<{
          me: { unreadNotificationCount: number; notifications: { edges: { node: { type: string } }[] } };
        }>(
          stack.endpoint,
          "{ me { unreadNotificationCount notifications(first: 10) { edges { node { type title readAt } } } } }",
          {},
          as(accessToken),
        )
      ).me;
    const before = await inbox();
    expect(before.notifications.edges.map((edge) => edge.node.type)).toContain("ORDER_CONFIRMED");
    expect(before.unreadNotificationCount).toBeGreaterThan(0);
    await graphqlOk(
      stack.endpoint,
      "mutation { markNotificationsRead(input: { all: true }) { markedCount } }",
      {},
      as(accessToken),
    );
    expect((await inbox()).unreadNotificationCount).toBe(0);
  });

  it("puts a rejected order's lines back in the cart, and the rejection email says so", async () => {
    const productId = productIds[1] as string;
    await setAvailable(productId, 1);
    const { email, accessToken } = await register("rejected");
    await graphqlOk(
      stack.endpoint,
      `mutation ($input: AddToCartInput!) { addToCart(input: $input) { ${CART} userErrors { code } } }`,
      { input: { productId, quantity: 3 } },
      as(accessToken),
    );
    const orderId = await checkout(accessToken, { shippingAddress: ADDRESS });
    await orderStatus(accessToken, orderId, "REJECTED");

    const cart = await until(
      "the rejected order's lines back in the cart",
      async () => {
        const { cart } = await graphqlOk<{ cart: { lines: { productId: string; quantity: number }[] } }>(
          stack.endpoint,
          `{ ${CART} }`,
          {},
          as(accessToken),
        );
        return cart.lines.length > 0 ? cart : undefined;
      },
      SETTLE,
    );
    expect(cart.lines).toEqual([{ productId, quantity: 3 }]);

    await mailTo(email, "ORDER_REJECTED");
    const [row] = await stack.notificationsDb
      .selectFrom("deliveries")
      .select("data")
      .where("email", "=", email)
      .where("message_type", "=", "ORDER_REJECTED")
      .execute();
    expect(row?.data).toMatchObject({ orderId: rawId(orderId), linesReturnedToCart: true });
  });

  it("tells a customer when a product on their wishlist is back in stock", async () => {
    const productId = productIds[2] as string;
    await setAvailable(productId, 0);
    const { email, accessToken } = await register("wishful");
    const { addToWishlist } = await graphqlOk<{ addToWishlist: { userErrors: UserError[] } }>(
      stack.endpoint,
      "mutation ($input: AddToWishlistInput!) { addToWishlist(input: $input) { userErrors { code } } }",
      { input: { productId } },
      as(accessToken),
    );
    expect(addToWishlist.userErrors).toEqual([]);
    const { me } = await graphqlOk<{ me: { wishlist: { edges: { node: { product: { id: string } } }[] } } }>(
      stack.endpoint,
      "{ me { wishlist(first: 5) { edges { node { product { id } } } } } }",
      {},
      as(accessToken),
    );
    expect(me.wishlist.edges.map((edge) => edge.node.product.id)).toEqual([productId]);

    await setAvailable(productId, 4);
    const mail = await mailTo(email, "BACK_IN_STOCK");
    expect(mail.text).toContain(rawId(productId));
  });

  it("refuses a guest checkout unless the store takes guest orders", async () => {
    const { addToCart } = await graphqlOk<{ addToCart: { cart: { token: string } } }>(
      stack.endpoint,
      `mutation ($input: AddToCartInput!) { addToCart(input: $input) { ${CART} userErrors { code } } }`,
      { input: { productId: productIds[3], quantity: 1 } },
    );
    const { body } = await graphql(
      stack.endpoint,
      "mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } userErrors { code } } }",
      {
        input: {
          idempotencyKey: randomUUID(),
          cartToken: addToCart.cart.token,
          email: "guest@example.com",
          shippingAddress: ADDRESS,
        },
      },
    );
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });
});
