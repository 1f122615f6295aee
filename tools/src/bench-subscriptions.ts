/**
 * `pnpm bench:subscriptions`: live order tracking at scale on this machine. Starts the whole
 * supergraph in-process, places one order per customer, and opens `SUBSCRIPTIONS` `orderUpdated`
 * subscriptions through the gateway, half over SSE (one HTTP connection each) and half over
 * WebSocket (one connection per customer), `PER_CUSTOMER` per customer so the default per-client
 * bound holds. Then it publishes order update notices on orders' Redis channel, as orders' relay
 * does, and measures notice published -> payload received at the client, each payload being the
 * order with a federated field (`lines { product { name } }`) resolved through the supergraph:
 *
 * - one order at a time: `PER_CUSTOMER` payloads per notice, the latency of a quiet gateway;
 * - bursts: a notice for every order at once, so every subscription gets a payload together;
 * - real status changes: staff ship orders one at a time, and the change travels from the
 *   mutation through its commit, orders' outbox relay, Redis and the gateway to every
 *   subscriber (timed from when the mutation is sent; its own duration is shown beside).
 *
 * Reports p50/p95/max, the process's memory with the subscriptions open, and how long the
 * gateway takes to stop with them all open. Clients, gateway and subgraphs share this one
 * process (and its event loop), so the figures include the clients' own work.
 */
import { randomUUID } from "node:crypto";
import { orderUpdatesChannel } from "@nexus/events";
import { connectRedis, startEmbeddedMongo } from "@nexus/stores";
import { TEST_REDIS_URL, until } from "@nexus/testing";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import { graphqlOk } from "./graphql-client.ts";
import { startStack } from "./stack.ts";

const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 1000);
const PER_CUSTOMER = Number(process.env.BENCH_PER_CUSTOMER ?? 20);
const SINGLE_ROUNDS = Number(process.env.BENCH_SINGLE_ROUNDS ?? 50);
const BURST_ROUNDS = Number(process.env.BENCH_BURST_ROUNDS ?? 5);
const SHIPMENTS = Number(process.env.BENCH_SHIPMENTS ?? 20);
const CUSTOMERS = Math.ceil(SUBSCRIPTIONS / PER_CUSTOMER);
const ADDRESS = {
  name: "Bench",
  line1: "1 Bench Way",
  city: "Berlin",
  postalCode: "10115",
  countryCode: "DE",
};
const FOLLOW =
  "subscription ($id: ID!) { orderUpdated(id: $id) { id status lines { quantity product { name } } } }";

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const summary = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(1)} ms, p95 ${percentile(values, 95).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms (n=${values.length})`;
const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const mongo = await startEmbeddedMongo();
const stack = await startStack({ mongoUrl: mongo.url, env: { OUTBOX_POLL_MS: "100" } });
const publisher = await connectRedis(TEST_REDIS_URL);
const closers: (() => Promise<void> | void)[] = [];
let stopped = false;
let stopping = false;
try {
  const { products } = await graphqlOk<{ products: { edges: { node: { id: string } }[] } }>(
    stack.endpoint,
    "{ products(first: 5) { edges { node { id } } } }",
  );
  const productIds = products.edges.map((edge) => edge.node.id);

  // One order per customer, each left CONFIRMED (not final, so every subscription stays open).
  const customers = await Promise.all(
    Array.from({ length: CUSTOMERS }, async (_, i) => {
      const userId = randomUUID();
      const bearer = await stack.auth.bearer(userId);
      const auth = { authorization: bearer };
      await graphqlOk(
        stack.endpoint,
        "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }",
        { input: { productId: productIds[i % productIds.length], quantity: 1 } },
        auth,
      );
      const { checkout } = await graphqlOk<{ checkout: { order: { id: string } } }>(
        stack.endpoint,
        "mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } } }",
        { input: { idempotencyKey: randomUUID(), shippingAddress: ADDRESS } },
        auth,
      );
      return { userId, bearer, orderId: checkout.order.id };
    }),
  );
  await until(
    "every order to be CONFIRMED",
    async () => {
      const statuses = await Promise.all(
        customers.map(async ({ bearer, orderId }) => {
          const { order } = await graphqlOk<{ order: { status: string } }>(
            stack.endpoint,
            "query ($id: ID!) { order(id: $id) { status } }",
            { id: orderId },
            { authorization: bearer },
          );
          return order.status;
        }),
      );
      return statuses.every((status) => status === "CONFIRMED") || undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );

  // Payloads received per order since `expected` was set, and when the round's notice went out.
  const received = new Map<string, number>();
  const publishedAt = new Map<string, number>();
  const latencies: number[] = [];
  let firstPayloads = 0;
  const shippedAt = new Map<string, number>();
  const shipLatencies: number[] = [];
  const onPayload = (orderId: string, status: string | undefined) => {
    const shipped = shippedAt.get(orderId);
    if (status === "SHIPPED" && shipped !== undefined) {
      shipLatencies.push(performance.now() - shipped);
      received.set(orderId, (received.get(orderId) ?? 0) + 1);
      return;
    }
    const sent = publishedAt.get(orderId);
    if (sent === undefined) {
      firstPayloads += 1;
      return;
    }
    latencies.push(performance.now() - sent);
    received.set(orderId, (received.get(orderId) ?? 0) + 1);
  };
  const sink = (orderId: string) => ({
    next: (payload: { errors?: unknown; data?: { orderUpdated?: { status?: string } | null } | null }) => {
      if (payload.errors) throw new Error(`payload with errors: ${JSON.stringify(payload.errors)}`);
      onPayload(orderId, payload.data?.orderUpdated?.status);
    },
    // Stopping the stack drops every connection: clients see that as an error, expected then.
    error: (error: unknown) => {
      if (!stopping) console.error("subscription error", error);
    },
    complete: () => {},
  });

  global.gc?.();
  const memoryBefore = process.memoryUsage();
  const opening = performance.now();
  const sseCount = Math.floor(PER_CUSTOMER / 2);
  let open = 0;
  for (const { bearer, orderId } of customers) {
    const ws = createWsClient({
      url: stack.endpoint.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: bearer },
      retryAttempts: 0,
    });
    closers.push(() => ws.dispose());
    for (let i = 0; i < PER_CUSTOMER && open < SUBSCRIPTIONS; i += 1, open += 1) {
      if (i < sseCount) {
        const sse = createSseClient({
          url: `${stack.endpoint}/stream`,
          headers: { authorization: bearer },
          retryAttempts: 0,
        });
        closers.push(() => sse.dispose());
        closers.push(sse.subscribe({ query: FOLLOW, variables: { id: orderId } }, sink(orderId)));
      } else {
        closers.push(ws.subscribe({ query: FOLLOW, variables: { id: orderId } }, sink(orderId)));
      }
    }
  }
  await until("every subscription's first payload", () => firstPayloads === open || undefined, {
    timeoutMs: 120_000,
    intervalMs: 50,
  });
  const openedMs = performance.now() - opening;
  global.gc?.();
  const memoryOpen = process.memoryUsage();

  const channel = orderUpdatesChannel(stack.eventsPrefix);
  const subscribersOf = new Map<string, number>();
  for (let i = 0; i < open; i += 1) {
    const orderId = customers[Math.floor(i / PER_CUSTOMER)]?.orderId ?? "";
    subscribersOf.set(orderId, (subscribersOf.get(orderId) ?? 0) + 1);
  }
  const notify = async (targets: typeof customers) => {
    received.clear();
    const pipeline = publisher.pipeline();
    const now = performance.now();
    for (const { userId, orderId } of targets) {
      publishedAt.set(orderId, now);
      const notice = {
        orderId,
        userId,
        status: "CONFIRMED",
        at: new Date().toISOString(),
        eventId: randomUUID(),
      };
      pipeline.publish(channel, JSON.stringify(notice));
    }
    await pipeline.exec();
    await until(
      "every payload of the round",
      () =>
        targets.every(({ orderId }) => (received.get(orderId) ?? 0) >= (subscribersOf.get(orderId) ?? 0)) ||
        undefined,
      { timeoutMs: 60_000, intervalMs: 5 },
    );
  };

  for (let round = 0; round < SINGLE_ROUNDS; round += 1) {
    const customer = customers[round % customers.length];
    if (customer) await notify([customer]);
  }
  const single = latencies.splice(0);
  for (let round = 0; round < BURST_ROUNDS; round += 1) await notify(customers);
  const burst = latencies.splice(0);

  // Real status changes: staff ship each of SHIPMENTS orders, one at a time; from the mutation's
  // answer (the change committed) through orders' relay, Redis and the gateway to every payload.
  const mutationMs: number[] = [];
  const admin = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
  for (const { orderId } of customers.slice(0, SHIPMENTS)) {
    received.clear();
    publishedAt.delete(orderId);
    // From before the request: a payload may arrive before the mutation's answer does.
    const sent = performance.now();
    shippedAt.set(orderId, sent);
    const { shipOrder } = await graphqlOk<{ shipOrder: { userErrors: unknown[] } }>(
      stack.endpoint,
      "mutation ($input: ShipOrderInput!) { shipOrder(input: $input) { userErrors { code message } } }",
      { input: { orderId, carrier: "Bench", trackingNumber: "BENCH-1" } },
      admin,
    );
    if (shipOrder.userErrors.length > 0) throw new Error(JSON.stringify(shipOrder.userErrors));
    mutationMs.push(performance.now() - sent);
    await until(
      "every payload of the shipment",
      () => (received.get(orderId) ?? 0) >= (subscribersOf.get(orderId) ?? 0) || undefined,
      { timeoutMs: 60_000, intervalMs: 5 },
    );
  }

  stopping = true;
  const stopStarted = performance.now();
  await stack.stop();
  stopped = true;
  const stopMs = performance.now() - stopStarted;

  console.log(
    `subscriptions: ${open} open (${customers.length} customers x ${PER_CUSTOMER}: ${sseCount} SSE, ${PER_CUSTOMER - sseCount} WebSocket each), opened with their first payload in ${(openedMs / 1000).toFixed(1)} s`,
  );
  console.log(`one order at a time (${PER_CUSTOMER} payloads per notice): ${summary(single)}`);
  console.log(`bursts (a notice for every order at once, ${open} payloads per burst): ${summary(burst)}`);
  console.log(
    `real status changes (staff ship an order, ${PER_CUSTOMER} payloads each), shipOrder sent -> payload: ${summary(shipLatencies)}; the mutation itself took ${summary(mutationMs)}`,
  );
  console.log(
    `memory with the subscriptions open: rss ${megabytes(memoryOpen.rss)} (before ${megabytes(memoryBefore.rss)}), heap ${megabytes(memoryOpen.heapUsed)} (before ${megabytes(memoryBefore.heapUsed)})`,
  );
  console.log(`the whole stack stopped with every subscription open in ${(stopMs / 1000).toFixed(1)} s`);
} finally {
  for (const close of closers) await close();
  publisher.disconnect();
  if (!stopped) await stack.stop();
  await mongo.stop();
}
