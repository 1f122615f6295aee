import { randomUUID } from "node:crypto";
import { createTokenSigner, ROLE_SCOPES } from "@nexus/core";
import { executeSingle, TEST_SUBGRAPH_SECRET, TEST_TOKEN_AUDIENCE } from "@nexus/testing";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { createContext, type Deps } from "../context.ts";
import { ADDRESS, createTestOperations, TEE, useTestEnv } from "../test-env.ts";
import { createUsersClient, type SavedAddress, UsersUnavailableError } from "../users/users.client.ts";

const env = useTestEnv("orders_checkout_address");
const { A, B } = env;
const { run, data, outbox, rowCounts } = createTestOperations(env);

const CHECKOUT = `mutation ($input: CheckoutInput!) { checkout(input: $input) {
  order { id customer { id } shippingAddress { name line1 line2 city region postalCode countryCode } }
  userErrors { field code message } } }`;

interface CheckoutPayload {
  order: { id: string; shippingAddress: Record<string, unknown> } | null;
  userErrors: { field: string[] | null; code: string; message: string }[];
}

const as = (id: string) => ({ as: { id } });

const HOME: SavedAddress = {
  id: randomUUID(),
  name: "Grace Hopper",
  line1: "1 Navy Yard",
  line2: "Building 7",
  city: "Arlington",
  region: "VA",
  postalCode: "22202",
  countryCode: "US",
};
const OFFICE: SavedAddress = {
  id: randomUUID(),
  name: "Grace Hopper",
  line1: "200 Pentagon",
  line2: null,
  city: "Arlington",
  region: null,
  postalCode: "22350",
  countryCode: "US",
};
/** An address in B's book: A must not be able to ship to it. */
const B_HOME: SavedAddress = { ...HOME, id: randomUUID(), name: "Someone Else", line1: "9 Elsewhere" };

const snapshot = ({ id: _id, ...address }: SavedAddress) => address;

async function checkout(input: Record<string, unknown>, who = A, requestId?: string) {
  const result = await data<{ checkout: CheckoutPayload }>(
    CHECKOUT,
    { input },
    requestId ? { ...as(who), requestId } : as(who),
  );
  return result.checkout;
}

const fill = async (who = A) => expect(await env.carts.add(who, TEE, 2)).toEqual({ ok: true });

function books() {
  env.addressBooks.set(A, [HOME, OFFICE]);
  env.addressBooks.set(B, [B_HOME]);
}

describe("checkout by saved address", () => {
  it("ships to the saved address, read from users with the customer's own token, and snapshots it", async () => {
    books();
    await fill();
    const payload = await checkout(
      { idempotencyKey: "saved-1", shippingAddressId: OFFICE.id },
      A,
      "req-addr",
    );
    expect(payload.userErrors).toEqual([]);
    expect(payload.order?.shippingAddress).toEqual(snapshot(OFFICE));
    expect(env.usersRequests).toEqual([
      { authorization: expect.stringMatching(/^Bearer /), representations: [{ __typename: "User", id: A }] },
    ]);
    // The token forwarded is the customer's: users verifies it and finds A.
    expect((await env.auth.verify(env.usersRequests[0]?.authorization))?.userId).toBe(A);
    const [placed] = (await outbox()).filter((event) => event.type === "OrderPlaced");
    expect(placed?.payload).toMatchObject({ customerId: A, countryCode: "US" });
    // The snapshot stays whatever the address book does later.
    env.addressBooks.set(A, [{ ...OFFICE, line1: "Moved away" }]);
    const read = await data<{ order: { shippingAddress: unknown } }>(
      `query ($id: ID!) { order(id: $id) { shippingAddress { line1 } } }`,
      { id: payload.order?.id },
      as(A),
    );
    expect(read.order.shippingAddress).toEqual({ line1: "200 Pentagon" });
  });

  it("matches the id in any case", async () => {
    books();
    await fill();
    const payload = await checkout({
      idempotencyKey: "saved-case",
      shippingAddressId: HOME.id.toUpperCase(),
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.order?.shippingAddress).toEqual(snapshot(HOME));
  });

  it("refuses another customer's address, an unknown id and a malformed one alike, writing nothing", async () => {
    books();
    await fill();
    const notFound = [
      {
        code: "ADDRESS_NOT_FOUND",
        field: ["input", "shippingAddressId"],
        message: "There is no such address in your address book.",
      },
    ];
    for (const id of [B_HOME.id, randomUUID(), "not-an-address"]) {
      const payload = await checkout({ idempotencyKey: `nf-${id}`, shippingAddressId: id });
      expect(payload).toEqual({ order: null, userErrors: notFound });
    }
    // The malformed id was never sent to users.
    expect(env.usersRequests).toHaveLength(2);
    expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0, keys: 0 });
    expect((await env.carts.get(A)).lines).toHaveLength(1);
    // B can ship to it: it is B's.
    await fill(B);
    expect((await checkout({ idempotencyKey: "b-own", shippingAddressId: B_HOME.id }, B)).userErrors).toEqual(
      [],
    );
  });

  it("refuses an account users does not know (deleted) with ADDRESS_NOT_FOUND", async () => {
    await fill();
    const gone: Deps = {
      ...env.deps,
      users: { findAddressesOf: async () => null },
    };
    const result = await run(
      CHECKOUT,
      { input: { idempotencyKey: "gone", shippingAddressId: HOME.id } },
      { ...as(A), deps: gone },
    );
    expect(result.errors).toBeUndefined();
    expect((result.data as { checkout: CheckoutPayload }).checkout.userErrors.map((e) => e.code)).toEqual([
      "ADDRESS_NOT_FOUND",
    ]);
  });

  it("users itself refuses another customer's address book to a token that is not theirs", async () => {
    books();
    await expect(
      env.deps.users.findAddressesOf(B, { authorization: await env.auth.bearer(A) }),
    ).rejects.toBeInstanceOf(UsersUnavailableError);
    await expect(env.deps.users.findAddressesOf(B, { authorization: undefined })).rejects.toBeInstanceOf(
      UsersUnavailableError,
    );
    expect(await env.deps.users.findAddressesOf(A, { authorization: await env.auth.bearer(A) })).toEqual([
      HOME,
      OFFICE,
    ]);
  });

  it("asks for at most one of shippingAddress and shippingAddressId, and for the cart's without either", async () => {
    books();
    await fill();
    const both = await checkout({
      idempotencyKey: "both",
      shippingAddress: ADDRESS,
      shippingAddressId: HOME.id,
    });
    expect(both.userErrors).toEqual([
      {
        code: "INVALID_SHIPPING_ADDRESS",
        field: ["input"],
        message: "Send either shippingAddress or shippingAddressId, not both.",
      },
    ]);
    const neither = await checkout({ idempotencyKey: "neither" });
    expect(neither.userErrors).toEqual([
      {
        code: "INVALID_SHIPPING_ADDRESS",
        field: ["input"],
        message:
          "Send a shippingAddress or the shippingAddressId of a saved address, or set the cart's (setCartShippingAddress).",
      },
    ]);
    const nulls = await checkout({ idempotencyKey: "nulls", shippingAddress: null, shippingAddressId: null });
    expect(nulls.userErrors.map((e) => e.code)).toEqual(["INVALID_SHIPPING_ADDRESS"]);
    // Reported with the other input problems, before anything is asked of users.
    const many = await checkout({
      idempotencyKey: " ",
      paymentToken: "",
      shippingAddress: ADDRESS,
      shippingAddressId: HOME.id,
    });
    expect(many.userErrors.map((e) => e.code).sort()).toEqual(
      ["INVALID_IDEMPOTENCY_KEY", "INVALID_PAYMENT_TOKEN", "INVALID_SHIPPING_ADDRESS"].sort(),
    );
    expect(env.usersRequests).toEqual([]);
    expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0, keys: 0 });
  });

  it("still takes a full address, as before, without asking users", async () => {
    await fill();
    const payload = await checkout({ idempotencyKey: "full", shippingAddress: ADDRESS });
    expect(payload.userErrors).toEqual([]);
    expect(payload.order?.shippingAddress).toMatchObject({ postalCode: "SW1Y 4JH", countryCode: "GB" });
    expect(env.usersRequests).toEqual([]);
  });

  it("refuses the checkout when users is down: no order, no key, the cart kept", async () => {
    books();
    await fill();
    const down: Deps = {
      ...env.deps,
      users: createUsersClient({
        url: "http://127.0.0.1:9/graphql",
        secrets: { current: TEST_SUBGRAPH_SECRET },
        retries: { attempts: 0, backoffMs: 0 },
        timeoutMs: 1000,
      }),
    };
    const result = await run(
      CHECKOUT,
      { input: { idempotencyKey: "down", shippingAddressId: HOME.id } },
      { ...as(A), deps: down },
    );
    expect(result.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
      ["The address book is unavailable; nothing was ordered.", "INTERNAL_SERVER_ERROR"],
    ]);
    expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0, keys: 0 });
    expect((await env.carts.get(A)).lines).toHaveLength(1);
    // The same key works once users is back.
    const payload = await checkout({ idempotencyKey: "down", shippingAddressId: HOME.id });
    expect(payload.userErrors).toEqual([]);
  });

  it("refuses when users answers with something that is not an address book", async () => {
    books();
    await fill();
    const odd: Deps = {
      ...env.deps,
      users: {
        findAddressesOf: () =>
          Promise.reject(new UsersUnavailableError("The users service answered with errors.")),
      },
    };
    const result = await run(
      CHECKOUT,
      { input: { idempotencyKey: "odd", shippingAddressId: HOME.id } },
      { ...as(A), deps: odd },
    );
    expect(result.errors?.[0]?.message).toBe("The address book is unavailable; nothing was ordered.");
    expect(await rowCounts()).toMatchObject({ orders: 0 });
  });

  it("answers a retry with the same key with the same order, without asking users again", async () => {
    books();
    await fill();
    const first = await checkout({ idempotencyKey: "retry", shippingAddressId: HOME.id });
    expect(first.userErrors).toEqual([]);
    expect(env.usersRequests).toHaveLength(1);
    // The address book changed and users is down: the retry is still the same purchase.
    env.addressBooks.set(A, [{ ...HOME, line1: "Changed" }]);
    const down: Deps = {
      ...env.deps,
      users: { findAddressesOf: () => Promise.reject(new UsersUnavailableError("down")) },
    };
    const again = await run(
      CHECKOUT,
      { input: { idempotencyKey: "retry", shippingAddressId: HOME.id } },
      { ...as(A), deps: down },
    );
    expect(again.errors).toBeUndefined();
    expect((again.data as { checkout: CheckoutPayload }).checkout.order).toEqual(first.order);
    expect(await rowCounts()).toMatchObject({ orders: 1, keys: 1 });
    // Another address with the same key is another purchase.
    for (const input of [{ shippingAddressId: OFFICE.id }, { shippingAddress: ADDRESS }]) {
      const reused = await checkout({ idempotencyKey: "retry", ...input });
      expect(reused.userErrors.map((e) => e.code)).toEqual(["IDEMPOTENCY_KEY_REUSED"]);
    }
    expect(env.usersRequests).toHaveLength(1);
  });
});

describe("verified email before checkout", () => {
  /** A bearer token with or without the `email_verified` claim, signed by the test key. */
  async function bearer(userId: string, emailVerified: boolean | undefined): Promise<string> {
    const signer = await createTokenSigner({
      ...TEST_TOKEN_AUDIENCE,
      privateKeyPem: env.auth.privateKeyPem,
      ttlSeconds: 900,
    });
    const { token } = await signer.sign({
      sub: userId,
      role: "CUSTOMER",
      scopes: ROLE_SCOPES.CUSTOMER,
      ...(emailVerified === undefined ? {} : { emailVerified }),
    });
    return `Bearer ${token}`;
  }

  async function checkoutWith(
    emailVerified: boolean | undefined,
    requireVerifiedEmail: boolean,
    key: string,
  ) {
    const context = await createContext(
      { ...env.deps, requireVerifiedEmail },
      { authorization: await bearer(A, emailVerified) },
    );
    const result = await executeSingle(env.server, context, CHECKOUT, {
      input: { idempotencyKey: key, shippingAddress: ADDRESS },
    });
    expect(result.errors).toBeUndefined();
    return (result.data as { checkout: CheckoutPayload }).checkout;
  }

  const notVerified = [
    {
      code: "EMAIL_NOT_VERIFIED",
      field: null,
      message: "Verify your email address before checking out; if you just did, sign in again.",
    },
  ];

  it("refuses tokens without email_verified: true when required, and writes nothing", async () => {
    await fill();
    expect(await checkoutWith(undefined, true, "v-1")).toEqual({ order: null, userErrors: notVerified });
    expect(await checkoutWith(false, true, "v-2")).toEqual({ order: null, userErrors: notVerified });
    expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0, keys: 0 });
    expect((await env.carts.get(A)).lines).toHaveLength(1);
    const verified = await checkoutWith(true, true, "v-3");
    expect(verified.userErrors).toEqual([]);
    expect(verified.order).not.toBeNull();
  });

  it("lets anyone check out when not required (the default)", async () => {
    await fill();
    expect((await checkoutWith(undefined, false, "nv-1")).userErrors).toEqual([]);
    await fill();
    expect((await checkoutWith(false, false, "nv-2")).userErrors).toEqual([]);
    expect(await rowCounts()).toMatchObject({ orders: 2 });
  });

  it("reads REQUIRE_VERIFIED_EMAIL and USERS_URL", () => {
    const defaults = loadConfig({});
    expect(defaults.requireVerifiedEmail).toBe(false);
    expect(defaults.usersUrl).toBe("http://127.0.0.1:4001/graphql");
    const set = loadConfig({ REQUIRE_VERIFIED_EMAIL: "true", USERS_URL: "https://users.internal/graphql" });
    expect(set.requireVerifiedEmail).toBe(true);
    expect(set.usersUrl).toBe("https://users.internal/graphql");
    expect(() => loadConfig({ REQUIRE_VERIFIED_EMAIL: "perhaps" })).toThrow(/REQUIRE_VERIFIED_EMAIL/);
    expect(() => loadConfig({ USERS_URL: "ftp://users" })).toThrow(/USERS_URL/);
  });
});
