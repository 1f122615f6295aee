/**
 * `pnpm vitest bench --run --project @nexus/insights src/events/backfill.bench.ts`: how fast the
 * consumer applies an import's backfill. A store's year (BENCH_ORDERS orders, default 26,000, of
 * 1 to 40 lines over 3,700 products and 4,300 customers, a quarter of them guests, with returns)
 * is queued as the import queues it: OrderPlaced, OrderConfirmed and OrderDelivered per order at
 * its invoice time, OrderRefunded per return. Then the consumer starts with each concurrency of
 * BENCH_CONCURRENCY (default "4,8,16,32") on a fresh database, and the events per second until
 * the last one is applied are printed, with the roll-ups checked against a rebuild.
 */

import { randomUUID } from "node:crypto";
import { createLogger } from "@nexus/core";
import {
  appendToOutbox,
  createOutboxMigration,
  type EventPayloads,
  type OutboxDatabase,
  startOutboxRelay,
} from "@nexus/events";
import { connectRedis, createPostgresDb } from "@nexus/stores";
import { createTestPostgres, TEST_REDIS_URL, testRedisPrefix, until } from "@nexus/testing";
import { sql } from "kysely";
import { expect, test } from "vitest";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { rebuildRollups } from "../sales/facts.repository.ts";
import { startInsightsConsumer } from "./insights.consumer.ts";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 26_000);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? "4,8,16,32").split(",").map(Number);
const YEAR_START = Date.UTC(2010, 11, 1);

const productId = (n: number) => n.toString(16).padStart(24, "0");

/** The import's events, in the order the relay publishes them (by time). */
function storeYear() {
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  // Popular products sell far more often than the rest, as in any store.
  const product = () => productId(1 + Math.floor(3700 * next() ** 3));
  const customers = Array.from({ length: 4300 }, () => randomUUID());
  const events: {
    type: keyof EventPayloads;
    payload: EventPayloads[keyof EventPayloads];
    at: Date;
    id: string;
  }[] = [];
  const placed: { orderId: string; customerId: string | null; at: number; products: string[] }[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const orderId = randomUUID();
    const customerId = next() < 0.25 ? null : (customers[Math.floor(next() * customers.length)] ?? null);
    const at = YEAR_START + Math.floor(next() * 365 * 24 * 3600) * 1000;
    const lines = Array.from({ length: 1 + Math.floor(next() * 40) }, () => ({
      productId: product(),
      quantity: 1 + Math.floor(next() * 12),
      unitPrice: 50 + Math.floor(next() * 2000),
      productName: "Imported product",
      categoryId: "imported",
    }));
    placed.push({ orderId, customerId, at, products: lines.map((line) => line.productId) });
    const when = new Date(at);
    events.push({
      type: "OrderPlaced",
      id: orderId,
      at: when,
      payload: { orderId, customerId, currencyCode: "GBP", countryCode: "GB", historical: true, lines },
    });
    events.push({ type: "OrderConfirmed", id: orderId, at: when, payload: { orderId } });
    events.push({
      type: "OrderDelivered",
      id: orderId,
      at: when,
      payload: { orderId, customerId: customerId ?? "", productIds: lines.map((line) => line.productId) },
    });
  }
  for (let i = 0; i < Math.round(ORDERS * 0.08); i++) {
    const order = placed[Math.floor(next() * placed.length)];
    if (!order) continue;
    const lines = [{ productId: order.products[0] ?? product(), quantity: 1, unitPrice: 300 }];
    events.push({
      type: "OrderRefunded",
      id: order.orderId,
      at: new Date(order.at + 3 * 24 * 3600 * 1000),
      payload: {
        refundId: randomUUID(),
        orderId: order.orderId,
        customerId: order.customerId,
        currencyCode: "GBP",
        amount: 300,
        lines,
        reason: "returned",
        historical: true,
      },
    });
  }
  return events;
}

test("the consumer applies a store's year of imported events", { timeout: 3_600_000 }, async () => {
  const logger = createLogger("insights-bench", "warn");
  const redis = await connectRedis(TEST_REDIS_URL);
  const events = storeYear();
  const results: { concurrency: number; events: number; seconds: number; eventsPerSecond: number }[] = [];
  try {
    for (const concurrency of CONCURRENCIES) {
      const prefix = testRedisPrefix(`insights-bench-${concurrency}`);
      const producer = await createTestPostgres<OutboxDatabase>("insights_bench_orders", {
        "0001_outbox": createOutboxMigration,
      });
      const pg = await createTestPostgres<Database>("insights_bench", migrations);
      try {
        for (let i = 0; i < events.length; i += 2000) {
          await producer.db.transaction().execute(async (trx) => {
            for (const event of events.slice(i, i + 2000)) {
              await appendToOutbox(trx, event.type, event.id, event.payload, { occurredAt: event.at });
            }
          });
        }
        // Everything queued first, so what is timed is the consumer alone.
        const relay = startOutboxRelay({
          db: producer.db,
          redis,
          prefix,
          logger,
          pollIntervalMs: 60_000,
          batchSize: 500,
        });
        await relay.flush();
        await relay.stop();

        // A connection per worker, as the app's pool has.
        const db = createPostgresDb<Database>(pg.url, { maxConnections: concurrency + 2 });
        const started = performance.now();
        const consumer = startInsightsConsumer({ db, redis, prefix, logger, concurrency });
        try {
          await until(
            "every event applied",
            async () => {
              const { rows } = await sql<{
                n: number;
              }>`SELECT count(*)::int AS n FROM processed_events`.execute(pg.db);
              return rows[0]?.n === events.length ? true : undefined;
            },
            { timeoutMs: 3_000_000, intervalMs: 250 },
          );
        } finally {
          await consumer.stop();
          await db.destroy();
        }
        const seconds = (performance.now() - started) / 1000;
        results.push({
          concurrency,
          events: events.length,
          seconds: Number(seconds.toFixed(1)),
          eventsPerSecond: Math.round(events.length / seconds),
        });
        console.table(results);

        const snapshot = () =>
          sql<{ day: string; revenue: string; orders: number }>`
            SELECT day::text AS day, revenue::text AS revenue, orders FROM daily_sales ORDER BY day`.execute(
            pg.db,
          );
        const incremental = (await snapshot()).rows;
        await rebuildRollups(pg.db);
        expect((await snapshot()).rows).toEqual(incremental);
      } finally {
        // Tens of thousands of jobs: deleted a slice at a time.
        const keys = await redis.keys(`${prefix}:*`);
        for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
        await pg.drop();
        await producer.drop();
      }
    }
  } finally {
    await redis.quit();
  }
});
