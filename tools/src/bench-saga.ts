/**
 * `pnpm bench:saga`: measures the order saga end to end on this machine. Starts the whole
 * supergraph in-process (fresh databases, embedded MongoDB), then customers fill a cart and
 * check out through the gateway, `CONCURRENCY` at a time, until `ORDERS` orders are placed.
 * Reports checkouts per second from the first checkout to the last CONFIRMED, place -> CONFIRMED
 * latency, and event lag (outbox commit -> the consumer's effect committed) for OrderPlaced
 * (orders -> inventory) and InventoryReserved (inventory -> orders). Timestamps come from the
 * one PostgreSQL server all subgraphs use, so they share a clock.
 */
import { randomUUID } from "node:crypto";
import type { AddressInput } from "@nexus/core";
import { createPostgresDb, startEmbeddedMongo } from "@nexus/stores";
import { until } from "@nexus/testing";
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

  const placed: string[] = [];
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < ORDERS) {
      const n = next++;
      const auth = { authorization: await stack.auth.bearer(randomUUID()) };
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
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
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
} finally {
  await inventoryDb.destroy();
  await ordersDb.destroy();
  await stack.stop();
  await mongo.stop();
}
