/**
 * OpenTelemetry across the gateway and a subgraph: with an OTLP endpoint configured, one
 * client request yields one trace holding the gateway's request span, @apollo/gateway's
 * planning and fetch spans, and the subgraph's request span as a child of the fetch. The
 * collector is a small HTTP server reading the OTLP/HTTP JSON the exporter sends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type RunningHttpServer, startTelemetry } from "@nexus/core";
import { TEST_REDIS_URL, testRedisPrefix } from "@nexus/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../app.ts";
import { loadConfig } from "../config.ts";
import { startTestSubgraph, writeTestSupergraph } from "../test-harness.ts";

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])
type Query { hello: String }
`;
const CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID = "00f067aa0ba902b7";
const SERVER = 2;

const logger = createLogger("tracing-test", "silent");
const tmp = mkdtempSync(join(tmpdir(), "nexus-gateway-tracing-"));
const spans: ExportedSpan[] = [];
let collector: Server;
let stopTelemetry: () => Promise<void>;
let subgraph: RunningHttpServer;
let gateway: RunningGateway;

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[];
      };
      for (const resource of body.resourceSpans) {
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  const { port } = collector.address() as AddressInfo;
  stopTelemetry = await startTelemetry("gateway", {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
  });

  subgraph = await startTestSubgraph(SDL, { Query: { hello: () => "world" } });
  const supergraphPath = writeTestSupergraph(tmp, [{ name: "hello", url: subgraph.url, sdl: SDL }]);
  gateway = await startGateway(
    loadConfig({
      HOST: "127.0.0.1",
      GATEWAY_PORT: "0",
      SUPERGRAPH_PATH: supergraphPath,
      REDIS_URL: TEST_REDIS_URL,
      GATEWAY_REDIS_PREFIX: testRedisPrefix("tracing"),
    }),
    logger,
  );
});

afterAll(async () => {
  await gateway?.stop();
  await subgraph?.close();
  await new Promise((resolve) => collector?.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

it("continues the client's trace through the gateway into the subgraph", async () => {
  const response = await fetch(gateway.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`,
    },
    body: JSON.stringify({ query: "query Hello { hello }" }),
  });
  expect(await response.json()).toMatchObject({ data: { hello: "world" } });
  await stopTelemetry(); // flushes the batch to the collector

  const trace = spans.filter((span) => span.traceId === CLIENT_TRACE_ID);
  const byId = new Map(trace.map((span) => [span.spanId, span]));
  const gatewaySpan = trace.find((span) => span.kind === SERVER && span.parentSpanId === CLIENT_SPAN_ID);
  expect(gatewaySpan?.name).toBe("POST /graphql");
  const fetchSpan = trace.find((span) => span.name === "gateway.fetch");
  expect(fetchSpan).toBeDefined();
  // The fetch span descends from the gateway's request span ...
  let ancestor = fetchSpan;
  while (ancestor && ancestor !== gatewaySpan) ancestor = byId.get(ancestor.parentSpanId ?? "");
  expect(ancestor).toBe(gatewaySpan);
  // ... and the subgraph's request span is its child, found through the traceparent header.
  const subgraphSpan = trace.find((span) => span.kind === SERVER && span.parentSpanId === fetchSpan?.spanId);
  expect(subgraphSpan?.name).toBe("POST /graphql");
  expect(trace.map((span) => span.name)).toEqual(expect.arrayContaining(["gateway.request", "gateway.plan"]));
});
