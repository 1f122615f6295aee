/**
 * `pnpm bench:saga`: measures the order saga end to end on this machine. Starts the whole
 * supergraph in-process (fresh databases, embedded MongoDB), then customers fill a cart and
 * check out through the gateway, `CONCURRENCY` at a time, until `ORDERS` orders are placed.
 * Reports checkouts per second from the first checkout to the last CONFIRMED, place -> CONFIRMED
 * latency, and event lag (outbox commit -> the consumer's effect committed) for OrderPlaced
 * (orders -> inventory) and InventoryReserved (inventory -> orders). Then the emails: from each
 * order's OrderStatusChanged CONFIRMED committed to notifications' SMTP server accepting its
 * email, and how many more emails a replay of every one of those events sends (it must be 0).
 * Timestamps come from the one PostgreSQL server all subgraphs use, so they share a clock.
 */
import { randomUUID } from "node:crypto";
import type { AddressInput } from "@nexus/core";
import { type EventEnvelope, queueName } from "@nexus/events";
import { connectRedis, createPostgresDb, startEmbeddedMongo } from "@nexus/stores";
import { TEST_REDIS_URL, until } from "@nexus/testing";
import { Queue } from "bullmq";
import { type Kysely, sql } from "kysely";
import { graphqlOk } from "./graphql-client.ts";
import { startStack } from "./stack.ts";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const ADDRESS: AddressInput = {
  name: "Bench",
  line1: "1 Bench Way",
  city: "Berlin",
  postalCode: "10115",
  countryCode: "DE",
};

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const summary = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(0)} ms, p95 ${percentile(values, 95).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms (n=${values.length})`;

/** Milliseconds from each outbox row's commit to its consumer's processed_events row. */
async function eventLags(
  producer: Kysely<Record<string, never>>,
  consumer: Kysely<Record<string, never>>,
  type: string,
) {
  const { rows: events } = await sql<{ id: string; at: Date }>`
    SELECT id, occurred_at AS at FROM outbox WHERE type = ${type}`.execute(producer);
  const { rows: processed } = await sql<{ id: string; at: Date }>`
    SELECT event_id AS id, processed_at AS at FROM processed_events WHERE event_type = ${type}`.execute(
    consumer,
  );
  const done = new Map(processed.map((row) => [row.id, row.at.getTime()]));
  return events.flatMap((event) => {
    const at = done.get(event.id);
    return at === undefined ? [] : [at - event.at.getTime()];
  });
}

const mongo = await startEmbeddedMongo();
const stack = await startStack({ mongoUrl: mongo.url, env: { OUTBOX_POLL_MS: "100" } });
const inventoryDb = createPostgresDb<Record<string, never>>(stack.databases.inventory);
const ordersDb = createPostgresDb<Record<string, never>>(stack.databases.orders);
const notificationsDb = createPostgresDb<Record<string, never>>(stack.databases.notifications);
try {
  const { products } = await graphqlOk<{ products: { edges: { node: { id: string } }[] } }>(
    stack.endpoint,
    "{ products(first: 10) { edges { node { id } } } }",
  );
  const ids = products.edges.map((edge) => edge.node.id);
  // Enough stock that every order is confirmed: this measures the happy path.
  const admin = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
  for (const productId of ids) {
    await graphqlOk(
      stack.endpoint,
      "mutation ($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { code } } }",
      { input: { productId, delta: 1_000_000, reason: "benchmark stock" } },
      admin,
    );
  }

  // One registered customer per worker, so notifications knows whom to write to (UserRegistered).
  const customers: { authorization: string }[] = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    const { register } = await graphqlOk<{ register: { accessToken: string } }>(
      stack.endpoint,
      "mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }",
      {
        input: {
          email: `bench-${i}-${randomUUID().slice(0, 8)}@example.test`,
          password: "bench-password-1",
          name: "Bench",
        },
      },
    );
    customers.push({ authorization: `Bearer ${register.accessToken}` });
  }

  const placed: string[] = [];
  let next = 0;
  const started = Date.now();
  const worker = async (auth: { authorization: string }) => {
    while (next < ORDERS) {
      const n = next++;
      for (const productId of [ids[n % ids.length], ids[(n + 3) % ids.length]]) {
        await graphqlOk(
          stack.endpoint,
          "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }",
          { input: { productId, quantity: 1 } },
          auth,
        );
      }
      const { checkout } = await graphqlOk<{ checkout: { order: { id: string } | null } }>(
        stack.endpoint,
        "mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } } }",
        { input: { idempotencyKey: randomUUID(), shippingAddress: ADDRESS } },
        auth,
      );
      if (checkout.order) placed.push(checkout.order.id);
    }
  };
  await Promise.all(customers.map(worker));
  const checkoutsDone = Date.now();

  await until(
    "every order to leave PENDING",
    async () => {
      const { rows } = await sql<{ pending: number }>`
        SELECT count(*)::int AS pending FROM orders WHERE status = 'PENDING'`.execute(ordersDb);
      return (rows[0]?.pending ?? 1) === 0 ? true : undefined;
    },
    // Polled often, so the measured end is close to the real one; a saga stuck for ten minutes is a failure.
    { timeoutMs: 600_000, intervalMs: 50 },
  );
  const { rows: confirmed } = await sql<{ latency: number; confirmed_at: Date }>`
    SELECT extract(epoch FROM c.at - o.placed_at) * 1000 AS latency, c.at AS confirmed_at
    FROM orders o JOIN order_status_changes c ON c.order_id = o.id AND c.status = 'CONFIRMED'`.execute(
    ordersDb,
  );
  const lastConfirmed = Math.max(...confirmed.map((row) => row.confirmed_at.getTime()));
  const seconds = (lastConfirmed - started) / 1000;

  const placedLag = await eventLags(ordersDb, inventoryDb, "OrderPlaced");
  const reservedLag = await eventLags(inventoryDb, ordersDb, "InventoryReserved");
  console.log(`orders placed: ${placed.length}, confirmed: ${confirmed.length} (concurrency ${CONCURRENCY})`);
  console.log(
    `checkouts/s end to end (first checkout -> last CONFIRMED): ${(confirmed.length / seconds).toFixed(1)}` +
      ` over ${seconds.toFixed(1)} s; checkout requests alone took ${((checkoutsDone - started) / 1000).toFixed(1)} s`,
  );
  console.log(`place -> CONFIRMED: ${summary(confirmed.map((row) => Number(row.latency)))}`);
  console.log(`event lag OrderPlaced (orders -> inventory): ${summary(placedLag)}`);
  console.log(`event lag InventoryReserved (inventory -> orders): ${summary(reservedLag)}`);
  console.log(`event lag, both: ${summary([...placedLag, ...reservedLag])}`);
  await measureEmails();
} finally {
  await inventoryDb.destroy();
  await ordersDb.destroy();
  await notificationsDb.destroy();
  await stack.stop();
  await mongo.stop();
}

/** Events -> email latency for the orders' confirmations, then a replay of all of them. */
async function measureEmails(): Promise<void> {
  const { rows: events } = await sql<{
    id: string;
    type: string;
    aggregate_id: string;
    payload: unknown;
    at: Date;
  }>`
    SELECT id, type, aggregate_id, payload, occurred_at AS at FROM outbox
    WHERE type = 'OrderStatusChanged' AND payload->>'status' = 'CONFIRMED'`.execute(ordersDb);
  if (events.length === 0) {
    console.log("events -> email: orders published no OrderStatusChanged CONFIRMED, nothing to measure");
    return;
  }
  const settled = async () => {
    const { rows } = await sql<{ id: string; status: string; created_at: Date; sent_at: Date | null }>`
      SELECT event_id AS id, status, created_at, sent_at FROM deliveries
      WHERE message_type = 'ORDER_CONFIRMED' AND channel = 'EMAIL'`.execute(notificationsDb);
    return rows.length >= events.length && rows.every((row) => row.status !== "QUEUED") ? rows : undefined;
  };
  const deliveries = await until("every order-confirmed email settled", settled, {
    timeoutMs: 300_000,
    intervalMs: 50,
  });
  const sentAt = new Map(deliveries.flatMap((row) => (row.sent_at ? [[row.id, row.sent_at.getTime()]] : [])));
  const latencies = events.flatMap((event) => {
    const at = sentAt.get(event.id);
    return at === undefined ? [] : [at - event.at.getTime()];
  });
  const notSent = deliveries.filter((row) => row.status !== "SENT").length;
  console.log(
    `events -> email (OrderStatusChanged CONFIRMED committed -> SMTP accepted): ${summary(latencies)}`,
  );
  // Where the time goes: the consumer (event -> delivery row committed) or the sender (row -> sent).
  const queuedAt = new Map(deliveries.map((row) => [row.id, row.created_at.getTime()]));
  const consumed = events.flatMap((event) => {
    const at = queuedAt.get(event.id);
    return at === undefined ? [] : [at - event.at.getTime()];
  });
  const sending = deliveries.flatMap((row) =>
    row.sent_at ? [row.sent_at.getTime() - row.created_at.getTime()] : [],
  );
  console.log(`  of which event -> delivery queued: ${summary(consumed)}`);
  console.log(`  of which queued -> SMTP accepted: ${summary(sending)}`);
  if (notSent > 0) console.log(`  ${notSent} order-confirmed emails not sent (SKIPPED or FAILED)`);

  // Every one of those events delivered again, as new jobs: notifications must send nothing more.
  const before = stack.mail.messages().length;
  const redis = await connectRedis(TEST_REDIS_URL);
  const queue = new Queue<EventEnvelope>(queueName("notifications"), {
    connection: redis,
    prefix: stack.eventsPrefix,
  });
  try {
    await queue.addBulk(
      events.map((event) => ({
        name: event.type,
        data: {
          id: event.id,
          type: "OrderStatusChanged",
          aggregateId: event.aggregate_id,
          occurredAt: event.at.toISOString(),
          payload: event.payload,
        } as EventEnvelope,
        opts: { jobId: `${event.id}-replay` },
      })),
    );
    await until("the replayed events consumed", async () => {
      const counts = await queue.getJobCounts("waiting", "active", "delayed");
      return (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) === 0;
    });
    // Longer than the sender's poll, so anything a replay had queued would have gone out.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    console.log(
      `emails sent again after a replay of ${events.length} events: ${stack.mail.messages().length - before}`,
    );
  } finally {
    await queue.close();
    await redis.quit();
  }
}
