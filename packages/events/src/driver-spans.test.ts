/**
 * With tracing on, the PostgreSQL, Redis and MongoDB drivers make a CLIENT span per query or
 * command run inside a span, though this module (like a service) imported them before
 * `startTelemetry` ran; and none for work outside a span. The last test runs a service in its
 * own Node process, as production does, rather than through the test runner's module loader.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { startTelemetry } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  type CollectedSpan,
  createTestMongo,
  createTestPostgres,
  SPAN_KIND,
  startOtlpCollector,
  TEST_REDIS_URL,
  TEST_SERVER_URL,
} from "@nexus/testing";
import { trace } from "@opentelemetry/api";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, inject, it } from "vitest";

const collector = await startOtlpCollector();
let stopTelemetry: () => Promise<void>;
let spans: CollectedSpan[] = [];

beforeAll(async () => {
  const pg = await createTestPostgres<Record<string, never>>("driver_spans", {});
  const redis = await connectRedis(TEST_REDIS_URL);
  const mongo = await createTestMongo("driver_spans");
  try {
    stopTelemetry = await startTelemetry("stores-test", { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint });
    const tracer = trace.getTracer("stores-test");
    await tracer.startActiveSpan("work", async (span) => {
      await sql`SELECT 1 AS one`.execute(pg.db);
      await redis.get("nexus-test:driver-spans");
      await redis.set("nexus-test:driver-spans", "a secret value", "EX", 60);
      await redis.eval("return ARGV[1]", 1, "nexus-test:driver-spans", "a secret argument");
      await mongo.db.collection("things").findOne({ name: "x" });
      span.end();
    });
    // Outside any span: no trace of its own.
    await sql`SELECT 2 AS two`.execute(pg.db);
    await redis.get("nexus-test:driver-spans-untraced");
    await stopTelemetry(); // flushes
    spans = collector.spans;
  } finally {
    redis.disconnect();
    await mongo.close();
    await pg.drop();
  }
});

afterAll(() => collector.close());

const work = () => spans.find((span) => span.name === "work");
const childrenOfWork = () => spans.filter((span) => span.parentSpanId === work()?.spanId);

it("makes a PostgreSQL span for a query inside a span", () => {
  const query = childrenOfWork().find((span) => span.attributes["db.query.text"] === "SELECT 1 AS one");
  expect(query?.kind).toBe(SPAN_KIND.CLIENT);
  expect(query?.attributes["db.system.name"]).toBe("postgresql");
});

it("makes a Redis span for a command inside a span", () => {
  const command = childrenOfWork().find((span) => span.attributes["db.system.name"] === "redis");
  expect(command?.kind).toBe(SPAN_KIND.CLIENT);
  expect(command?.attributes["db.operation.name"]).toBe("get");
});

it("shows a Redis command's name and key, never its values", () => {
  const texts = childrenOfWork()
    .filter((span) => span.attributes["db.system.name"] === "redis")
    .map((span) => span.attributes["db.query.text"]);
  expect(texts).toEqual([
    "get nexus-test:driver-spans",
    "set nexus-test:driver-spans [3 other arguments]",
    "eval [4 other arguments]",
  ]);
});

it("makes a MongoDB span for a command inside a span", () => {
  const command = childrenOfWork().find((span) => span.attributes["db.system.name"] === "mongodb");
  expect(command?.kind).toBe(SPAN_KIND.CLIENT);
  expect(command?.attributes["db.operation.name"]).toBe("find");
  expect(command?.attributes["db.collection.name"]).toBe("things");
});

it("makes no span for a query outside any span", () => {
  const statements = spans.map((span) => span.attributes["db.query.text"]);
  expect(statements).not.toContain("SELECT 2 AS two");
  expect(spans.filter((span) => span.attributes["db.system.name"] === "redis")).toHaveLength(3);
  expect(spans.every((span) => span.traceId === work()?.traceId)).toBe(true);
});

it("makes the same spans in a service run by Node itself", async () => {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL("fixtures/traced-service.ts", import.meta.url))],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        DATABASE_URL: TEST_SERVER_URL,
        REDIS_URL: TEST_REDIS_URL,
        MONGO_URL: inject("mongoUrl"),
      },
    },
  );
  child.stdout.on("data", (chunk: Buffer) => {
    // Stopping flushes the spans: runService stops telemetry last.
    if (chunk.toString().includes("done")) child.kill("SIGTERM");
  });
  const [code] = await once(child, "exit");
  expect(code).toBe(0);
  const work = collector.spans.find((span) => span.name === "fixture work");
  const systems = collector.spans
    .filter((span) => span.parentSpanId === work?.spanId && span.kind === SPAN_KIND.CLIENT)
    .map((span) => [
      span.attributes["db.system.name"],
      span.attributes["db.operation.name"] ?? span.attributes["db.query.text"],
    ]);
  expect(systems).toEqual(
    expect.arrayContaining([
      ["postgresql", "SELECT 'from a service' AS fixture"],
      ["redis", "get"],
      ["mongodb", "find"],
    ]),
  );
  expect(collector.spans.find((span) => span.name === "fixture work")?.service).toBe("nexus-traced");
});
