/**
 * `pnpm bench:saga [--orders N] [--concurrency N] [--products N] [--rate N] [--processes]`:
 * measures the order saga end to end on this machine. Starts the whole supergraph (fresh
 * databases, embedded MongoDB) in this process, or with `--processes` a process per service as
 * deployed, so the services do not share one event loop; stocks `--products` catalogue
 * products (10: every order on a few hot products; 1000: a uniform catalogue), then customers
 * fill a cart with two of them and check out through the gateway until `--orders` orders are
 * placed:
 * - closed loop (default): `--concurrency` customers, each checking out again as soon as its
 *   previous checkout answered;
 * - open loop (`--rate R`): a checkout starts every 1/R s whether or not earlier ones answered,
 *   from a pool of `--concurrency` customers (an arrival with no customer free waits for one).
 * Reports checkouts per second from the first checkout to the last CONFIRMED, place -> CONFIRMED
 * latency, and event lag (outbox commit -> the consumer's effect committed) for OrderPlaced
 * (orders -> inventory) and InventoryReserved (inventory -> orders). Then it checks the books:
 * every order final, no product oversold, stock levels equal to their ledger, one reservation
 * row per order line and at most one capture per order. Then the emails: from each order's
 * OrderStatusChanged CONFIRMED committed to notifications' SMTP server accepting its email, and
 * how many more emails a replay of every one of those events sends (it must be 0).
 * Timestamps come from the one PostgreSQL server all subgraphs use, so they share a clock. The
 * CPU time per confirmed checkout is that of the whole stack, or of each service's process.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { AddressInput } from "@nexus/core";
import { type EventEnvelope, queueName } from "@nexus/events";
import { connectRedis, createPostgresDb, startEmbeddedMongo } from "@nexus/stores";
import { TEST_REDIS_URL, until } from "@nexus/testing";
import { Queue } from "bullmq";
import { type Kysely, sql } from "kysely";
import { graphqlOk } from "./graphql-client.ts";
import { startStack } from "./stack.ts";

const { values: options } = parseArgs({
  options: {
    orders: { type: "string", default: process.env.BENCH_ORDERS ?? "300" },
    concurrency: { type: "string", default: process.env.BENCH_CONCURRENCY },
    products: { type: "string", default: "10" },
    rate: { type: "string" },
    processes: { type: "boolean", default: false },
  },
});
const positive = (name: string, value: string | undefined, fallback: number) => {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number`);
  return n;
};
const ORDERS = positive("orders", options.orders, 300);
const RATE = options.rate === undefined ? null : positive("rate", options.rate, 1);
// Open loop needs enough customers that arrivals seldom wait for one to be free.
const CONCURRENCY = positive("concurrency", options.concurrency, RATE === null ? 20 : 100);
const PRODUCTS = positive("products", options.products, 10);
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const mongo = await startEmbeddedMongo();
const stack = await startStack({
  mongoUrl: mongo.url,
  env: { OUTBOX_POLL_MS: "100" },
  processes: options.processes,
});
const inventoryDb = createPostgresDb<Record<string, never>>(stack.databases.inventory);
const ordersDb = createPostgresDb<Record<string, never>>(stack.databases.orders);
const notificationsDb = createPostgresDb<Record<string, never>>(stack.databases.notifications);
try {
  const admin = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
  const ids = await stockProducts(PRODUCTS, admin);

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
  /** Fills the customer's cart with two products and checks out; the order's id, if placed. */
  const placeOrder = async (n: number, auth: { authorization: string }) => {
    // Products n and n + 3 of the list: two lines, or one when there are fewer than four products.
    const lines = new Set([ids[n % ids.length], ids[(n + 3) % ids.length]]);
    for (const productId of lines) {
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
  };
  const cpuBefore = await cpuTimes();
  const started = Date.now();
  let late = 0;
  const failures: string[] = [];
  if (RATE === null) {
    let next = 0;
    const worker = async (auth: { authorization: string }) => {
      while (next < ORDERS) await placeOrder(next++, auth);
    };
    await Promise.all(customers.map(worker));
  } else {
    // Open loop: arrivals follow the clock, not the answers; a customer serves one at a time.
    const free = [...customers];
    const waiting: ((auth: { authorization: string }) => void)[] = [];
    const release = (auth: { authorization: string }) => {
      const take = waiting.shift();
      if (take) take(auth);
      else free.push(auth);
    };
    const arrivals: Promise<void>[] = [];
    for (let n = 0; n < ORDERS; n++) {
      const due = started + (n * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      else if (wait < -100) late++;
      const customer = free.pop();
      const auth = customer ?? (await new Promise<{ authorization: string }>((take) => waiting.push(take)));
      // An overloaded stack times requests out: counted and reported, not the end of the run.
      arrivals.push(
        placeOrder(n, auth)
          .catch((error: unknown) => {
            failures.push(error instanceof Error ? error.message : String(error));
          })
          .finally(() => release(auth)),
      );
    }
    await Promise.all(arrivals);
  }
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
  const cpuAfter = await cpuTimes();
  const lastConfirmed = Math.max(...confirmed.map((row) => row.confirmed_at.getTime()));
  const seconds = (lastConfirmed - started) / 1000;

  const placedLag = await eventLags(ordersDb, inventoryDb, "OrderPlaced");
  const reservedLag = await eventLags(inventoryDb, ordersDb, "InventoryReserved");
  const mode = RATE === null ? `closed loop, concurrency ${CONCURRENCY}` : `open loop at ${RATE}/s`;
  console.log(
    `orders placed: ${placed.length}, confirmed: ${confirmed.length} (${mode}, ${ids.length} products)`,
  );
  if (RATE !== null) {
    const offered = placed.length / ((checkoutsDone - started) / 1000);
    console.log(
      `  offered ${RATE}/s, achieved ${offered.toFixed(1)} checkouts/s; ${late} arrivals started over 100 ms late`,
    );
    if (failures.length > 0) console.log(`  ${failures.length} checkouts failed, first: ${failures[0]}`);
  }
  console.log(
    `checkouts/s end to end (first checkout -> last CONFIRMED): ${(confirmed.length / seconds).toFixed(1)}` +
      ` over ${seconds.toFixed(1)} s; checkout requests alone took ${((checkoutsDone - started) / 1000).toFixed(1)} s`,
  );
  const cpu = [...cpuAfter].map(
    ([name, ms]) => [name, (ms - (cpuBefore.get(name) ?? 0)) / confirmed.length] as const,
  );
  console.log(
    `CPU per confirmed checkout: ${cpu
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`)
      .join(", ")}; all ${cpu.reduce((sum, [, ms]) => sum + ms, 0).toFixed(1)} ms`,
  );
  console.log(`place -> CONFIRMED: ${summary(confirmed.map((row) => Number(row.latency)))}`);
  console.log(`event lag OrderPlaced (orders -> inventory): ${summary(placedLag)}`);
  console.log(`event lag InventoryReserved (inventory -> orders): ${summary(reservedLag)}`);
  console.log(`event lag, both: ${summary([...placedLag, ...reservedLag])}`);
  const problems = await checkBooks();
  if (problems.length > 0) {
    process.exitCode = 1;
    for (const problem of problems) console.log(`BOOKS DO NOT BALANCE: ${problem}`);
  } else {
    console.log(
      "books: every order final, no oversell, levels = ledger = live reservations, one reservation per line, one capture per order",
    );
  }
  await measureEmails();
} finally {
  await inventoryDb.destroy();
  await ordersDb.destroy();
  await notificationsDb.destroy();
  await stack.stop();
  await mongo.stop();
}

/**
 * CPU time (user + system) so far of this process and, with `--processes`, of each service's,
 * in milliseconds; PostgreSQL, Redis and MongoDB are not counted.
 */
async function cpuTimes(): Promise<Map<string, number>> {
  const own = process.cpuUsage();
  const times = new Map([
    [options.processes ? "bench (mail catcher, clients)" : "whole stack", (own.user + own.system) / 1000],
  ]);
  for (const [name, pid] of Object.entries(stack.pids)) {
    // /proc/<pid>/stat: utime and stime are fields 14 and 15, in clock ticks (USER_HZ, 100 on Linux).
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    times.set(name, (Number(fields[11]) + Number(fields[12])) * 10);
  }
  return times;
}

/**
 * The first `count` ACTIVE products, each with enough stock that every order is confirmed: this
 * measures the happy path. Stock is received through the admin API, so the ledger records it.
 */
async function stockProducts(count: number, admin: { authorization: string }): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  while (ids.length < count) {
    const page: {
      products: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
    } = await graphqlOk(
      stack.endpoint,
      "query ($first: Int!, $after: String) { products(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }",
      { first: Math.min(100, count - ids.length), after },
    );
    ids.push(...page.products.edges.map((edge) => edge.node.id));
    if (!page.products.pageInfo.hasNextPage) break;
    after = page.products.pageInfo.endCursor;
  }
  if (ids.length < count) throw new Error(`--products ${count}: the catalogue has only ${ids.length}`);
  let next = 0;
  const stockOne = async () => {
    while (next < ids.length) {
      const productId = ids[next++];
      await graphqlOk(
        stack.endpoint,
        "mutation ($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { code } } }",
        { input: { productId, delta: 1_000_000, reason: "benchmark stock" } },
        admin,
      );
    }
  };
  await Promise.all(Array.from({ length: 10 }, stockOne));
  return ids;
}

/** What the saga's guarantees say must hold once it has settled; each breach, described. */
async function checkBooks(): Promise<string[]> {
  const problems: string[] = [];
  const { rows: open } = await sql<{ status: string; n: number }>`
    SELECT status, count(*)::int AS n FROM orders
    WHERE status NOT IN ('CONFIRMED', 'REJECTED') GROUP BY status`.execute(ordersDb);
  for (const row of open) problems.push(`${row.n} orders are ${row.status}`);
  const { rows: ledger } = await sql<{ product_id: string }>`
    SELECT s.product_id FROM stock_levels s
    LEFT JOIN (SELECT product_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
               FROM stock_movements GROUP BY product_id) m USING (product_id)
    LEFT JOIN (SELECT product_id, sum(quantity - shipped) AS held FROM reservations
               WHERE status IN ('RESERVED', 'CONFIRMED') GROUP BY product_id) r USING (product_id)
    WHERE s.reserved > s.on_hand OR s.on_hand <> coalesce(m.on_hand, 0)
       OR s.reserved <> coalesce(m.reserved, 0) OR s.reserved <> coalesce(r.held, 0)`.execute(inventoryDb);
  for (const row of ledger)
    problems.push(`product ${row.product_id}: levels, ledger and reservations differ`);
  const { rows: lines } = await sql<{ order_id: string; product_id: string }>`
    SELECT l.order_id, l.product_id FROM order_lines l JOIN orders o ON o.id = l.order_id
    WHERE o.status = 'CONFIRMED'`.execute(ordersDb);
  const { rows: reserved } = await sql<{ order_id: string; product_id: string; movements: number }>`
    SELECT r.order_id, r.product_id,
      (SELECT count(*)::int FROM stock_movements m WHERE m.order_id = r.order_id
         AND m.product_id = r.product_id AND m.reason = 'RESERVATION') AS movements
    FROM reservations r`.execute(inventoryDb);
  const key = (row: { order_id: string; product_id: string }) => `${row.order_id}/${row.product_id}`;
  const reservedKeys = new Map(reserved.map((row) => [key(row), row.movements]));
  const unreserved = lines.filter((line) => !reservedKeys.has(key(line))).length;
  if (unreserved > 0) problems.push(`${unreserved} lines of confirmed orders have no reservation`);
  const twice = reserved.filter((row) => row.movements !== 1).length;
  if (twice > 0) problems.push(`${twice} reservations have other than one RESERVATION movement`);
  const { rows: payments } = await sql<{ order_id: string }>`
    SELECT order_id FROM payments GROUP BY order_id HAVING count(*) > 1`.execute(ordersDb);
  if (payments.length > 0) problems.push(`${payments.length} orders have more than one payment`);
  const redis = await connectRedis(TEST_REDIS_URL);
  try {
    const charges = (await redis.lrange(`${stack.eventsPrefix}:payments:test:charges`, 0, -1)).map(
      (entry) => JSON.parse(entry) as { kind: string; idempotencyKey: string },
    );
    const captures = charges.filter((charge) => charge.kind === "capture");
    if (new Set(captures.map((charge) => charge.idempotencyKey)).size !== captures.length) {
      problems.push("an order was captured twice");
    }
    const confirmedOrders = new Set(lines.map((line) => line.order_id)).size;
    if (captures.length !== confirmedOrders) {
      problems.push(`${captures.length} captures for ${confirmedOrders} confirmed orders`);
    }
  } finally {
    await redis.quit();
  }
  return problems;
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
  // The mail catcher accepts a message before it has parsed it, so a SENT row can precede its
  // message there: count from the moment the catcher holds every email sent so far.
  const { rows: sent } = await sql<{ count: number }>`
    SELECT count(*)::int AS count FROM deliveries WHERE channel = 'EMAIL' AND status = 'SENT'`.execute(
    notificationsDb,
  );
  const before = await until("the mail catcher holds every sent email", () => {
    const held = stack.mail.messages().length;
    return held >= (sent[0]?.count ?? 0) ? held : undefined;
  });
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
