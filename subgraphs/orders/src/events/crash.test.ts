import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createLogger } from "@nexus/core";
import { appendToOutbox, createOutboxMigration, type OutboxDatabase, startOutboxRelay } from "@nexus/events";
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

/**
 * The payment step under load, with a process really killed: a stream of InventoryReserved for
 * pending orders reaches an orders consumer process (crash.child.ts, 16 jobs at once), which is
 * SIGKILLed mid-stream, by a failpoint right after its BATCH-th batch committed (payment intents
 * recorded, not captured, no job acknowledged), and restarted. Whatever was cut short (an
 * intent not captured, a capture not recorded, a job not acknowledged), afterwards every order
 * is CONFIRMED with one payment, the provider charged each order once, and inventory hears of
 * each confirmation once.
 */

const CHILD = fileURLToPath(new URL("./crash.child.ts", import.meta.url));
const ORDERS = 160;
const BATCH = 6;
const logger = createLogger("crash-test", "silent");
const prefix = testRedisPrefix("orders-crash");
let orders: TestPostgres<Database>;
let inventory: TestPostgres<OutboxDatabase>;
let redis: Awaited<ReturnType<typeof connectRedis>>;

beforeAll(async () => {
  orders = await createTestPostgres<Database>("orders_crash", migrations);
  inventory = await createTestPostgres<OutboxDatabase>("orders_crash_inventory", {
    "0001_outbox": createOutboxMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
});

afterAll(async () => {
  killCrashChildren();
  if (redis) {
    await deleteRedisKeys(redis, [prefix]);
    await redis.quit();
  }
  await orders?.drop();
  await inventory?.drop();
});

function startConsumer(failpoint = ""): Promise<CrashChild> {
  return startCrashChild(CHILD, [], {
    REDIS_URL: TEST_REDIS_URL,
    EVENTS_PREFIX: prefix,
    CRASH_ORDERS_DATABASE_URL: orders.url,
    NEXUS_FAILPOINT: failpoint,
  });
}

const countOf = async (query: string) => {
  const { rows } = await sql<{ n: number }>`${sql.raw(query)}`.execute(orders.db);
  return rows[0]?.n ?? 0;
};

describe("the orders consumer SIGKILLed while it captures payments", () => {
  it("confirms every order once, charging each once", async () => {
    const orderIds = Array.from({ length: ORDERS }, () => randomUUID());
    await orders.db
      .insertInto("orders")
      .values(
        orderIds.map((id, n) => ({
          id,
          customer_id: randomUUID(),
          currency_code: "USD",
          total_amount: 1000 + n,
          status: "PENDING" as const,
        })),
      )
      .execute();
    const relay = startOutboxRelay({ db: inventory.db, redis, prefix, logger, pollIntervalMs: 50 });
    let consumer = await startConsumer(`consumer.after-commit@${BATCH}`);
    let stream: Promise<void> | undefined;
    try {
      // Inventory's verdicts, ten a transaction, as its consumer commits them.
      stream = (async () => {
        for (let n = 0; n < ORDERS; n += 10) {
          await inventory.db.transaction().execute(async (trx) => {
            for (const orderId of orderIds.slice(n, n + 10)) {
              await appendToOutbox(trx, "InventoryReserved", orderId, { orderId });
            }
          });
          await relay.flush();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();

      expect(await consumer.exited).toBe("SIGKILL");
      // Killed mid-batch: its payment intents are recorded and not captured, and the jobs it had
      // taken are still active, under locks nobody renews now.
      expect(await countOf("SELECT count(*)::int AS n FROM payment_intents")).toBeGreaterThan(0);
      expect(await redis.llen(`${prefix}:events.orders:active`)).toBeGreaterThan(0);
      consumer = await startConsumer();
      await stream;

      await until(
        "every order confirmed",
        async () =>
          (await countOf("SELECT count(*)::int AS n FROM orders WHERE status = 'CONFIRMED'")) === ORDERS,
        { timeoutMs: 15_000 },
      );
      expect(await countOf("SELECT count(*)::int AS n FROM payment_intents")).toBe(0);
      const payments = await orders.db.selectFrom("payments").select(["order_id", "status"]).execute();
      expect(payments).toHaveLength(ORDERS);
      expect(payments.every((payment) => payment.status === "CAPTURED")).toBe(true);
      const charges = (await redis.lrange(`${prefix}:payments:test:charges`, 0, -1)).map(
        (entry) => JSON.parse(entry) as { kind: string; idempotencyKey: string },
      );
      expect(charges).toHaveLength(ORDERS);
      expect(new Set(charges.map((charge) => charge.idempotencyKey))).toEqual(new Set(orderIds));
      const { rows: confirmations } = await sql<{ aggregate_id: string; n: number }>`
        SELECT aggregate_id, count(*)::int AS n FROM outbox WHERE type = 'OrderConfirmed'
        GROUP BY aggregate_id`.execute(orders.db);
      expect(confirmations).toHaveLength(ORDERS);
      expect(confirmations.every((row) => row.n === 1)).toBe(true);
    } finally {
      await consumer.kill();
      // A failed assertion leaves the stream writing: let it end before the relay stops.
      await stream?.catch(() => undefined);
      await relay.stop();
    }
  }, 60_000);
});
