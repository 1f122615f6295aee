/**
 * One trace across the stack: a client's `register` goes through the gateway into the users
 * subgraph, which writes the account and its `UserRegistered` event in one PostgreSQL
 * transaction; the outbox relay publishes the event to BullMQ, and notifications consumes it
 * and writes its contact in its own database. Every step is a span of the client's trace,
 * each under the one before, as the OTLP collector receives them.
 */
import { randomUUID } from "node:crypto";
import { startTelemetry } from "@nexus/core";
import { type CollectedSpan, rawId, SPAN_KIND, startOtlpCollector, until } from "@nexus/testing";
import { graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { afterAll, beforeAll, expect, inject, it } from "vitest";

const CLIENT_TRACE_ID = "5c0ffee0a1b2c3d4e5f60718293a4b5c";
const CLIENT_SPAN_ID = "1a2b3c4d5e6f7081";

const collector = await startOtlpCollector();
let stopTelemetry: () => Promise<void> = async () => {};
let stack: Stack | undefined;

beforeAll(async () => {
  stopTelemetry = await startTelemetry("e2e", { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint });
  stack = await startStack({ mongoUrl: inject("mongoUrl"), env: { OUTBOX_POLL_MS: "100" } });
});

afterAll(async () => {
  await stack?.stop();
  await stopTelemetry();
  await collector.close();
});

/** Whether `span` is `ancestor` or lies beneath it. */
function descends(
  spans: Map<string, CollectedSpan>,
  span: CollectedSpan | undefined,
  ancestor: CollectedSpan,
): boolean {
  for (let at = span; at; at = spans.get(at.parentSpanId ?? "")) if (at === ancestor) return true;
  return false;
}

it("links gateway -> subgraph -> PostgreSQL -> publish -> consumer -> PostgreSQL in one trace", async () => {
  const running = stack as Stack;
  const email = `traced-${randomUUID().slice(0, 8)}@example.com`;
  const { register } = await graphqlOk<{ register: { user: { id: string } | null } }>(
    running.endpoint,
    "mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }",
    { input: { email, password: "a traced password 1", name: "Traced Customer" } },
    { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01` },
  );
  // Notifications keeps the raw id inside the global one clients get.
  const userId = rawId(register.user?.id);
  // Notifications has applied the event once the account is among its contacts.
  await until("notifications to apply UserRegistered", async () => {
    const row = await running.notificationsDb
      .selectFrom("contacts")
      .select("user_id")
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return row !== undefined;
  });
  // Stopping the stack lets the consumer finish its job; stopping telemetry flushes every span.
  await running.stop();
  stack = undefined;
  await stopTelemetry();
  stopTelemetry = async () => {};

  const trace = collector.spans.filter((span) => span.traceId === CLIENT_TRACE_ID);
  const byId = new Map(trace.map((span) => [span.spanId, span]));

  const gateway = trace.find(
    (span) => span.kind === SPAN_KIND.SERVER && span.parentSpanId === CLIENT_SPAN_ID,
  );
  expect(gateway?.name).toBe("POST /graphql");
  const fetches = trace.filter((span) => span.name === "gateway.fetch");
  const users = trace.find(
    (span) => span.kind === SPAN_KIND.SERVER && fetches.some((fetch) => fetch.spanId === span.parentSpanId),
  );
  expect(users?.name).toBe("POST /graphql");
  expect(descends(byId, users, gateway as CollectedSpan)).toBe(true);

  const outboxInsert = trace.find(
    (span) =>
      span.attributes["db.system.name"] === "postgresql" &&
      String(span.attributes["db.query.text"]).startsWith('insert into "outbox"'),
  );
  expect(outboxInsert?.kind).toBe(SPAN_KIND.CLIENT);
  expect(descends(byId, outboxInsert, users as CollectedSpan)).toBe(true);

  const publish = trace.find((span) => span.name === "publish UserRegistered");
  expect(publish?.kind).toBe(SPAN_KIND.PRODUCER);
  expect(descends(byId, publish, users as CollectedSpan)).toBe(true);

  const consume = trace.find((span) => span.name === "process UserRegistered");
  expect(consume).toMatchObject({
    kind: SPAN_KIND.CONSUMER,
    parentSpanId: publish?.spanId,
    attributes: { "messaging.destination.name": "events.notifications" },
  });

  const consumerQueries = trace.filter(
    (span) =>
      span.attributes["db.system.name"] === "postgresql" && descends(byId, span, consume as CollectedSpan),
  );
  expect(consumerQueries.map((span) => span.attributes["db.query.text"])).toEqual(
    expect.arrayContaining([expect.stringContaining('insert into "processed_events"')]),
  );
});
