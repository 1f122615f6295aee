/**
 * Live order tracking through the gateway: a signed-in customer checks out and follows the order
 * to CONFIRMED over GraphQL over SSE and over WebSocket, with federated fields (catalog's product
 * name, inventory's stock) in each payload; what the gateway refuses; and a client that
 * subscribes again gets the current state first.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig as loadGatewayConfig, startGateway } from "@nexus/gateway";
import { connectRedis } from "@nexus/stores";
import { rawId, TEST_REDIS_URL, until } from "@nexus/testing";
import { graphql, graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { DEMO_PARTNER } from "@nexus/users/demo";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";

let stack: Stack;
let productId = "";
const MAX_PER_CLIENT = 3;

const ADDRESS = {
  name: "Live Tracker",
  line1: "1 Test Way",
  city: "Berlin",
  postalCode: "10115",
  countryCode: "DE",
};

const FOLLOW = `subscription Follow($id: ID!) {
  orderUpdated(id: $id) { id status lines { quantity product { name inventory { available } } } }
}`;
const MINE = "subscription Mine { myOrderUpdates { id status lines { product { name } } } }";

interface OrderPayload {
  id: string;
  status: string;
  lines: { quantity?: number; product: { name: string; inventory?: { available: number } } | null }[];
}
interface Received {
  data?: Record<string, OrderPayload | null> | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

beforeAll(async () => {
  stack = await startStack({
    mongoUrl: inject("mongoUrl"),
    env: { OUTBOX_POLL_MS: "100", MAX_SUBSCRIPTIONS_PER_CLIENT: String(MAX_PER_CLIENT) },
  });
  const { products } = await graphqlOk<{ products: { edges: { node: { id: string } }[] } }>(
    stack.endpoint,
    "{ products(first: 1) { edges { node { id } } } }",
  );
  productId = products.edges[0]?.node.id ?? "";
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const sseUrl = () => `${stack.endpoint}/stream`;
const wsUrl = () => stack.endpoint.replace(/^http/, "ws");

/** Follows one subscription over SSE, collecting payloads until `stop` says so or the stream ends. */
async function overSse(
  bearer: string | null,
  query: string,
  variables: Record<string, unknown>,
  stop: (payload: Received) => boolean = () => false,
): Promise<{ payloads: Received[]; completed: boolean }> {
  const client = createSseClient({
    url: sseUrl(),
    headers: bearer ? { authorization: bearer } : {},
    retryAttempts: 0,
  });
  const payloads: Received[] = [];
  const iterator = client.iterate({ query, variables });
  try {
    for await (const payload of iterator) {
      payloads.push(payload as Received);
      if (stop(payload as Received)) return { payloads, completed: false };
    }
    return { payloads, completed: true };
  } finally {
    await iterator.return?.();
    client.dispose();
  }
}

/** The same over WebSocket, the token in `connectionParams` as a browser sends it. */
async function overWs(
  bearer: string,
  query: string,
  variables: Record<string, unknown>,
  stop: (payload: Received) => boolean = () => false,
): Promise<{ payloads: Received[]; completed: boolean }> {
  const client = createWsClient({
    url: wsUrl(),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: bearer },
    retryAttempts: 0,
    lazy: true,
  });
  const payloads: Received[] = [];
  const iterator = client.iterate({ query, variables });
  try {
    for await (const payload of iterator) {
      payloads.push(payload as Received);
      if (stop(payload as Received)) return { payloads, completed: false };
    }
    return { payloads, completed: true };
  } finally {
    await iterator.return?.();
    await client.dispose();
  }
}

async function customer(): Promise<string> {
  return stack.auth.bearer(randomUUID());
}

async function checkout(bearer: string): Promise<string> {
  const auth = { authorization: bearer };
  const { addToCart } = await graphqlOk<{ addToCart: { userErrors: unknown[] } }>(
    stack.endpoint,
    "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code message } } }",
    { input: { productId, quantity: 1 } },
    auth,
  );
  expect(addToCart.userErrors).toEqual([]);
  const { checkout } = await graphqlOk<{ checkout: { order: { id: string } | null; userErrors: unknown[] } }>(
    stack.endpoint,
    "mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } userErrors { code message } } }",
    { input: { idempotencyKey: randomUUID(), shippingAddress: ADDRESS } },
    auth,
  );
  expect(checkout.userErrors).toEqual([]);
  return checkout.order?.id ?? "";
}

const statusIn = (payload: Received, key = "orderUpdated") => payload.data?.[key]?.status;
const codes = (payload: Received | undefined) => (payload?.errors ?? []).map((e) => e.extensions?.code);

/**
 * `myOrderUpdates` sends nothing at subscribe time, so a test cannot tell when the gateway starts
 * listening: the PENDING of a checkout right after subscribing may come before it does.
 */
function expectChanges(payloads: Received[], orderId: string) {
  const statuses = payloads.map((p) => statusIn(p, "myOrderUpdates"));
  expect([["PENDING", "CONFIRMED"], ["CONFIRMED"]]).toContainEqual(statuses);
  for (const payload of payloads) expect(payload.data?.myOrderUpdates?.id).toBe(orderId);
}

describe("order subscriptions through the gateway", () => {
  it("follows a checkout to CONFIRMED over SSE, federated fields included, and completes when cancelled", async () => {
    const bearer = await customer();
    // Subscribed before the checkout: every status change of the customer's orders arrives.
    const mine = overSse(bearer, MINE, {}, (p) => statusIn(p, "myOrderUpdates") === "CONFIRMED");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const orderId = await checkout(bearer);

    const followed = await overSse(bearer, FOLLOW, { id: orderId }, (p) => statusIn(p) === "CONFIRMED");
    const first = followed.payloads[0];
    expect(first?.errors).toBeUndefined();
    // The current state first: PENDING, or CONFIRMED when the saga was quicker than the subscription.
    expect(["PENDING", "CONFIRMED"]).toContain(statusIn(first ?? {}));
    const last = followed.payloads.at(-1)?.data?.orderUpdated;
    expect(last?.id).toBe(orderId);
    expect(last?.status).toBe("CONFIRMED");
    expect(last?.lines[0]?.product?.name).toEqual(expect.any(String));
    expect(last?.lines[0]?.product?.inventory?.available).toEqual(expect.any(Number));

    const mineResult = await mine;
    expectChanges(mineResult.payloads, orderId);
    expect(mineResult.payloads[1]?.data?.myOrderUpdates?.lines[0]?.product?.name).toEqual(expect.any(String));

    // A final status completes the subscription: the stream ends by itself.
    let subscribed = false;
    const untilEnd = overSse(bearer, FOLLOW, { id: orderId }, () => {
      subscribed = true;
      return false;
    });
    await until("the subscription's first payload", () => subscribed || undefined);
    const { cancelOrder } = await graphqlOk<{ cancelOrder: { userErrors: unknown[] } }>(
      stack.endpoint,
      "mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { userErrors { code } } }",
      { input: { orderId, reason: "changed my mind" } },
      { authorization: bearer },
    );
    expect(cancelOrder.userErrors).toEqual([]);
    const ended = await untilEnd;
    expect(ended.completed).toBe(true);
    expect(ended.payloads.map((p) => statusIn(p))).toEqual(["CONFIRMED", "CANCELLED"]);
  });

  it("follows a checkout to CONFIRMED over WebSocket", async () => {
    const bearer = await customer();
    const mine = overWs(bearer, MINE, {}, (p) => statusIn(p, "myOrderUpdates") === "CONFIRMED");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const orderId = await checkout(bearer);
    const followed = await overWs(bearer, FOLLOW, { id: orderId }, (p) => statusIn(p) === "CONFIRMED");
    expect(followed.payloads[0]?.errors).toBeUndefined();
    const last = followed.payloads.at(-1)?.data?.orderUpdated;
    expect(last).toMatchObject({ id: orderId, status: "CONFIRMED" });
    expect(last?.lines[0]?.product?.name).toEqual(expect.any(String));
    expectChanges((await mine).payloads, orderId);
  });

  it("a gateway that stops drops its subscriptions without completing them; on another replica the current state comes first", async () => {
    const replica = await startGateway(loadGatewayConfig({ ...stack.gatewayEnv }));
    let stopped = false;
    try {
      const bearer = await customer();
      const orderId = await checkout(bearer);
      await overSse(bearer, FOLLOW, { id: orderId }, (p) => statusIn(p) === "CONFIRMED");

      const sse = createSseClient({
        url: `${replica.url}/stream`,
        headers: { authorization: bearer },
        retryAttempts: 0,
      });
      const ws = createWsClient({
        url: replica.url.replace(/^http/, "ws"),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: bearer },
        retryAttempts: 0,
      });
      const ends: Record<string, string> = {};
      const seen: string[] = [];
      const sink = (name: string) => ({
        next: (payload: Received) => {
          seen.push(`${name}:${statusIn(payload)}`);
        },
        error: (error: unknown) => {
          ends[name] = error instanceof Error ? "error" : `close ${(error as { code?: number }).code}`;
        },
        complete: () => {
          ends[name] = "complete";
        },
      });
      sse.subscribe({ query: FOLLOW, variables: { id: orderId } }, sink("sse"));
      ws.subscribe({ query: FOLLOW, variables: { id: orderId } }, sink("ws"));
      await until("both subscriptions to be open", () => seen.length === 2 || undefined);
      expect(seen.sort()).toEqual(["sse:CONFIRMED", "ws:CONFIRMED"]);

      await replica.stop();
      stopped = true;
      // Neither is told the subscription is over: both clients would subscribe again.
      await until("both clients to notice", () => Object.keys(ends).length === 2 || undefined);
      expect(ends).toEqual({ sse: "error", ws: "close 1001" });
      sse.dispose();
      await ws.dispose();

      // Subscribing again, here to the other replica, starts with the current state.
      const again = await overWs(bearer, FOLLOW, { id: orderId }, () => true);
      expect(statusIn(again.payloads[0] ?? {})).toBe("CONFIRMED");
    } finally {
      if (!stopped) await replica.stop();
    }
  });

  it("reads every followed order again after the gateway lost Redis, so a missed notice is made up for", async () => {
    const bearer = await customer();
    const orderId = await checkout(bearer);
    await overSse(bearer, FOLLOW, { id: orderId }, (p) => statusIn(p) === "CONFIRMED");
    let opened = false;
    const followed = overWs(bearer, FOLLOW, { id: orderId }, (p) => {
      opened = true;
      return statusIn(p) === "SHIPPED";
    });
    await until("the subscription to be open", () => opened || undefined);
    // A change whose notice never comes, as when it was published while the gateway was away.
    await stack.ordersDb
      .updateTable("orders")
      .set({ status: "SHIPPED" })
      .where("id", "=", rawId(orderId))
      .execute();
    // Only this stack's listener: its connection is named after the stack's own channel.
    const redis = await connectRedis(TEST_REDIS_URL);
    try {
      const name = `nexus-gateway:${stack.eventsPrefix}:orders:updates`;
      const clients = String(await redis.call("CLIENT", "LIST", "TYPE", "pubsub"))
        .split("\n")
        .filter((line) => line.includes(` name=${name} `));
      expect(clients).toHaveLength(1);
      const id = clients[0]?.match(/^id=(\d+)/)?.[1] ?? "";
      await redis.call("CLIENT", "KILL", "ID", id);
    } finally {
      redis.disconnect();
    }
    const { payloads } = await followed;
    expect(payloads.map((p) => statusIn(p))).toEqual(["CONFIRMED", "SHIPPED"]);
  });

  it("gives a client that subscribes again the current state first", async () => {
    const bearer = await customer();
    const orderId = await checkout(bearer);
    await overSse(bearer, FOLLOW, { id: orderId }, (p) => statusIn(p) === "CONFIRMED");
    // Reconnecting (after a gateway restart or a dropped connection): the first payload is now.
    const again = await overWs(bearer, FOLLOW, { id: orderId }, () => true);
    expect(statusIn(again.payloads[0] ?? {})).toBe("CONFIRMED");
  });

  it("lets staff follow any order; refuses another customer's order, anonymous viewers and subscriptions over POST /graphql", async () => {
    const owner = await customer();
    const orderId = await checkout(owner);

    // Staff (orders:read:any) may follow any order, as they may read it.
    const staff = await overWs(
      await stack.auth.bearer(randomUUID(), "ADMIN"),
      FOLLOW,
      { id: orderId },
      () => true,
    );
    expect(staff.payloads[0]?.data?.orderUpdated?.id).toBe(orderId);

    const stranger = await overSse(await customer(), FOLLOW, { id: orderId });
    expect(stranger.completed).toBe(true);
    expect(stranger.payloads).toHaveLength(1);
    expect(stranger.payloads[0]?.data?.orderUpdated).toBeNull();
    expect(codes(stranger.payloads[0])).toEqual(["NOT_FOUND"]);

    const strangerWs = await overWs(await customer(), FOLLOW, { id: orderId });
    expect(codes(strangerWs.payloads[0])).toEqual(["NOT_FOUND"]);

    const anonymous = await overSse(null, FOLLOW, { id: orderId });
    expect(codes(anonymous.payloads[0])).toEqual(["UNAUTHENTICATED"]);

    const overPost = await graphql(stack.endpoint, FOLLOW, { id: orderId }, { authorization: owner });
    expect(overPost.status).toBe(400);
    expect(overPost.body.errors?.[0]?.message).toMatch(/\/graphql\/stream/);

    // Queries are not served over the subscription transports.
    const query = await overSse(owner, "query ($id: ID!) { order(id: $id) { id } }", { id: orderId });
    expect(codes(query.payloads[0])).toEqual(["BAD_REQUEST"]);

    // A bad token never opens a stream.
    await expect(overSse("Bearer not-a-token", FOLLOW, { id: orderId })).rejects.toThrow(/401/);
  });

  it("applies partners' persisted-operation rules: by id only, and only what the manifest holds", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nexus-subscription-manifests-"));
    const id = createHash("sha256").update(FOLLOW).digest("hex");
    await mkdir(join(dir, DEMO_PARTNER.name));
    await writeFile(
      join(dir, DEMO_PARTNER.name, "persisted-query-manifest.json"),
      JSON.stringify({
        format: "apollo-persisted-query-manifest",
        version: 1,
        operations: [{ id, name: "Follow", type: "subscription", body: FOLLOW }],
      }),
    );
    const replica = await startGateway(
      loadGatewayConfig({ ...stack.gatewayEnv, PERSISTED_OPERATIONS_DIR: dir }),
    );
    try {
      const orderId = await checkout(await customer());
      const asPartner = async (body: Record<string, unknown>) => {
        const response = await fetch(`${replica.url}/stream`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "text/event-stream",
            "x-api-key": DEMO_PARTNER.apiKey,
          },
          body: JSON.stringify({ variables: { id: orderId }, ...body }),
        });
        expect(response.status).toBe(200);
        const text = await response.text();
        const next = text.split("\n").find((line) => line.startsWith("data: {"));
        return JSON.parse(next?.slice("data: ".length) ?? "{}") as Received;
      };
      // The text of a registered operation, and any other text, are refused as on POST /graphql.
      expect(codes(await asPartner({ query: FOLLOW }))).toEqual(["PERSISTED_QUERY_ID_REQUIRED"]);
      expect(codes(await asPartner({ query: MINE }))).toEqual(["QUERY_NOT_IN_SAFELIST"]);
      // By id (the protocol wants a query string: empty), the subscription runs: the partner
      // placed no such order, so it ends as `order(id)` would answer it, NOT_FOUND.
      const byId = await asPartner({
        query: "",
        extensions: { persistedQuery: { version: 1, sha256Hash: id } },
      });
      expect(codes(byId)).toEqual(["NOT_FOUND"]);
    } finally {
      await replica.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("bounds the subscriptions one client holds open", async () => {
    const bearer = await customer();
    const orderId = await checkout(bearer);
    const opened = new Set<number>();
    const holding = Array.from({ length: MAX_PER_CLIENT }, (_, i) =>
      overWs(bearer, FOLLOW, { id: orderId }, () => {
        opened.add(i);
        return false;
      }),
    );
    // All of them are open once each has had its first payload (PENDING may be followed by CONFIRMED).
    await until("every held subscription to be open", () => opened.size === MAX_PER_CLIENT || undefined);
    const metrics = await (await fetch(stack.endpoint.replace(/\/graphql$/, "/metrics"))).text();
    expect(metrics).toMatch(new RegExp(`^nexus_gateway_open_subscriptions ${MAX_PER_CLIENT}$`, "m"));
    const refused = await overSse(bearer, FOLLOW, { id: orderId });
    expect(codes(refused.payloads[0])).toEqual(["TOO_MANY_SUBSCRIPTIONS"]);
    expect(refused.completed).toBe(true);

    // Cancelling completes the held ones, which frees the client's slots.
    await graphqlOk(
      stack.endpoint,
      "mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { userErrors { code } } }",
      { input: { orderId } },
      { authorization: bearer },
    );
    for (const done of holding) expect((await done).completed).toBe(true);
    const afterwards = await overSse(bearer, FOLLOW, { id: orderId });
    expect(statusIn(afterwards.payloads[0] ?? {})).toBe("CANCELLED");
  });
});
