import { randomUUID } from "node:crypto";
import { createLogger, createSubgraphMetrics } from "@nexus/core";
import {
  appendToOutbox,
  createOutboxMigration,
  type OutboxDatabase,
  type OutboxRelay,
  startOutboxRelay,
} from "@nexus/events";
import { connectRedis } from "@nexus/stores";
import {
  createTestPostgres,
  deleteRedisKeys,
  TEST_REDIS_URL,
  TEST_SUBGRAPH_SECRET,
  type TestPostgres,
  testRedisPrefix,
  testSubgraphHeaders,
  until,
} from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { DEMO_STOCK } from "./db/demo.ts";
import { registerStockLedgerMetrics } from "./stock/stock.metrics.ts";

/** `/metrics` of a started subgraph: inventory has a pool, an outbox relay and a consumer. */

const METRICS_TOKEN = "scrape-me-please";
const prefix = testRedisPrefix("inventory-metrics");
let app: Awaited<ReturnType<typeof startApp>>;
let target: TestPostgres<OutboxDatabase>;
let producer: TestPostgres<OutboxDatabase>;
let producerRelay: OutboxRelay;
let redis: Awaited<ReturnType<typeof connectRedis>>;

beforeAll(async () => {
  target = await createTestPostgres<OutboxDatabase>("inventory_metrics", {});
  producer = await createTestPostgres<OutboxDatabase>("inventory_metrics_orders", {
    "0001_outbox": createOutboxMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
  const logger = createLogger("inventory-test", "silent");
  producerRelay = startOutboxRelay({ db: producer.db, redis, prefix, logger, pollIntervalMs: 60_000 });
  const config = loadConfig({
    HOST: "127.0.0.1",
    INVENTORY_PORT: "0",
    INVENTORY_DATABASE_URL: target.url,
    REDIS_URL: TEST_REDIS_URL,
    EVENTS_PREFIX: prefix,
    SEED_DEMO_DATA: "true",
    // The app's own relay must not publish the row the outbox gauges are to see.
    OUTBOX_POLL_MS: "60000",
    SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
    METRICS_TOKEN,
  });
  app = await startApp(config, logger);
});

afterAll(async () => {
  await app?.stop();
  await producerRelay?.stop();
  if (redis) {
    await deleteRedisKeys(redis, [prefix]);
    await redis.quit();
  }
  await target?.drop();
  await producer?.drop();
});

const metricsUrl = () => app.url.replace(/\/graphql$/, "/metrics");

async function scrape(): Promise<string> {
  const response = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one series, or undefined when it is not exposed. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function graphql(query: string, operationName?: string): Promise<Response> {
  const body = JSON.stringify({ query, ...(operationName ? { operationName } : {}) });
  return fetch(app.url, { method: "POST", headers: testSubgraphHeaders(body), body });
}

describe("/metrics on a subgraph", () => {
  it("refuses a scrape without the token or with a wrong one, without a subgraph signature check", async () => {
    const missing = await fetch(metricsUrl());
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");
    const wrong = await fetch(metricsUrl(), { headers: { authorization: "Bearer not-the-token" } });
    expect(wrong.status).toBe(401);
    // The right token is enough: no subgraph signature, like /health.
    const right = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(right.status).toBe(200);
    expect(right.headers.get("content-type")).toContain("text/plain");
  });

  it("counts requests by operation, observes their duration and counts error codes", async () => {
    const requests = 'nexus_subgraph_requests_total{service="inventory",operation="Typename",status="200"}';
    const durations =
      'nexus_subgraph_request_duration_seconds_count{service="inventory",operation="Typename"}';
    const errors = 'nexus_subgraph_errors_total{service="inventory",code="GRAPHQL_VALIDATION_FAILED"}';
    const before = await scrape();
    expect(await (await graphql("query Typename { __typename }", "Typename")).json()).toEqual({
      data: { __typename: "Query" },
    });
    await graphql("query Broken { noSuchField }", "Broken");
    const after = await scrape();
    expect(value(after, requests)).toBe((value(before, requests) ?? 0) + 1);
    expect(value(after, durations)).toBe((value(before, durations) ?? 0) + 1);
    expect(value(after, errors)).toBe((value(before, errors) ?? 0) + 1);
    expect(
      value(after, 'nexus_subgraph_requests_total{service="inventory",operation="Broken",status="400"}'),
    ).toBe(1);
    // Process metrics carry the service's prefix; the pool and the queue are reported.
    expect(after).toContain("nexus_inventory_process_cpu_seconds_total");
    expect(
      value(after, 'nexus_subgraph_db_pool_connections{service="inventory",store="db"}'),
    ).toBeGreaterThan(0);
    expect(after).toContain('nexus_subgraph_db_pool_waiting_clients{service="inventory",store="db"} 0');
    expect(after).toContain('nexus_event_queue_jobs{consumer="inventory",state="failed"}');
  });

  it("reports the outbox backlog and the age of its oldest unpublished row", async () => {
    expect(value(await scrape(), 'nexus_outbox_unpublished_events{service="inventory"}')).toBe(0);
    const orderId = randomUUID();
    await app.db
      .transaction()
      .execute((trx) =>
        appendToOutbox(
          trx,
          "InventoryReserved",
          orderId,
          { orderId },
          { occurredAt: new Date(Date.now() - 120_000) },
        ),
      );
    const text = await scrape();
    expect(value(text, 'nexus_outbox_unpublished_events{service="inventory"}')).toBe(1);
    expect(
      value(text, 'nexus_outbox_oldest_unpublished_age_seconds{service="inventory"}'),
    ).toBeGreaterThanOrEqual(119);
  });

  it("observes the lag of an event the consumer applied", async () => {
    const lag = 'nexus_event_lag_seconds_count{consumer="inventory",type="OrderPlaced"}';
    expect(value(await scrape(), lag)).toBeUndefined();
    const [level] = DEMO_STOCK.filter((candidate) => candidate.onHand >= 1);
    const orderId = randomUUID();
    await producer.db.transaction().execute((trx) =>
      appendToOutbox(trx, "OrderPlaced", orderId, {
        orderId,
        customerId: randomUUID(),
        currencyCode: "USD",
        lines: [{ productId: level?.productId ?? "", quantity: 1, unitPrice: 500 }],
      }),
    );
    await producerRelay.flush();
    await until("the consumer to apply OrderPlaced", async () => value(await scrape(), lag) === 1, {
      timeoutMs: 10_000,
    });
    const text = await scrape();
    expect(
      value(text, 'nexus_event_lag_seconds_bucket{le="+Inf",consumer="inventory",type="OrderPlaced"}'),
    ).toBe(1);
  });
});

describe("stock ledger drift", () => {
  const drift = (kind: string) => `nexus_inventory_stock_ledger_drift_products{kind="${kind}"}`;
  const units = (kind: string) => `nexus_inventory_stock_ledger_drift_units{kind="${kind}"}`;

  it("is served at /metrics, 0 for every kind while the seeded books balance", async () => {
    const text = await scrape();
    for (const kind of ["on_hand", "reserved", "reservations"]) {
      expect(value(text, drift(kind))).toBe(0);
      expect(value(text, units(kind))).toBe(0);
    }
  });

  it("counts the products and units whose levels no longer match their ledger or reservations", async () => {
    const metrics = createSubgraphMetrics("inventory");
    const { db } = app;
    registerStockLedgerMetrics(metrics, db, createLogger("inventory-test", "silent"), 0);
    const read = async () => metrics.registry.metrics();
    const [first, second] = DEMO_STOCK.filter((level) => level.onHand >= 3);
    if (!first || !second) throw new Error("the demo stock has too few products with units");
    const before = await read();
    expect(value(before, drift("on_hand"))).toBe(0);
    // Levels changed behind the ledger's back, as a hand-edited row or a bug would.
    await db
      .updateTable("stock_levels")
      .set((eb) => ({ on_hand: eb("on_hand", "+", 3) }))
      .where("product_id", "=", first.productId)
      .execute();
    await db
      .updateTable("stock_levels")
      .set((eb) => ({ on_hand: eb("on_hand", "-", 2), reserved: eb("reserved", "+", 1) }))
      .where("product_id", "=", second.productId)
      .execute();
    try {
      const after = await read();
      expect(value(after, drift("on_hand"))).toBe(2);
      expect(value(after, units("on_hand"))).toBe(5);
      expect(value(after, drift("reserved"))).toBe(1);
      expect(value(after, units("reserved"))).toBe(1);
      // The reserved unit is held by no reservation either.
      expect(value(after, drift("reservations"))).toBe(1);
    } finally {
      await db
        .updateTable("stock_levels")
        .set((eb) => ({ on_hand: eb("on_hand", "-", 3) }))
        .where("product_id", "=", first.productId)
        .execute();
      await db
        .updateTable("stock_levels")
        .set((eb) => ({ on_hand: eb("on_hand", "+", 2), reserved: eb("reserved", "-", 1) }))
        .where("product_id", "=", second.productId)
        .execute();
    }
    expect(value(await read(), drift("on_hand"))).toBe(0);
  });
});
