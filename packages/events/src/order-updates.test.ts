import { createLogger } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  createTestPostgres,
  deleteRedisKeys,
  TEST_REDIS_URL,
  type TestPostgres,
  testRedisPrefix,
} from "@nexus/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventPayloads, OrderSnapshot } from "./events.ts";
import {
  announceOrderUpdates,
  type OrderUpdateNotice,
  orderUpdatesChannel,
  parseOrderUpdateNotice,
} from "./order-updates.ts";
import { appendToOutbox, createOutboxMigration, type OutboxDatabase, startOutboxRelay } from "./outbox.ts";

let pg: TestPostgres<OutboxDatabase>;
let redis: Redis;
let listener: Redis;
const prefix = testRedisPrefix("order-updates");
const logger = createLogger("order-updates-test", "silent");
const received: OrderUpdateNotice[] = [];

const ORDER_ID = "0b5e1c9a-7a53-4a51-9b6b-0c7f4b0e2a11";
const CUSTOMER_ID = "00000000-0000-4000-8000-000000000001";

const statusChanged = (status: "PENDING" | "CONFIRMED"): EventPayloads["OrderStatusChanged"] => ({
  orderId: ORDER_ID,
  customerId: CUSTOMER_ID,
  guestEmail: null,
  status,
  previousStatus: status === "PENDING" ? null : "PENDING",
  reason: null,
  trackingNumber: null,
  linesReturnedToCart: false,
  // The notice carries none of the snapshot: its content does not matter here.
  order: {} as OrderSnapshot,
});

beforeAll(async () => {
  pg = await createTestPostgres<OutboxDatabase>("order_updates", { "0001_outbox": createOutboxMigration });
  redis = await connectRedis(TEST_REDIS_URL);
  listener = redis.duplicate();
  listener.on("message", (_channel: string, message: string) =>
    received.push(parseOrderUpdateNotice(message)),
  );
  await listener.subscribe(orderUpdatesChannel(prefix));
});

afterAll(async () => {
  listener.disconnect();
  await deleteRedisKeys(redis, [prefix]);
  redis.disconnect();
  await pg.drop();
});

describe("order update notices", () => {
  it("are announced by the relay after the queues took the batch, and again when announcing failed", async () => {
    const [placed, confirmed] = await pg.db
      .transaction()
      .execute(async (trx) => [
        await appendToOutbox(trx, "OrderStatusChanged", ORDER_ID, statusChanged("PENDING")),
        await appendToOutbox(trx, "OrderPlaced", ORDER_ID, {
          orderId: ORDER_ID,
          customerId: CUSTOMER_ID,
          currencyCode: "USD",
          lines: [],
        }),
        await appendToOutbox(trx, "OrderStatusChanged", ORDER_ID, statusChanged("CONFIRMED")),
      ])
      .then((events) => [events[0], events[2]]);

    // A relay whose announcement fails leaves the batch unpublished, to be announced again.
    const failing = startOutboxRelay({
      db: pg.db,
      redis,
      prefix,
      logger,
      pollIntervalMs: 60_000,
      announce: async () => {
        throw new Error("Redis went away");
      },
    });
    await expect(failing.flush()).rejects.toThrow("Redis went away");
    await failing.stop();
    const unpublished = await pg.db
      .selectFrom("outbox")
      .select("id")
      .where("published_at", "is", null)
      .execute();
    expect(unpublished).toHaveLength(3);

    const relay = startOutboxRelay({
      db: pg.db,
      redis,
      prefix,
      logger,
      pollIntervalMs: 60_000,
      announce: announceOrderUpdates(redis, prefix),
    });
    try {
      expect(await relay.flush()).toBe(3);
    } finally {
      await relay.stop();
    }
    await expect.poll(() => received.length).toBe(2);
    // One notice per OrderStatusChanged, none for other events, in the outbox's order.
    expect(received).toEqual([
      {
        orderId: ORDER_ID,
        userId: CUSTOMER_ID,
        status: "PENDING",
        at: placed?.occurredAt,
        eventId: placed?.id,
      },
      {
        orderId: ORDER_ID,
        userId: CUSTOMER_ID,
        status: "CONFIRMED",
        at: confirmed?.occurredAt,
        eventId: confirmed?.id,
      },
    ]);
  });

  it("that are malformed are refused with what is wrong", () => {
    const good = {
      orderId: ORDER_ID,
      userId: null,
      status: "SHIPPED",
      at: new Date().toISOString(),
      eventId: "e",
    };
    expect(parseOrderUpdateNotice(JSON.stringify(good))).toEqual(good);
    expect(() => parseOrderUpdateNotice("{")).toThrow("not JSON");
    expect(() => parseOrderUpdateNotice("[]")).toThrow("no orderId");
    expect(() => parseOrderUpdateNotice(JSON.stringify({ ...good, status: "LOST" }))).toThrow(
      'unknown status "LOST"',
    );
    expect(() => parseOrderUpdateNotice(JSON.stringify({ ...good, userId: 7 }))).toThrow("bad userId");
    expect(() => parseOrderUpdateNotice(JSON.stringify({ ...good, at: "yesterday" }))).toThrow("bad time");
    expect(() => parseOrderUpdateNotice(JSON.stringify({ ...good, eventId: "" }))).toThrow("no eventId");
  });
});
