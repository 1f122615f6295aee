import { randomUUID } from "node:crypto";
import { type EventEnvelope, queueName } from "@nexus/events";
import { until } from "@nexus/testing";
import { Queue, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestEnv, TEST_STAFF_EMAILS, type TestEnv } from "../test-env.ts";
import { CONSUMERS, startFailedEventAlerts } from "./failed-events.sweeper.ts";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv("notifications_failed");
});
afterAll(async () => {
  await env?.close();
});

const alertsFor = (eventId: string) =>
  env.pg.db
    .selectFrom("deliveries")
    .selectAll()
    .where("message_type", "=", "EVENT_FAILED")
    .where("event_id", "=", eventId)
    .execute();

describe("failed-event alerts", () => {
  it("watches every consumer queue", () => {
    expect(CONSUMERS).toEqual(["catalog", "insights", "inventory", "notifications", "orders"]);
  });

  it("reports failures that happened while no replica listened, once across replicas and restarts", async () => {
    const queue = new Queue<EventEnvelope>(queueName("orders"), {
      connection: env.redis,
      prefix: env.prefix,
    });
    const worker = new Worker(
      queueName("orders"),
      async () => {
        throw new Error("payment provider unreachable");
      },
      { connection: env.redis, prefix: env.prefix },
    );
    const event: EventEnvelope<"InventoryReserved"> = {
      id: randomUUID(),
      type: "InventoryReserved",
      aggregateId: randomUUID(),
      occurredAt: new Date().toISOString(),
      payload: { orderId: randomUUID() },
    };
    // A job with attempts left is not reported; it waits for its retry.
    const retrying: EventEnvelope<"InventoryReserved"> = { ...event, id: randomUUID() };
    try {
      await queue.add(event.type, event, { jobId: event.id, attempts: 1 });
      await queue.add(retrying.type, retrying, {
        jobId: retrying.id,
        attempts: 5,
        backoff: { type: "fixed", delay: 60_000 },
      });
      await until(
        "both failed once",
        async () =>
          (await queue.getJobCounts("failed", "delayed")).failed === 1 &&
          (await queue.getJobCounts("delayed")).delayed === 1,
      );
    } finally {
      await worker.close();
    }

    const options = {
      db: env.pg.db,
      redis: env.redis,
      prefix: env.prefix,
      logger: env.logger,
      storeUrl: "https://shop.test/",
      staffAlertEmails: TEST_STAFF_EMAILS,
      onQueued: () => {},
    };
    const first = await startFailedEventAlerts(options);
    const second = await startFailedEventAlerts(options);
    try {
      await first.settled();
      await second.settled();
      const alerts = await alertsFor(event.id);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({
        channel: "EMAIL",
        email: TEST_STAFF_EMAILS[0],
        status: "QUEUED",
        idempotency_key: `failed:orders:${event.id}:email:${TEST_STAFF_EMAILS[0]}:EMAIL`,
        data: {
          consumer: "orders",
          eventId: event.id,
          eventType: "InventoryReserved",
          attempts: 1,
          error: "payment provider unreachable",
        },
      });
      expect(await alertsFor(retrying.id)).toHaveLength(0);
      const recorded = await env.pg.db.selectFrom("failed_event_alerts").selectAll().execute();
      expect(recorded.map((row) => [row.consumer, row.event_id])).toEqual([["orders", event.id]]);
    } finally {
      await first.stop();
      await second.stop();
      await queue.close();
    }
  });
});
