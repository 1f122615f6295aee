import { randomUUID } from "node:crypto";
import type { Role } from "@nexus/core";
import {
  appendToOutbox,
  createOutboxMigration,
  createProcessedEventsMigration,
  type EventConsumer,
  type EventEnvelope,
  type OutboxDatabase,
  type OutboxRelay,
  type ProcessedEventsDatabase,
  startEventConsumer,
  startOutboxRelay,
} from "@nexus/events";
import { createTestPostgres, type TestPostgres, until } from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";

/**
 * failedEvents and replayEvent over real BullMQ queues: a stand-in inventory consumer fails
 * OrderShipped events until "fixed", so they exhaust their attempts and land in the failed set.
 */

type PeerDatabase = OutboxDatabase & ProcessedEventsDatabase;
let env: TestEnv;
let peer: TestPostgres<PeerDatabase>;
let relay: OutboxRelay;
let consumer: EventConsumer;
let broken = true;
const applied: string[] = [];

beforeAll(async () => {
  env = await createTestEnv("insights_failed");
  const { redis, prefix, logger } = env;
  peer = await createTestPostgres<PeerDatabase>("insights_failed_peer", {
    "0001_outbox": createOutboxMigration,
    "0002_processed_events": createProcessedEventsMigration,
  });
  relay = startOutboxRelay({
    db: peer.db,
    redis,
    prefix,
    logger,
    pollIntervalMs: 60_000,
    retry: { attempts: 2, backoffMs: 20 },
  });
  consumer = startEventConsumer({
    consumer: "inventory",
    db: peer.db,
    redis,
    prefix,
    logger,
    handlers: {
      OrderShipped: async (_trx, event) => {
        if (broken) throw new Error(`no reservation for order ${event.payload.orderId}`);
        applied.push(event.id);
      },
    },
  });
});

afterAll(async () => {
  await consumer?.stop();
  await relay?.stop();
  await peer?.drop();
  await env?.close();
});

async function run(query: string, variables: Record<string, unknown> = {}, role: Role | null = "ADMIN") {
  const authorization = role === null ? undefined : await env.auth.bearer(randomUUID(), role);
  return env.run(query, variables, authorization);
}

const FAILED = `query ($consumer: EventConsumer!, $first: Int, $after: String) {
  failedEvents(consumer: $consumer, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { eventId type consumer attempts lastError failedAt payload } }
  }
}`;

const REPLAY = `mutation ($input: ReplayEventInput!) {
  replayEvent(input: $input) { eventId userErrors { field message code } }
}`;

interface Page {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  edges: {
    node: {
      eventId: string;
      type: string;
      consumer: string;
      attempts: number;
      lastError: string;
      failedAt: string;
      payload: string;
    };
  }[];
}

async function failedPage(variables: Record<string, unknown>) {
  const result = await run(FAILED, variables);
  expect(result.errors).toBeUndefined();
  return (result.data as { failedEvents: Page }).failedEvents;
}

describe("failed events", () => {
  const shipped: EventEnvelope<"OrderShipped">[] = [];

  it("lists the events a consumer gave up on, newest first, a page at a time", async () => {
    for (let i = 0; i < 2; i++) {
      const orderId = randomUUID();
      shipped.push(
        await peer.db
          .transaction()
          .execute((trx) => appendToOutbox(trx, "OrderShipped", orderId, { orderId })),
      );
      await relay.flush();
      const count = i + 1;
      await until(
        "the failed set",
        async () => (await env.failedEvents.list("inventory", { offset: 0, limit: 10 })).totalCount === count,
      );
    }

    const first = await failedPage({ consumer: "INVENTORY", first: 1 });
    expect(first.totalCount).toBe(2);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const [newest] = first.edges;
    expect(newest?.node).toMatchObject({
      eventId: shipped[1]?.id,
      type: "OrderShipped",
      consumer: "INVENTORY",
      attempts: 2,
      lastError: `no reservation for order ${shipped[1]?.payload.orderId}`,
    });
    expect(JSON.parse(newest?.node.payload ?? "")).toEqual(shipped[1]);
    expect(Date.parse(newest?.node.failedAt ?? "")).toBeGreaterThan(Date.now() - 60_000);

    const second = await failedPage({ consumer: "INVENTORY", first: 1, after: first.pageInfo.endCursor });
    expect(second.edges.map((edge) => edge.node.eventId)).toEqual([shipped[0]?.id]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect((await failedPage({ consumer: "ORDERS" })).totalCount).toBe(0);
    expect((await failedPage({ consumer: "NOTIFICATIONS" })).totalCount).toBe(0);
  });

  it("replays a failed event once it can succeed, and refuses what cannot be replayed", async () => {
    const [event] = shipped;
    broken = false;
    const replayed = await run(REPLAY, { input: { consumer: "INVENTORY", eventId: event?.id } });
    expect(replayed.data?.replayEvent).toEqual({ eventId: event?.id, userErrors: [] });
    await until("the replayed event to apply", async () => applied.includes(event?.id ?? ""));

    const again = await run(REPLAY, { input: { consumer: "INVENTORY", eventId: event?.id } });
    expect(again.data?.replayEvent).toEqual({
      eventId: null,
      userErrors: [
        {
          field: ["input", "eventId"],
          message: `Event ${event?.id} has not failed; only failed events can be replayed.`,
          code: "EVENT_NOT_FAILED",
        },
      ],
    });
    const elsewhere = await run(REPLAY, { input: { consumer: "ORDERS", eventId: event?.id } });
    expect(elsewhere.data?.replayEvent).toMatchObject({
      eventId: null,
      userErrors: [{ code: "EVENT_NOT_FOUND" }],
    });
    expect((await failedPage({ consumer: "INVENTORY" })).edges.map((edge) => edge.node.eventId)).toEqual([
      shipped[1]?.id,
    ]);
    expect(applied).toEqual([event?.id]);
  });

  it("is for holders of events:manage only", async () => {
    const anonymous = await run(FAILED, { consumer: "INVENTORY" }, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const customer = await run(FAILED, { consumer: "INVENTORY" }, "CUSTOMER");
    expect(customer.errors?.[0]).toMatchObject({
      message: "This needs the events:manage scope.",
      extensions: { code: "FORBIDDEN" },
    });
    const replay = await run(
      REPLAY,
      { input: { consumer: "INVENTORY", eventId: shipped[1]?.id } },
      "CUSTOMER",
    );
    expect(replay.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await env.failedEvents.list("inventory", { offset: 0, limit: 10 })).totalCount).toBe(1);
    const badCursor = await run(FAILED, { consumer: "INVENTORY", after: "bm9wZQ" });
    expect(badCursor.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
