/**
 * The gateway's HTTP edge as browsers and operators meet it: CSRF prevention, the CORS
 * allowlist, the body limit, health, readiness, metrics and the access log. One tiny real
 * subgraph counts the requests it receives, so "refused" also means "no subgraph was called".
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningHttpServer } from "@nexus/core";
import { createRecordingLogger, TEST_REDIS_URL, testRedisPrefix } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../app.ts";
import { loadConfig } from "../config.ts";
import { startTestSubgraph, writeTestSupergraph } from "../test-harness.ts";

const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])
type Query { hello: String }
type Mutation { touch: Boolean }
`;
const SHOP = "https://shop.example.com";
const METRICS_TOKEN = "scrape-me";
const MAX_BODY_BYTES = 2048;

const tmp = mkdtempSync(join(tmpdir(), "nexus-gateway-edge-"));
const recorded = createRecordingLogger();
let subgraph: RunningHttpServer;
let subgraphRequests = 0;
let gateway: RunningGateway;
let origin: string;

beforeAll(async () => {
  subgraph = await startTestSubgraph(
    SDL,
    { Query: { hello: () => "world" }, Mutation: { touch: () => true } },
    { onRequest: () => (subgraphRequests += 1) },
  );
  const supergraphPath = writeTestSupergraph(tmp, [{ name: "hello", url: subgraph.url, sdl: SDL }]);
  gateway = await startGateway(
    loadConfig({
      HOST: "127.0.0.1",
      GATEWAY_PORT: "0",
      SUPERGRAPH_PATH: supergraphPath,
      REDIS_URL: TEST_REDIS_URL,
      GATEWAY_REDIS_PREFIX: testRedisPrefix("edge"),
      CORS_ORIGINS: SHOP,
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      METRICS_TOKEN,
    }),
    recorded.logger,
  );
  origin = new URL(gateway.url).origin;
});

afterAll(async () => {
  await gateway?.stop();
  await subgraph?.close();
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  subgraphRequests = 0;
});

const json = { "content-type": "application/json" };
const helloBody = JSON.stringify({ query: "query Hello { hello }", operationName: "Hello" });

/** A JSON request body of exactly `bytes` bytes. */
const bodyOf = (bytes: number) => {
  const base = JSON.stringify({ query: "{ hello }", variables: { pad: "" } });
  return JSON.stringify({ query: "{ hello }", variables: { pad: "x".repeat(bytes - base.length) } });
};
async function send(init: RequestInit & { path?: string }) {
  const response = await fetch(`${origin}${init.path ?? "/graphql"}`, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (metrics, empty preflight answers): keep the text.
  }
  return { status: response.status, headers: response.headers, body };
}

describe("CSRF prevention", () => {
  const cases: { name: string; init: RequestInit & { path?: string }; status: number }[] = [
    { name: "a GET without a preflight header", init: { path: "/graphql?query=%7Bhello%7D" }, status: 400 },
    {
      name: "a form POST",
      init: {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "query=%7Bhello%7D",
      },
      status: 400,
    },
    {
      name: "a text/plain POST carrying JSON",
      init: { method: "POST", headers: { "content-type": "text/plain" }, body: helloBody },
      status: 400,
    },
    {
      name: "a multipart POST",
      init: { method: "POST", headers: { "content-type": "multipart/form-data; boundary=x" }, body: "--x--" },
      status: 400,
    },
    {
      name: "a GET with apollo-require-preflight",
      init: { path: "/graphql?query=%7Bhello%7D", headers: { "apollo-require-preflight": "true" } },
      status: 200,
    },
    {
      name: "a GET with x-apollo-operation-name",
      init: { path: "/graphql?query=%7Bhello%7D", headers: { "x-apollo-operation-name": "Hello" } },
      status: 200,
    },
    { name: "a JSON POST", init: { method: "POST", headers: json, body: helloBody }, status: 200 },
  ];

  for (const { name, init, status } of cases) {
    it(`${status === 200 ? "serves" : "refuses"} ${name}`, async () => {
      const result = await send(init);
      expect(result.status).toBe(status);
      if (status === 200) {
        expect(result.body).toMatchObject({ data: { hello: "world" } });
        expect(subgraphRequests).toBe(1);
      } else {
        expect(result.body).toMatchObject({ errors: [{ extensions: { code: "BAD_REQUEST" } }] });
        expect(subgraphRequests).toBe(0);
      }
    });
  }

  it("never runs a mutation sent with GET, even with a preflight header", async () => {
    const result = await send({
      path: "/graphql?query=mutation%7Btouch%7D",
      headers: { "apollo-require-preflight": "true" },
    });
    expect(result.status).toBe(405);
    expect(subgraphRequests).toBe(0);
  });

  it("refuses a batch of operations", async () => {
    const result = await send({ method: "POST", headers: json, body: `[${helloBody},${helloBody}]` });
    expect(result.status).toBe(400);
    expect(subgraphRequests).toBe(0);
  });
});

describe("CORS allowlist", () => {
  const preflight = (from: string) =>
    send({
      method: "OPTIONS",
      headers: {
        origin: from,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization",
      },
    });

  it("answers an allowed origin's preflight with the methods and headers it may use", async () => {
    const result = await preflight(SHOP);
    expect(result.status).toBe(204);
    expect(result.headers.get("access-control-allow-origin")).toBe(SHOP);
    expect(result.headers.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS");
    expect(result.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(result.headers.get("access-control-allow-headers")).toContain("x-api-key");
    expect(result.headers.get("access-control-allow-credentials")).toBeNull();
    expect(result.headers.get("vary")).toBe("Origin");
  });

  it("refuses another origin's preflight without any CORS header", async () => {
    const result = await preflight("https://evil.example.net");
    expect(result.status).toBe(403);
    expect(result.headers.get("access-control-allow-origin")).toBeNull();
    expect(subgraphRequests).toBe(0);
  });

  it("lets an allowed origin read responses and their request id", async () => {
    const result = await send({ method: "POST", headers: { ...json, origin: SHOP }, body: helloBody });
    expect(result.status).toBe(200);
    expect(result.headers.get("access-control-allow-origin")).toBe(SHOP);
    expect(result.headers.get("access-control-expose-headers")).toContain("x-request-id");
  });

  it("gives another origin's request no CORS header, so its page cannot read the answer", async () => {
    const result = await send({
      method: "POST",
      headers: { ...json, origin: "https://evil.example.net" },
      body: helloBody,
    });
    expect(result.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CORS outside production: pages on this machine", () => {
  const LOCAL = ["http://localhost:5173", "http://127.0.0.1:3000", "http://localhost"];
  // Look-alikes: another host, another scheme, a path, userinfo.
  const FOREIGN = [
    "http://localhost.evil.example.net:5173",
    "http://127.0.0.1.evil.example.net",
    "https://localhost:5173",
    "http://localhost:5173/app",
    "http://user@localhost:5173",
    "http://10.0.0.7:3000",
  ];

  it.each(LOCAL)("answers the preflight of %s, not listed in CORS_ORIGINS", async (from) => {
    const result = await send({
      method: "OPTIONS",
      headers: { origin: from, "access-control-request-method": "POST" },
    });
    expect(result.status).toBe(204);
    expect(result.headers.get("access-control-allow-origin")).toBe(from);
    expect(result.headers.get("access-control-allow-headers")).toContain("authorization");
  });

  it.each(LOCAL)("lets %s read responses", async (from) => {
    const result = await send({ method: "POST", headers: { ...json, origin: from }, body: helloBody });
    expect(result.status).toBe(200);
    expect(result.headers.get("access-control-allow-origin")).toBe(from);
  });

  it.each(FOREIGN)("refuses %s", async (from) => {
    const refused = await send({
      method: "OPTIONS",
      headers: { origin: from, "access-control-request-method": "POST" },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    const read = await send({ method: "POST", headers: { ...json, origin: from }, body: helloBody });
    expect(read.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("body size limit", () => {
  it("serves a body of exactly MAX_BODY_BYTES", async () => {
    const body = bodyOf(MAX_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    const result = await send({ method: "POST", headers: json, body });
    expect(result.status).toBe(200);
  });

  it("refuses one byte more with 413 and calls no subgraph", async () => {
    const result = await send({ method: "POST", headers: json, body: bodyOf(MAX_BODY_BYTES + 1) });
    expect(result.status).toBe(413);
    expect(result.body).toEqual({
      errors: [
        {
          message: `The request body exceeds ${MAX_BODY_BYTES} bytes.`,
          extensions: { code: "PAYLOAD_TOO_LARGE" },
        },
      ],
    });
    expect(subgraphRequests).toBe(0);
  });

  it("refuses an oversized chunked body that announces no length", async () => {
    const big = bodyOf(MAX_BODY_BYTES * 4);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const result = await send({ method: "POST", headers: json, body: stream, duplex: "half" } as RequestInit);
    expect(result.status).toBe(413);
    expect(subgraphRequests).toBe(0);
  });
});

describe("health, readiness and metrics", () => {
  it("is alive at /health and ready at /ready", async () => {
    expect(await send({ path: "/health" })).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await send({ path: "/ready" })).toMatchObject({
      status: 200,
      body: { status: "ok", supergraph: "loaded", subgraphs: { hello: "ok" } },
    });
  });

  it("keeps /metrics for scrapers holding the metrics token", async () => {
    expect((await send({ path: "/metrics" })).status).toBe(401);
    expect((await send({ path: "/metrics", headers: { authorization: "Bearer wrong-token" } })).status).toBe(
      401,
    );
  });

  it("counts requests by operation, client and status, their latency and errors by code", async () => {
    const web = { ...json, "apollographql-client-name": "web" };
    await send({ method: "POST", headers: web, body: helloBody });
    await send({ method: "POST", headers: web, body: helloBody });
    await send({ method: "POST", headers: web, body: JSON.stringify({ query: "query Broken { nope }" }) });
    await send({ method: "POST", headers: json, body: bodyOf(MAX_BODY_BYTES + 1) });

    const metrics = await send({ path: "/metrics", headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = String(metrics.body);
    expect(sample(text, 'nexus_gateway_requests_total{operation="Hello",client="web",status="200"}')).toBe(2);
    expect(sample(text, 'nexus_gateway_request_duration_seconds_count{operation="Hello",client="web"}')).toBe(
      2,
    );
    expect(sample(text, 'nexus_gateway_requests_total{operation="Broken",client="web",status="400"}')).toBe(
      1,
    );
    expect(
      sample(text, 'nexus_gateway_errors_total{code="GRAPHQL_VALIDATION_FAILED"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'nexus_gateway_errors_total{code="PAYLOAD_TOO_LARGE"}')).toBeGreaterThanOrEqual(1);
    expect(text).toContain("nexus_gateway_process_resident_memory_bytes");
  });

  it("logs one JSON line per request with its request id, operation and client", async () => {
    recorded.logs.length = 0;
    const result = await send({
      method: "POST",
      headers: { ...json, "x-request-id": "req-edge-1", "apollographql-client-name": "ios" },
      body: helloBody,
    });
    expect(result.headers.get("x-request-id")).toBe("req-edge-1");
    const lines = recorded.logs.filter((line) => line.message === "request");
    expect(lines).toEqual([
      expect.objectContaining({
        level: "info",
        fields: expect.objectContaining({
          requestId: "req-edge-1",
          method: "POST",
          path: "/graphql",
          status: 200,
          operation: "Hello",
          client: "ios",
          clientKind: "anonymous",
        }),
      }),
    ]);
  });

  it("replaces a request id that is not a plausible id", async () => {
    const result = await send({
      method: "POST",
      headers: { ...json, "x-request-id": "id with spaces; and <html>" },
      body: helloBody,
    });
    expect(result.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

/** The value of one Prometheus sample line, e.g. `name{labels}` -> 2. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
