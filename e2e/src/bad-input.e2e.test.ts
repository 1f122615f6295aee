/**
 * Bad input is a client error that changes nothing, through the gateway and at each subgraph
 * called directly: text the text rule refuses (packages/core/src/input-text.ts), crafted
 * cursors, requests that select no operation or a subscription, and APQ requests that
 * contradict themselves. Never HTTP 500, never INTERNAL_SERVER_ERROR.
 */
import { createHash, randomUUID } from "node:crypto";
import { encodeCursor, subgraphAuthHeaders } from "@nexus/core";
import { type GraphQLResult, graphql, graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, type SubgraphName, startStack } from "@nexus/tools/stack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let stack: Stack;
let admin: { authorization: string };
let productId: string;

const ADDRESS = { name: "Ada", line1: "1 Test Way", city: "Berlin", postalCode: "10115", countryCode: "DE" };

beforeAll(async () => {
  stack = await startStack({ mongoUrl: inject("mongoUrl") });
  admin = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
  const { products } = await graphqlOk<{ products: { edges: { node: { id: string } }[] } }>(
    stack.endpoint,
    "{ products(first: 1) { edges { node { id } } } }",
  );
  productId = products.edges[0]?.node.id ?? "";
  const { setStock } = await graphqlOk<{ setStock: { userErrors: unknown[] } }>(
    stack.endpoint,
    "mutation ($input: SetStockInput!) { setStock(input: $input) { userErrors { code } } }",
    { input: { productId, onHand: 50, reason: "e2e" } },
    admin,
  );
  expect(setStock.userErrors).toEqual([]);
});
afterAll(() => stack?.stop());

/** Subgraphs answer only the gateway: direct calls are signed with the stack's secret. */
const signedAsGateway = () => ({ current: stack.subgraphSecret });

type Result = { status: number; body: GraphQLResult<Record<string, unknown>> };

/** A client error naming `field`: HTTP 400 and BAD_USER_INPUT, or at least no server error. */
function expectRefused(result: Result, field: string) {
  expect(result.status, JSON.stringify(result.body)).toBe(400);
  expect(result.body.data ?? undefined).toBeUndefined();
  expect(result.body.errors).toHaveLength(1);
  expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
  expect(JSON.stringify(result.body)).not.toContain("INTERNAL_SERVER_ERROR");
}

/** The same operation through the gateway and straight to the subgraph that owns it. */
async function bothWays(
  subgraph: SubgraphName,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Result[]> {
  return [
    await graphql(stack.endpoint, query, variables, headers),
    await graphql(stack.subgraphUrls[subgraph], query, variables, headers, signedAsGateway()),
  ];
}

async function register(name = "Ada"): Promise<{ authorization: string; email: string }> {
  const email = `${randomUUID()}@example.com`;
  const { register } = await graphqlOk<{ register: { accessToken: string } }>(
    stack.endpoint,
    "mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }",
    { input: { email, password: "correct horse battery", name } },
  );
  return { authorization: `Bearer ${register.accessToken}`, email };
}

const me = async (headers: Record<string, string>) =>
  (
    await graphqlOk<{ me: { name: string; addresses: unknown[] } }>(
      stack.endpoint,
      "{ me { name addresses { id } } }",
      {},
      headers,
    )
  ).me;

const NUL = "\u0000";

describe("text with control characters", () => {
  it("login: the email", async () => {
    const { email } = await register();
    for (const result of await bothWays("users", LOGIN, {
      input: { email: `${email}${NUL}`, password: "correct horse battery" },
    })) {
      expectRefused(result, "input.email");
    }
  });

  it("register: the name; no account is created", async () => {
    const email = `${randomUUID()}@example.com`;
    for (const name of [`Ada${NUL}`, "Ada\u001b[2J", "Ada\u0085", "Ada\ud800"]) {
      for (const result of await bothWays("users", REGISTER, {
        input: { email, password: "correct horse battery", name },
      })) {
        expectRefused(result, "input.name");
      }
    }
    const login = await graphql<{ login: { userErrors: { code: string }[] } }>(stack.endpoint, LOGIN, {
      input: { email, password: "correct horse battery" },
    });
    expect(login.body.data?.login.userErrors.map((error) => error.code)).toEqual(["INVALID_CREDENTIALS"]);
  });

  it("addAddress and updateProfile: nothing is added or changed", async () => {
    const customer = await register("Ada");
    const headers = { authorization: customer.authorization };
    for (const result of await bothWays(
      "users",
      "mutation ($input: AddAddressInput!) { addAddress(input: $input) { userErrors { code } } }",
      { input: { address: { ...ADDRESS, line2: `Flat 2${NUL}` } } },
      headers,
    )) {
      expectRefused(result, "input.address.line2");
    }
    for (const result of await bothWays(
      "users",
      "mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { userErrors { code } } }",
      { input: { name: `Eve${NUL}` } },
      headers,
    )) {
      expectRefused(result, "input.name");
    }
    expect(await me(headers)).toEqual({ name: "Ada", addresses: [] });
  });

  it("admin users(search:)", async () => {
    for (const result of await bothWays(
      "users",
      "query ($search: String) { users(search: $search) { totalCount } }",
      { search: NUL },
      admin,
    )) {
      expectRefused(result, "search");
    }
  });

  it("checkout: the shipping address; no order is placed and the cart stays", async () => {
    const headers = { authorization: (await register()).authorization };
    await graphqlOk(
      stack.endpoint,
      "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }",
      { input: { productId, quantity: 1 } },
      headers,
    );
    for (const result of await bothWays(
      "orders",
      CHECKOUT,
      { input: { idempotencyKey: randomUUID(), shippingAddress: { ...ADDRESS, city: `Ber${NUL}lin` } } },
      headers,
    )) {
      expectRefused(result, "input.shippingAddress.city");
    }
    const { cart } = await graphqlOk<{ cart: { lines: unknown[] } }>(
      stack.endpoint,
      "{ cart { lines { quantity } } }",
      {},
      headers,
    );
    expect(cart.lines).toEqual([{ quantity: 1 }]);
    expect(await orderCount(headers)).toBe(0);
  });

  it("cancelOrder: the reason; the order is not cancelled", async () => {
    const headers = { authorization: await stack.auth.bearer(randomUUID()) };
    await graphqlOk(
      stack.endpoint,
      "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }",
      { input: { productId, quantity: 1 } },
      headers,
    );
    const { checkout } = await graphqlOk<{ checkout: { order: { id: string } } }>(
      stack.endpoint,
      CHECKOUT,
      { input: { idempotencyKey: randomUUID(), shippingAddress: ADDRESS } },
      headers,
    );
    for (const result of await bothWays(
      "orders",
      "mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { userErrors { code } } }",
      { input: { orderId: checkout.order.id, reason: `changed my mind${NUL}` } },
      headers,
    )) {
      expectRefused(result, "input.reason");
    }
    const { order } = await graphqlOk<{ order: { status: string } }>(
      stack.endpoint,
      "query ($id: ID!) { order(id: $id) { status } }",
      { id: checkout.order.id },
      headers,
    );
    expect(order.status).not.toBe("CANCELLED");
  });

  it("adjustStock: the reason; stock is unchanged", async () => {
    for (const result of await bothWays(
      "inventory",
      "mutation ($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { code } } }",
      { input: { productId, delta: 5, reason: `received${NUL}` } },
      admin,
    )) {
      expectRefused(result, "input.reason");
    }
    const { _entities } = await graphqlOk<{ _entities: { inventory: { onHand: number } }[] }>(
      stack.subgraphUrls.inventory,
      "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { inventory { onHand } } } }",
      { r: [{ __typename: "Product", id: productId }] },
      admin,
      signedAsGateway(),
    );
    expect(_entities[0]?.inventory.onHand).toBe(50);
  });

  it("multi-line text still passes", async () => {
    const customer = await register("Ada");
    const { updateProfile } = await graphqlOk<{ updateProfile: { user: { name: string } } }>(
      stack.endpoint,
      "mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { name } } }",
      { input: { name: "Ada Lovelace — Gräfin" } },
      { authorization: customer.authorization },
    );
    expect(updateProfile.user.name).toBe("Ada Lovelace — Gräfin");
  });
});

describe("crafted cursors", () => {
  const uuid = "00000000-0000-4000-8000-000000000000";
  const objectId = "0123456789abcdef01234567";

  it("me.orders: dates JavaScript reads and PostgreSQL does not, or no date at all", async () => {
    const headers = { authorization: (await register()).authorization };
    for (const placedAt of [
      "-100000-01-01T00:00:00.000Z",
      "+275760-09-13T00:00:00.000Z",
      "0000-01-01T00:00:00.000Z",
      "2026-02-30T00:00:00.000Z",
      "2026-01-01",
      1e300,
    ]) {
      const after = encodeCursor([placedAt, uuid]);
      const result = await graphql<Record<string, unknown>>(
        stack.endpoint,
        "query ($after: String) { me { orders(first: 5, after: $after) { totalCount } } }",
        { after },
        headers,
      );
      expectCursorRefused(result, String(placedAt));
    }
  });

  it("users and partnerClients: impossible timestamps", async () => {
    for (const createdAt of [
      "2026-13-45 25:61:61+00",
      "2026-02-30 10:00:00+00",
      "0000-01-01 00:00:00+00",
      "2026-01-01 10:00:00+99",
    ]) {
      for (const field of ["users", "partnerClients"]) {
        for (const result of await bothWays(
          "users",
          `query ($after: String) { ${field}(after: $after) { totalCount } }`,
          { after: encodeCursor([createdAt, uuid]) },
          admin,
        )) {
          expectCursorRefused(result, `${field} ${createdAt}`);
        }
      }
    }
  });

  it("lowStockProducts: a fraction, a huge number, a product id that is not one", async () => {
    for (const position of [
      [1.5, objectId],
      [1e300, objectId],
      [2 ** 53, objectId],
      [3, `${objectId}${NUL}`],
      [3, "x".repeat(24)],
    ]) {
      for (const result of await bothWays(
        "inventory",
        "query ($after: String) { lowStockProducts(after: $after) { totalCount } }",
        { after: encodeCursor(position) },
        admin,
      )) {
        expectCursorRefused(result, JSON.stringify(position));
      }
    }
  });

  it("failedEvents: offsets no page has", async () => {
    for (const position of [1e300, 2 ** 53, -5, 0.5]) {
      for (const result of await bothWays(
        "insights",
        "query ($after: String) { failedEvents(consumer: INVENTORY, after: $after) { totalCount } }",
        { after: encodeCursor([position]) },
        admin,
      )) {
        expectCursorRefused(result, String(position));
      }
    }
  });

  it("a cursor that is no cursor at all", async () => {
    for (const after of ["", "%%%", "x".repeat(5000), Buffer.from("[]").toString("base64url")]) {
      const result = await graphql<Record<string, unknown>>(
        stack.endpoint,
        "query ($after: String) { users(after: $after) { totalCount } }",
        { after },
        admin,
      );
      expectCursorRefused(result, after.slice(0, 10));
    }
  });
});

/** Cursors are checked in resolvers: the field is null with BAD_USER_INPUT at its path. */
function expectCursorRefused(result: Result, label: string) {
  const errors = result.body.errors ?? [];
  expect(
    errors.map((error) => error.extensions?.code),
    label,
  ).toEqual(["BAD_USER_INPUT"]);
  expect(errors[0]?.message, label).toBe("after is not a cursor returned by this field.");
  expect(result.status, label).toBeLessThan(500);
}

describe("requests that select no operation", () => {
  const post = async (url: string, request: unknown) => {
    const body = JSON.stringify(request);
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(url === stack.endpoint ? {} : subgraphAuthHeaders(signedAsGateway(), body)),
      },
      body,
    });
    return { status: response.status, body: (await response.json()) as GraphQLResult<unknown> };
  };
  const everywhere = () => [stack.endpoint, ...Object.values(stack.subgraphUrls)];

  it("an operationName the document does not have, or none for several operations, is HTTP 400", async () => {
    for (const url of everywhere()) {
      const unknown = await post(url, { query: "query A { __typename }", operationName: "B" });
      expect(unknown.status, url).toBe(400);
      expect(unknown.body.errors?.[0]?.message, url).toBe('Unknown operation named "B".');
      const ambiguous = await post(url, { query: "query A { __typename } query B { __typename }" });
      expect(ambiguous.status, url).toBe(400);
      expect(ambiguous.body.errors?.[0]?.message, url).toBe(
        "Must provide operation name if query contains multiple operations.",
      );
    }
  });

  it("a subscription is HTTP 400: at the gateway it belongs on its transports, and subgraphs serve none", async () => {
    const atGateway = await post(stack.endpoint, { query: "subscription { myOrderUpdates { id } }" });
    expect(atGateway.status).toBe(400);
    expect(atGateway.body.errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
    for (const url of Object.values(stack.subgraphUrls)) {
      const result = await post(url, { query: "subscription { __typename }" });
      expect(result.status, url).toBe(400);
      expect(result.body.errors?.[0]?.extensions?.code, url).toBe("GRAPHQL_VALIDATION_FAILED");
    }
  });

  it("APQ: a hash that does not match the query, or an unknown version, is HTTP 400", async () => {
    const query = "{ __typename }";
    const sha256Hash = createHash("sha256").update(query).digest("hex");
    const mismatch = await post(stack.endpoint, {
      query,
      extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } },
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors?.[0]?.message).toBe("provided sha does not match query");
    expect(mismatch.body.errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
    const version = await post(stack.endpoint, {
      query,
      extensions: { persistedQuery: { version: 2, sha256Hash } },
    });
    expect(version.status).toBe(400);
    expect(version.body.errors?.[0]?.message).toBe("Unsupported persisted query version");
    expect(version.body.errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
    // Registered with neither: an id alone is still unknown, Apollo's signal to send the text.
    const unknown = await post(stack.endpoint, {
      extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } },
    });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
  });
});

const LOGIN = "mutation ($input: LoginInput!) { login(input: $input) { userErrors { code } } }";
const REGISTER = "mutation ($input: RegisterInput!) { register(input: $input) { userErrors { code } } }";
const CHECKOUT =
  "mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } userErrors { code message } } }";

async function orderCount(headers: Record<string, string>): Promise<number> {
  const { me } = await graphqlOk<{ me: { orders: { totalCount: number } } }>(
    stack.endpoint,
    "{ me { orders { totalCount } } }",
    {},
    headers,
  );
  return me.orders.totalCount;
}
