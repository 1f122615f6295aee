import { randomUUID } from "node:crypto";
import { ConfigError, createLogger } from "@nexus/core";
import {
  appendToOutbox,
  createOutboxMigration,
  type EventEnvelope,
  type EventPayloads,
  type EventType,
  type OutboxDatabase,
  type OutboxRelay,
  queueName,
  startOutboxRelay,
} from "@nexus/events";
import { type MailCatcher, startMailCatcher } from "@nexus/mail";
import { connectRedis } from "@nexus/stores";
import {
  createTestPostgres,
  deleteRedisKeys,
  TEST_REDIS_URL,
  TEST_SUBGRAPH_SECRET,
  type TestPostgres,
  testRedisPrefix,
  until,
} from "@nexus/testing";
import { Queue, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import type { Database } from "./db/database.ts";
import { userSnapshot } from "./test-env.ts";

/**
 * The process as index.ts starts it, fed through a real outbox relay and BullMQ, sending to a
 * real SMTP catcher: events in, email out.
 */

const prefix = testRedisPrefix("notifications-app");
const STAFF = "ops@shop.test";
let app: Awaited<ReturnType<typeof startApp>>;
let target: TestPostgres<Database>;
let producer: TestPostgres<OutboxDatabase>;
let relay: OutboxRelay;
let redis: Awaited<ReturnType<typeof connectRedis>>;
let mail: MailCatcher;
const logger = createLogger("notifications-test", "silent");

const baseEnv = (): Record<string, string> => ({
  HOST: "127.0.0.1",
  NOTIFICATIONS_PORT: "0",
  NOTIFICATIONS_DATABASE_URL: target.url,
  REDIS_URL: TEST_REDIS_URL,
  EVENTS_PREFIX: prefix,
  SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
  SMTP_URL: mail.url,
  MAIL_FROM: "Test Store <store@shop.test>",
  STORE_URL: "https://shop.test",
  STAFF_ALERT_EMAILS: ` ${STAFF.toUpperCase()} , `,
  // Far longer than any latency below: emails leave because a commit woke the sender, not a poll.
  MAIL_POLL_MS: "10000",
});

beforeAll(async () => {
  target = await createTestPostgres<Database>("notifications_app", {});
  producer = await createTestPostgres<OutboxDatabase>("notifications_app_producer", {
    "0001_outbox": createOutboxMigration,
  });
  redis = await connectRedis(TEST_REDIS_URL);
  mail = await startMailCatcher();
  relay = startOutboxRelay({
    db: producer.db,
    redis,
    prefix,
    logger,
    pollIntervalMs: 60_000,
    retry: { attempts: 2, backoffMs: 20 },
  });
  app = await startApp(loadConfig(baseEnv()), logger);
});

afterAll(async () => {
  await app?.stop();
  await relay?.stop();
  await mail?.stop();
  if (redis) {
    await deleteRedisKeys(redis, [prefix]);
    await redis.quit();
  }
  await target?.drop();
  await producer?.drop();
});

/** Commits events to the producer's outbox and relays them at once, as a producer does after its commit. */
async function publish(events: { type: EventType; payload: EventPayloads[EventType]; occurredAt?: Date }[]) {
  const published = await producer.db.transaction().execute(async (trx) => {
    const out: EventEnvelope[] = [];
    for (const event of events) {
      out.push(
        await appendToOutbox(trx, event.type, randomUUID(), event.payload, { occurredAt: event.occurredAt }),
      );
    }
    return out;
  });
  await relay.flush();
  return published;
}

const order = (customerId: string, status: "CONFIRMED" | "SHIPPED" | "DELIVERED") => ({
  type: "OrderStatusChanged" as const,
  payload: {
    orderId: randomUUID(),
    customerId,
    guestEmail: null,
    status,
    previousStatus: null,
    reason: null,
    trackingNumber: null,
    linesReturnedToCart: false,
    order: {
      currencyCode: "EUR",
      total: 1000,
      lines: [{ productId: "65f0a1b2c3d4e5f6a7b8c9d0", productName: "Kettle", quantity: 1, unitPrice: 1000 }],
      shippingAddress: null,
      placedAt: new Date().toISOString(),
    },
  },
});

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

describe("events in, email out", () => {
  const customers = Array.from({ length: 20 }, () => userSnapshot());
  const orderEvents: EventEnvelope[] = [];

  it("emails every order event's customer once, soon after the event", async () => {
    await publish(
      customers.map((user) => ({
        type: "UserRegistered",
        payload: { user },
        occurredAt: new Date("2026-01-01"),
      })),
    );
    await until("contacts projected", async () => {
      const rows = await app.db.selectFrom("contacts").select("user_id").execute();
      return rows.length === customers.length;
    });

    const before = mail.messages().length;
    // 200 events, 20 every 200 ms (100 a second, several times the confirmations the saga
    // benchmark produces on this kind of machine), as a busy store's orders would publish them.
    for (let wave = 0; wave < 10; wave++) {
      const statuses = ["CONFIRMED", "SHIPPED", "DELIVERED"] as const;
      const batch = customers.map((user, i) =>
        order(user.id, statuses[(wave + i) % 3] as (typeof statuses)[number]),
      );
      orderEvents.push(...(await publish(batch)));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await until("every order email received", () => mail.messages().length - before >= 200, {
      timeoutMs: 60_000,
    });
    const received = mail.messages().slice(before);
    expect(received).toHaveLength(200);

    const sentAt = new Map(
      received.map((m) => [m.headers.get("x-nexus-idempotency-key") as string, m.receivedAt]),
    );
    const latencies = orderEvents
      .map((event) => {
        const customerId = (event.payload as EventPayloads["OrderStatusChanged"]).customerId;
        const at = sentAt.get(`${event.id}:user:${customerId}:EMAIL`);
        return at ? at.getTime() - new Date(event.occurredAt).getTime() : Number.NaN;
      })
      .sort((a, b) => a - b);
    expect(latencies.every((ms) => Number.isFinite(ms))).toBe(true);
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    const lags = await app.db
      .selectFrom("deliveries")
      .select(["created_at", "event_id"])
      .where("channel", "=", "EMAIL")
      .where("message_type", "like", "ORDER_%")
      .execute();
    const occurred = new Map(orderEvents.map((e) => [e.id, new Date(e.occurredAt).getTime()]));
    const queued = lags
      .map((r) => r.created_at.getTime() - (occurred.get(r.event_id) ?? 0))
      .sort((a, b) => a - b);
    console.info(
      `events -> email over SMTP, 200 events at 100/s: p50 ${p50} ms, p95 ${p95} ms, max ${latencies.at(-1)} ms` +
        ` (event -> delivery queued: p50 ${percentile(queued, 50)} ms, p95 ${percentile(queued, 95)} ms)`,
    );
    // Well under the 10 s poll: the commit woke the sender.
    expect(p95).toBeLessThan(5000);

    const rows = await app.db.selectFrom("deliveries").select(["status", "channel"]).execute();
    expect(rows.filter((row) => row.channel === "EMAIL" && row.status === "SENT")).toHaveLength(200);
    expect(rows.filter((row) => row.channel === "IN_APP")).toHaveLength(200);
  });

  it("a replay of every event sends nothing twice", async () => {
    expect(orderEvents).toHaveLength(200);
    const before = mail.messages().length;
    const queue = new Queue<EventEnvelope>(queueName("notifications"), { connection: redis, prefix });
    try {
      // Delivered again as new jobs (the same event ids), twice each, as a republish would.
      await queue.addBulk(
        orderEvents.flatMap((event) => [
          { name: event.type, data: event, opts: { jobId: `${event.id}-again-1` } },
          { name: event.type, data: event, opts: { jobId: `${event.id}-again-2` } },
        ]),
      );
      await until("the replayed jobs consumed", async () => {
        const counts = await queue.getJobCounts("waiting", "active", "delayed");
        return (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) === 0;
      });
      await app.mailSender.idle();
      expect(mail.messages().length - before).toBe(0);
      const emails = await app.db
        .selectFrom("deliveries")
        .select("id")
        .where("channel", "=", "EMAIL")
        .execute();
      expect(emails).toHaveLength(200);
    } finally {
      await queue.close();
    }
  });
});

describe("failed events", () => {
  it("tells staff once when any consumer gives up on an event, however often it fails again", async () => {
    const admin = userSnapshot({ role: "ADMIN", email: "admin@shop.test" });
    await publish([{ type: "UserRegistered", payload: { user: admin }, occurredAt: new Date("2026-01-01") }]);
    await until(
      "the admin projected",
      async () =>
        (await app.db.selectFrom("contacts").select("user_id").where("user_id", "=", admin.id).execute())
          .length === 1,
    );
    // Inventory's consumer, failing every time.
    const failing = new Worker(
      queueName("inventory"),
      async () => {
        throw new Error("stock table unreachable");
      },
      { connection: redis, prefix },
    );
    const queue = new Queue<EventEnvelope>(queueName("inventory"), { connection: redis, prefix });
    try {
      const [event] = await publish([{ type: "OrderConfirmed", payload: { orderId: randomUUID() } }]);
      const alertTo = (address: string) =>
        mail.waitFor((m) => m.to.includes(address) && m.text.includes(event?.id as string), 20_000);
      const [toStaff, toAdmin] = await Promise.all([alertTo(STAFF), alertTo("admin@shop.test")]);
      expect(toStaff.text).toContain("stock table unreachable");
      expect(toAdmin.messageId).not.toBe(toStaff.messageId);
      const inbox = await app.db
        .selectFrom("deliveries")
        .selectAll()
        .where("message_type", "=", "EVENT_FAILED")
        .where("channel", "=", "IN_APP")
        .execute();
      expect(inbox).toHaveLength(1);
      expect(inbox[0]?.data).toMatchObject({
        consumer: "inventory",
        eventId: event?.id,
        eventType: "OrderConfirmed",
        attempts: 2,
        adminUrl: "https://shop.test/admin/events/failed?consumer=INVENTORY",
      });

      // An admin replays it; it fails again: no second alert.
      const job = await queue.getJob(event?.id as string);
      await job?.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      await until(
        "failed again",
        async () =>
          (await queue.getJob(event?.id as string))?.attemptsMade === 2 &&
          (await job?.getState()) === "failed",
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      await app.mailSender.idle();
      const alerts = mail.messages().filter((m) => m.text.includes(event?.id as string));
      expect(alerts).toHaveLength(2);
    } finally {
      await failing.close();
      await queue.close();
    }
  });
});

describe("configuration", () => {
  it("requires SMTP_URL in production and checks every value", () => {
    const production = { ...baseEnv(), NODE_ENV: "production" } as Record<string, string | undefined>;
    delete production.SMTP_URL;
    expect(() => loadConfig(production)).toThrow(/SMTP_URL is required/);
    const error = (() => {
      try {
        loadConfig({
          ...baseEnv(),
          SMTP_URL: "http://mail.example.test",
          STAFF_ALERT_EMAILS: "ops@x.test,nope",
          STORE_URL: "shop",
        });
      } catch (caught) {
        return caught as ConfigError;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toMatch(/STORE_URL must be a URL/);
    expect(error?.message).toMatch(/SMTP_URL must be an smtp/);
    expect(error?.message).toMatch(/STAFF_ALERT_EMAILS holds "nope"/);
  });

  it("defaults to the local catcher and reads the staff list", () => {
    const env = baseEnv();
    delete env.SMTP_URL;
    const config = loadConfig(env);
    expect(config.smtpUrl).toBe("smtp://127.0.0.1:1025");
    expect(config.staffAlertEmails).toEqual([STAFF]);
    expect(config.port).toBe(0);
  });
});
