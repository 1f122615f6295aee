import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  appendToOutbox,
  createOutboxMigration,
  type EventEnvelope,
  type OutboxDatabase,
} from "@nexus/events";
import { connectRedis } from "@nexus/stores";
import {
  createTestPostgres,
  deleteRedisKeys,
  TEST_REDIS_URL,
  type TestPostgres,
  testRedisPrefix,
  until,
} from "@nexus/testing";
import { type CrashChild, killCrashChildren, startCrashChild } from "@nexus/testing/crash-child";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { findLedgerMismatches, insertInitialStock } from "../stock/stock.repository.ts";

/**
 * Crash safety under load: a stream of two-line orders on three hot products, more than their
 * stock covers, goes through a relay process and a consumer process (crash.child.ts, 16 jobs
 * at once), and each is SIGKILLed mid-stream, then restarted: the consumer by a failpoint
 * before the commit of its BATCH-th batch (so a batch is surely in flight), the relay once
 * half the orders are out. Once everything settled, every order has exactly one decision,
 * nothing is oversold, and the levels, the ledger and the reservations agree.
 */

const CHILD = fileURLToPath(new URL("./crash.child.ts", import.meta.url));
const PRODUCTS = ["0000000000000000000000d1", "0000000000000000000000d2", "0000000000000000000000d3"];
const ORDERS = 240;
const UNITS = 60;
const BATCH = 12;
let inventory: TestPostgres<Database>;
let producer: TestPostgres<OutboxDatabase>;
let redis: Awaited<ReturnType<typeof connectRedis>>;
let stream: Promise<void> | undefined;
const prefix = testRedisPrefix("inventory-crash-load");

beforeAll(async () => {
  inventory = await createTestPostgres<Database>("inventory_crash_load", migrations);
  producer = await createTestPostgres<OutboxDatabase>("inventory_crash_load_orders", {
    "0001_outbox": createOutboxMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
  await insertInitialStock(
    inventory.db,
    PRODUCTS.map((productId) => ({ productId, onHand: UNITS })),
  );
});

afterAll(async () => {
  killCrashChildren();
  // A failed assertion leaves the stream writing: let it end before its database goes.
  await stream?.catch(() => undefined);
  if (redis) {
    await deleteRedisKeys(redis, [prefix]);
    await redis.quit();
  }
  await inventory?.drop();
  await producer?.drop();
});

/** Starts a relay or consumer process and waits until it is running. */
function startChild(role: "relay" | "consumer", failpoint = ""): Promise<CrashChild> {
  return startCrashChild(CHILD, [role], {
    REDIS_URL: TEST_REDIS_URL,
    EVENTS_PREFIX: prefix,
    CRASH_PRODUCER_DATABASE_URL: producer.url,
    CRASH_INVENTORY_DATABASE_URL: inventory.url,
    CRASH_CONSUMER_CONCURRENCY: "16",
    NEXUS_FAILPOINT: failpoint,
  });
}

const count = async (
  db: TestPostgres<Database>["db"] | TestPostgres<OutboxDatabase>["db"],
  query: string,
) => {
  const { rows } = await sql<{ n: number }>`${sql.raw(query)}`.execute(db);
  return rows[0]?.n ?? 0;
};

/** Order n takes one unit of two of the three products, so orders overlap in both lock orders. */
const linesOf = (n: number) => [
  { productId: PRODUCTS[n % 3] ?? "", quantity: 1, unitPrice: 1500 },
  { productId: PRODUCTS[(n + 1 + (n % 2)) % 3] ?? "", quantity: 1, unitPrice: 900 },
];

describe("relay and consumer SIGKILLed mid-stream", () => {
  it("decides every order once, oversells nothing and keeps the books balanced", async () => {
    let relay = await startChild("relay");
    let consumer = await startChild("consumer", `consumer.before-commit@${BATCH}`);
    const placed: EventEnvelope<"OrderPlaced">[] = [];
    // The stream: ten orders a transaction, a few milliseconds apart, as checkouts commit.
    stream = (async () => {
      for (let n = 0; n < ORDERS; n += 10) {
        await producer.db.transaction().execute(async (trx) => {
          for (let i = n; i < n + 10; i++) {
            const orderId = randomUUID();
            placed.push(
              await appendToOutbox(trx, "OrderPlaced", orderId, {
                orderId,
                customerId: randomUUID(),
                currencyCode: "USD",
                lines: linesOf(i),
              }),
            );
          }
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    expect(await consumer.exited).toBe("SIGKILL");
    // Killed mid-batch, after some batches committed: the jobs it had taken are still active,
    // under locks nobody renews now.
    expect(
      await count(inventory.db, "SELECT count(*)::int AS n FROM processed_events"),
    ).toBeGreaterThanOrEqual(BATCH - 1);
    expect(await redis.llen(`${prefix}:events.inventory:active`)).toBeGreaterThan(0);
    await until(
      "half of the orders published",
      async () =>
        (await count(producer.db, "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NOT NULL")) >=
        ORDERS / 2,
      { timeoutMs: 15_000, intervalMs: 10 },
    );
    await relay.kill();
    consumer = await startChild("consumer");
    relay = await startChild("relay");
    await stream;

    await until(
      "every order applied",
      async () => (await count(inventory.db, "SELECT count(*)::int AS n FROM processed_events")) === ORDERS,
      { timeoutMs: 15_000 },
    );
    await until(
      "every order published",
      async () =>
        (await count(producer.db, "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL")) === 0,
    );

    // One decision per order, and nothing else decided.
    const { rows: decisions } = await sql<{ aggregate_id: string; type: string }>`
      SELECT aggregate_id, type FROM outbox
      WHERE type IN ('InventoryReserved', 'InventoryRejected')`.execute(inventory.db);
    expect(decisions).toHaveLength(ORDERS);
    expect(new Set(decisions.map((row) => row.aggregate_id))).toEqual(
      new Set(placed.map((event) => event.payload.orderId)),
    );
    const reserved = decisions
      .filter((row) => row.type === "InventoryReserved")
      .map((row) => row.aggregate_id);
    // Demand is twice the stock: some orders were refused, and the rest were all reserved.
    expect(reserved.length).toBeGreaterThan(0);
    expect(reserved.length).toBeLessThan(ORDERS);

    // Each reserved order holds both its lines, each taken once in the ledger; rejected ones nothing.
    const { rows: held } = await sql<{ order_id: string; lines: number; movements: number }>`
      SELECT r.order_id, count(*)::int AS lines,
        (SELECT count(*)::int FROM stock_movements m WHERE m.order_id = r.order_id) AS movements
      FROM reservations r GROUP BY r.order_id`.execute(inventory.db);
    expect(held.map((row) => row.order_id).sort()).toEqual([...reserved].sort());
    for (const row of held) expect(row).toEqual({ order_id: row.order_id, lines: 2, movements: 2 });

    const levels = await inventory.db.selectFrom("stock_levels").select(["on_hand", "reserved"]).execute();
    for (const level of levels) {
      expect(level.on_hand).toBe(UNITS);
      expect(level.reserved).toBeLessThanOrEqual(UNITS);
    }
    expect(levels.reduce((sum, level) => sum + level.reserved, 0)).toBe(2 * reserved.length);
    expect(await findLedgerMismatches(inventory.db)).toEqual([]);

    await consumer.kill();
    await relay.kill();
  }, 60_000);
});
