import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createLogger } from "@nexus/core";
import type { EventConsumer as Consumer } from "@nexus/events";
import {
  appendToOutbox,
  createOutboxMigration,
  type EventEnvelope,
  type FailpointName,
  type OutboxDatabase,
  type OutboxRelay,
  queueName,
  startOutboxRelay,
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
import { Queue } from "bullmq";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { findLedgerMismatches, insertInitialStock } from "../stock/stock.repository.ts";
import { startInventoryConsumer } from "./inventory.consumer.ts";

/**
 * Crash safety with processes really killed: a child process (crash.child.ts) runs the outbox
 * relay or the inventory consumer and SIGKILLs itself at a failpoint; a restarted child must
 * finish the work so that every event is published and applied exactly once.
 */

const CHILD = fileURLToPath(new URL("./crash.child.ts", import.meta.url));
const PRODUCT = "0000000000000000000000cc";
const logger = createLogger("crash-test", "silent");
let inventory: TestPostgres<Database>;
let producer: TestPostgres<OutboxDatabase>;
let redis: Awaited<ReturnType<typeof connectRedis>>;
let prefix: string;

beforeAll(async () => {
  inventory = await createTestPostgres<Database>("inventory_crash", migrations);
  producer = await createTestPostgres<OutboxDatabase>("inventory_crash_orders", {
    "0001_outbox": createOutboxMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
});

beforeEach(async () => {
  prefix = testRedisPrefix("inventory-crash");
  await sql`TRUNCATE stock_movements, reservations, order_reservations, stock_levels, outbox, processed_events`.execute(
    inventory.db,
  );
  await sql`TRUNCATE outbox`.execute(producer.db);
  await insertInitialStock(inventory.db, [{ productId: PRODUCT, onHand: 10 }]);
});

afterEach(async () => {
  killCrashChildren();
  await deleteRedisKeys(redis, [prefix]);
});

afterAll(async () => {
  killCrashChildren();
  await redis?.quit();
  await inventory?.drop();
  await producer?.drop();
});

function startChild(role: "relay" | "consumer", failpoint?: FailpointName): Promise<CrashChild> {
  return startCrashChild(CHILD, [role], {
    REDIS_URL: TEST_REDIS_URL,
    EVENTS_PREFIX: prefix,
    CRASH_PRODUCER_DATABASE_URL: producer.url,
    CRASH_INVENTORY_DATABASE_URL: inventory.url,
    NEXUS_FAILPOINT: failpoint ?? "",
  });
}

async function withQueue<T>(consumer: "inventory" | "orders", use: (queue: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(queueName(consumer), { connection: redis, prefix });
  try {
    return await use(queue);
  } finally {
    await queue.close();
  }
}

const jobState = (consumer: "inventory" | "orders", id: string) =>
  withQueue(consumer, async (queue) => (await queue.getJob(id))?.getState());

async function placeOrder(quantity: number): Promise<EventEnvelope<"OrderPlaced">> {
  const orderId = randomUUID();
  return producer.db.transaction().execute((trx) =>
    appendToOutbox(trx, "OrderPlaced", orderId, {
      orderId,
      customerId: randomUUID(),
      currencyCode: "USD",
      lines: [{ productId: PRODUCT, quantity, unitPrice: 1500 }],
    }),
  );
}

/** What exactly-once means here: one processed record, one reservation, one decision, balanced books. */
async function expectAppliedOnce(event: EventEnvelope<"OrderPlaced">, quantity: number) {
  const orderId = event.payload.orderId;
  expect(
    await inventory.db
      .selectFrom("processed_events")
      .select("event_id")
      .where("event_id", "=", event.id)
      .execute(),
  ).toHaveLength(1);
  expect(await inventory.db.selectFrom("reservations").select(["order_id", "quantity"]).execute()).toEqual([
    { order_id: orderId, quantity },
  ]);
  expect(
    await inventory.db
      .selectFrom("stock_levels")
      .select(["on_hand", "reserved"])
      .where("product_id", "=", PRODUCT)
      .execute(),
  ).toEqual([{ on_hand: 10, reserved: quantity }]);
  expect(
    await inventory.db
      .selectFrom("stock_movements")
      .select("reason")
      .where("order_id", "=", orderId)
      .execute(),
  ).toEqual([{ reason: "RESERVATION" }]);
  const decisions = await inventory.db.selectFrom("outbox").select(["id", "type"]).execute();
  expect(decisions.map((row) => row.type)).toEqual(["InventoryReserved"]);
  expect(await findLedgerMismatches(inventory.db)).toEqual([]);
  return decisions[0]?.id ?? "";
}

describe("an outbox relay killed mid-publish", () => {
  let consumer: Consumer;
  let inventoryRelay: OutboxRelay;

  beforeEach(() => {
    inventoryRelay = startOutboxRelay({ db: inventory.db, redis, prefix, logger, pollIntervalMs: 100 });
    consumer = startInventoryConsumer({
      db: inventory.db,
      redis,
      prefix,
      logger,
      relay: inventoryRelay,
      reservationTtlSeconds: 900,
      alerts: { lowStockThreshold: 5 },
    });
  });

  afterEach(async () => {
    await consumer.stop();
    await inventoryRelay.stop();
  });

  it.each([
    ["after the commit and before publishing", "outbox.before-publish" as const],
    ["after publishing and before marking the row published", "outbox.after-publish" as const],
  ])("publishes the event once after a restart when killed %s", async (_when, failpoint) => {
    const event = await placeOrder(3);

    const crashed = await startChild("relay", failpoint);
    expect(await crashed.exited).toBe("SIGKILL");
    const [row] = await producer.db
      .selectFrom("outbox")
      .select("published_at")
      .where("id", "=", event.id)
      .execute();
    expect(row?.published_at).toBeNull();
    // Before publishing nothing reached BullMQ; after, the job is there (and may already be consumed).
    if (failpoint === "outbox.before-publish") expect(await jobState("inventory", event.id)).toBeUndefined();
    else expect(await jobState("inventory", event.id)).toBeDefined();

    const restarted = await startChild("relay");
    await until(
      "the event to be applied",
      async () => (await jobState("inventory", event.id)) === "completed",
    );
    await until("the row to be marked published", async () => {
      const [published] = await producer.db
        .selectFrom("outbox")
        .select("published_at")
        .where("id", "=", event.id)
        .execute();
      return published?.published_at !== null;
    });
    expect(await restarted.stop()).toBeNull();

    // One job per subscriber queue, however many times the event was pushed.
    expect(
      await withQueue("inventory", (queue) => queue.getJobCounts("completed", "waiting", "active", "failed")),
    ).toEqual({
      completed: 1,
      waiting: 0,
      active: 0,
      failed: 0,
    });
    await expectAppliedOnce(event, 3);
  });
});

describe("a consumer killed after its commit and before the ack", () => {
  it("is redelivered by BullMQ's stalled-job check and applies the event exactly once", async () => {
    const producerRelay = startOutboxRelay({
      db: producer.db,
      redis,
      prefix,
      logger,
      pollIntervalMs: 60_000,
    });
    try {
      const crashing = await startChild("consumer", "consumer.after-commit");
      const event = await placeOrder(4);
      await producerRelay.flush();

      expect(await crashing.exited).toBe("SIGKILL");
      // The effect committed, but BullMQ still holds the job as active under a lock nobody renews.
      expect(await jobState("inventory", event.id)).toBe("active");
      expect(
        await inventory.db
          .selectFrom("processed_events")
          .select("event_id")
          .where("event_id", "=", event.id)
          .execute(),
      ).toHaveLength(1);

      const restarted = await startChild("consumer");
      await until("the stalled job to be redelivered and completed", async () => {
        return (await jobState("inventory", event.id)) === "completed";
      });
      // The decision committed with the effect reaches orders through the restarted relay's poll.
      const decisionId = await expectAppliedOnce(event, 4);
      await until(
        "the decision to be published",
        async () => (await jobState("orders", decisionId)) !== undefined,
      );
      expect(await restarted.stop()).toBeNull();
      expect(
        await withQueue("orders", (queue) => queue.getJobCountByTypes("waiting", "completed", "active")),
      ).toBe(1);
      await expectAppliedOnce(event, 4);
    } finally {
      await producerRelay.stop();
    }
  });
});
