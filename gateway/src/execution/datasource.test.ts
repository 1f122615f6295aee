/**
 * SubgraphDataSource against tiny real HTTP servers that answer as a test scripts them: slow,
 * with HTTP 503, by dropping the connection, or not at all. The data source is called the way
 * the gateway's executor calls it, with `process`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import type { GatewayGraphQLResponse } from "@apollo/server-gateway-interface";
import { createLogger, SUBGRAPH_SIGNATURE_HEADER, verifySubgraphSignature } from "@nexus/core";
import { TEST_SUBGRAPH_SECRET } from "@nexus/testing";
import { getOperationAST, parse } from "graphql";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayContext } from "../edge/context.ts";
import { createGatewayMetrics, type GatewayMetrics } from "../observability/metrics.ts";
import { closedPortUrl } from "../test-harness.ts";
import { SUBGRAPH_UNAVAILABLE, SubgraphDataSource, type SubgraphDataSourceOptions } from "./datasource.ts";

const logger = createLogger("datasource-test", "silent");

type Respond = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Received {
  /** performance.now() when the request's body had arrived. */
  at: number;
  authorization: string | undefined;
  /** The gateway's signature (`x-nexus-signature`). */
  signature: string | undefined;
  body: string;
}

interface ScriptedServer {
  url: string;
  received: Received[];
  /** How the next requests are answered; tests change it as they go. */
  respond: Respond;
  close(): Promise<void>;
}

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function startServer(respond: Respond): Promise<ScriptedServer> {
  const scripted: ScriptedServer = { url: "", received: [], respond, close: async () => {} };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const signature = req.headers[SUBGRAPH_SIGNATURE_HEADER] as string | undefined;
    scripted.received.push({
      at: performance.now(),
      authorization: req.headers.authorization,
      signature,
      body,
    });
    scripted.respond(req, res, body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  scripted.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return scripted;
}

const json =
  (status: number, body: unknown, delayMs = 0): Respond =>
  (_req, res) => {
    setTimeout(() => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    }, delayMs);
  };
const unavailable = json(503, { message: "no healthy upstream" });
const dropConnection: Respond = (req) => req.socket.destroy();
const neverAnswer: Respond = () => {};

/** The settings a test changes, flat: each becomes its place in the resilience config. */
interface Settings {
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  circuitBreakerFailures: number;
  circuitBreakerCooldownMs: number;
  secrets: SubgraphDataSourceOptions["secrets"];
}

function dataSource(url: string, overrides: Partial<Settings> = {}) {
  const metrics = createGatewayMetrics();
  const settings: Settings = {
    timeoutMs: 2000,
    retries: 2,
    retryBackoffMs: 20,
    circuitBreakerFailures: 0,
    circuitBreakerCooldownMs: 1000,
    secrets: { current: TEST_SUBGRAPH_SECRET },
    ...overrides,
  };
  const source = new SubgraphDataSource({
    name: "catalog",
    url,
    resilience: {
      timeoutMs: settings.timeoutMs,
      timeoutsMs: {},
      retries: { attempts: settings.retries, backoffMs: settings.retryBackoffMs },
      circuitBreaker: {
        failures: settings.circuitBreakerFailures,
        cooldownMs: settings.circuitBreakerCooldownMs,
      },
    },
    secrets: settings.secrets,
    metrics,
    logger,
  });
  return { source, metrics };
}

interface Call {
  variables?: Record<string, unknown>;
  authorization?: string;
  /** The client's operation the fetch was planned for. */
  clientOperation?: "query" | "mutation";
}

/** Calls the data source as the gateway's executor does for one fetch of a client operation. */
function send(source: SubgraphDataSource, query: string, call: Call = {}): Promise<GatewayGraphQLResponse> {
  const context: GatewayContext = {
    viewer: null,
    client: { name: null, kind: "anonymous", ip: "127.0.0.1" },
    requestId: "req-1",
    forwardedHeaders: call.authorization ? { authorization: call.authorization } : {},
    observed: { operationName: null },
  };
  const clientDocument = parse(call.clientOperation === "mutation" ? "mutation { x }" : "{ x }");
  const options = {
    kind: "incoming operation",
    request: { query, variables: call.variables ?? {} },
    incomingRequestContext: { context, operation: getOperationAST(clientDocument) },
    context,
  };
  return source.process(options as unknown as GraphQLDataSourceProcessOptions<GatewayContext>);
}

async function counter(metric: GatewayMetrics["subgraphRetries"], labels: Record<string, string> = {}) {
  const { values } = await metric.get();
  return values
    .filter((value) => {
      const actual: Record<string, string | number | undefined> = value.labels;
      return Object.entries(labels).every(([name, label]) => actual[name] === label);
    })
    .reduce((sum, value) => sum + value.value, 0);
}

async function fetchCount(metrics: GatewayMetrics, outcome: string): Promise<number> {
  const { values } = await metrics.subgraphFetchDuration.get();
  return (
    values.find((value) => value.metricName?.endsWith("_count") && value.labels.outcome === outcome)?.value ??
    0
  );
}

async function circuitGauge(metrics: GatewayMetrics): Promise<number | undefined> {
  const { values } = await metrics.circuitState.get();
  return values.find((value) => value.labels.subgraph === "catalog")?.value;
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const PRODUCT = "query P { product { id name } }";
const PRODUCT_DATA = { data: { product: { id: "p1", name: "Lamp" } } };
const ADD = "mutation A { addToCart { id } }";

describe("the gateway's signature", () => {
  it("signs every attempt, retries included, over the body the subgraph receives", async () => {
    let attempt = 0;
    const server = await startServer((req, res, body) => {
      attempt += 1;
      if (attempt === 1) unavailable(req, res, body);
      else json(200, PRODUCT_DATA)(req, res, body);
    });
    const { source } = dataSource(server.url, {
      secrets: { current: TEST_SUBGRAPH_SECRET, previous: "the-secret-being-rotated-out-of-use" },
    });
    await send(source, PRODUCT, { variables: { id: "p1" } });
    expect(server.received).toHaveLength(2);
    for (const { signature, body } of server.received) {
      expect(signature).toMatch(/^t=\d+,v1=[\w-]+,v1=[\w-]+$/);
      expect(verifySubgraphSignature({ current: TEST_SUBGRAPH_SECRET }, signature, body)).toBe(true);
      expect(
        verifySubgraphSignature({ current: "the-secret-being-rotated-out-of-use" }, signature, body),
      ).toBe(true);
      expect(verifySubgraphSignature({ current: "a-secret-nobody-here-signs-with-0" }, signature, body)).toBe(
        false,
      );
    }
  });

  it("reports a subgraph that refuses the signature as unavailable, not as the client's fault", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": "NexusSignature" });
      res.end(JSON.stringify({ error: "This service answers the gateway only." }));
    });
    const { source } = dataSource(server.url);
    const response = await send(source, PRODUCT);
    expect(response.errors).toEqual([
      {
        message: 'Subgraph "catalog" answered HTTP 401.',
        path: ["product"],
        extensions: { code: SUBGRAPH_UNAVAILABLE, serviceName: "catalog" },
      },
    ]);
  });
});

describe("retries", () => {
  it("sends a query again after HTTP 503 and after a dropped connection, and returns the answer that came", async () => {
    let attempt = 0;
    const server = await startServer((req, res, body) => {
      attempt += 1;
      if (attempt === 1) unavailable(req, res, body);
      else if (attempt === 2) dropConnection(req, res, body);
      else json(200, PRODUCT_DATA)(req, res, body);
    });
    const { source, metrics } = dataSource(server.url);
    const response = await send(source, PRODUCT);
    expect(response.data).toEqual(PRODUCT_DATA.data);
    expect(response.errors).toBeUndefined();
    expect(server.received).toHaveLength(3);
    expect(await counter(metrics.subgraphRetries, { subgraph: "catalog" })).toBe(2);
    expect(await fetchCount(metrics, "ok")).toBe(1);
  });

  it.each([
    ["HTTP 503", unavailable],
    ["a dropped connection", dropConnection],
  ])("sends a mutation exactly once, even after %s", async (_case, respond) => {
    const server = await startServer(respond);
    const { source, metrics } = dataSource(server.url, { retries: 5 });
    const response = await send(source, ADD, { clientOperation: "mutation" });
    expect(response.errors).toMatchObject([
      { path: ["addToCart"], extensions: { code: SUBGRAPH_UNAVAILABLE, serviceName: "catalog" } },
    ]);
    expect(server.received).toHaveLength(1);
    expect(await counter(metrics.subgraphRetries)).toBe(0);
  });

  it("retries a query planned for a client mutation: it only reads", async () => {
    const server = await startServer(unavailable);
    const { source } = dataSource(server.url);
    await send(source, PRODUCT, { clientOperation: "mutation" });
    expect(server.received).toHaveLength(3);
  });

  it("gives up after SUBGRAPH_RETRIES retries, pausing between attempts for exponentially longer", async () => {
    const server = await startServer(unavailable);
    const { source } = dataSource(server.url, { retries: 3, retryBackoffMs: 100, timeoutMs: 10_000 });
    const response = await send(source, PRODUCT);
    expect(response.errors).toEqual([
      {
        message: 'Subgraph "catalog" answered HTTP 503.',
        path: ["product"],
        extensions: { code: SUBGRAPH_UNAVAILABLE, serviceName: "catalog" },
      },
    ]);
    expect(server.received).toHaveLength(4);
    const pauses = server.received.slice(1).map((request, i) => request.at - (server.received[i]?.at ?? 0));
    // Retry n pauses between 0.5 and 1 times 100 * 2^(n-1) ms; the upper margins allow for a slow machine.
    for (const [i, pause] of pauses.entries()) {
      const step = 100 * 2 ** i;
      expect(pause).toBeGreaterThanOrEqual(step / 2 - 5);
      expect(pause).toBeLessThan(step + 400);
    }
  });

  it("keeps every retry and pause within the subgraph timeout", async () => {
    // Each answer takes 100 ms: ten retries could never fit into 450 ms.
    const server = await startServer(json(503, {}, 100));
    const { source, metrics } = dataSource(server.url, { retries: 10, retryBackoffMs: 50, timeoutMs: 450 });
    const started = performance.now();
    const response = await send(source, PRODUCT);
    const elapsed = performance.now() - started;
    expect(response.errors?.[0]?.extensions).toEqual({ code: SUBGRAPH_UNAVAILABLE, serviceName: "catalog" });
    expect(server.received.length).toBeGreaterThanOrEqual(2);
    expect(server.received.length).toBeLessThanOrEqual(4);
    expect(elapsed).toBeLessThan(450 + 400);
    expect(await counter(metrics.subgraphRetries)).toBe(server.received.length - 1);
  });

  it("does not retry an attempt that timed out: the fetch's time is spent", async () => {
    const server = await startServer(neverAnswer);
    const { source, metrics } = dataSource(server.url, { timeoutMs: 300, retries: 2 });
    const started = performance.now();
    const response = await send(source, PRODUCT);
    const elapsed = performance.now() - started;
    expect(response.errors).toEqual([
      {
        message: 'Subgraph "catalog" did not answer within 300 ms.',
        path: ["product"],
        extensions: { code: SUBGRAPH_UNAVAILABLE, serviceName: "catalog" },
      },
    ]);
    expect(server.received).toHaveLength(1);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 700);
    expect(await fetchCount(metrics, "timeout")).toBe(1);
  });

  it("times out a subgraph that sends its headers and then stalls in the body", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"data":{"product":');
    });
    const { source } = dataSource(server.url, { timeoutMs: 300 });
    const started = performance.now();
    const response = await send(source, PRODUCT);
    expect(performance.now() - started).toBeLessThan(300 + 700);
    expect(response.errors?.[0]?.message).toBe('Subgraph "catalog" did not answer within 300 ms.');
  });
});

describe("the circuit breaker", () => {
  it("opens after CIRCUIT_BREAKER_FAILURES failed fetches and then fails fast without calling the subgraph", async () => {
    const server = await startServer(unavailable);
    const { source, metrics } = dataSource(server.url, {
      retries: 0,
      circuitBreakerFailures: 3,
      circuitBreakerCooldownMs: 60_000,
    });
    for (let i = 0; i < 3; i += 1) {
      expect((await send(source, PRODUCT)).errors?.[0]?.message).toBe(
        'Subgraph "catalog" answered HTTP 503.',
      );
    }
    expect(server.received).toHaveLength(3);
    expect(source.resilience.circuitState).toBe("open");
    expect(await circuitGauge(metrics)).toBe(2);

    const started = performance.now();
    const response = await send(source, PRODUCT);
    expect(performance.now() - started).toBeLessThan(100);
    expect(response.errors).toEqual([
      {
        message: 'Subgraph "catalog" is unavailable: circuit open after 3 consecutive failures.',
        path: ["product"],
        extensions: { code: SUBGRAPH_UNAVAILABLE, serviceName: "catalog" },
      },
    ]);
    // Mutations fail fast too: the subgraph is not called.
    await send(source, ADD, { clientOperation: "mutation" });
    expect(server.received).toHaveLength(3);
    expect(await fetchCount(metrics, "circuit_open")).toBe(2);
  });

  it("counts a query's retries as one failed fetch", async () => {
    const server = await startServer(unavailable);
    const { source } = dataSource(server.url, { retries: 2, circuitBreakerFailures: 2 });
    await send(source, PRODUCT);
    expect(server.received).toHaveLength(3);
    expect(source.resilience.circuitState).toBe("closed");
    await send(source, PRODUCT);
    expect(source.resilience.circuitState).toBe("open");
  });

  it("half-opens after the cooldown for a single trial fetch, and closes when it succeeds", async () => {
    const server = await startServer(unavailable);
    const { source, metrics } = dataSource(server.url, {
      retries: 0,
      circuitBreakerFailures: 2,
      circuitBreakerCooldownMs: 300,
    });
    await send(source, PRODUCT);
    await send(source, PRODUCT);
    expect(source.resilience.circuitState).toBe("open");

    server.respond = json(200, PRODUCT_DATA, 200);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const trial = send(source, PRODUCT);
    await until(() => server.received.length === 3);
    expect(source.resilience.circuitState).toBe("half-open");
    expect(await circuitGauge(metrics)).toBe(1);
    // While the trial is out, any other fetch still fails fast.
    const other = await send(source, "query Q { categories { id } }");
    expect(other.errors?.[0]?.message).toMatch(/circuit open/);
    expect((await trial).data).toEqual(PRODUCT_DATA.data);
    expect(source.resilience.circuitState).toBe("closed");
    expect(await circuitGauge(metrics)).toBe(0);

    expect((await send(source, PRODUCT)).data).toEqual(PRODUCT_DATA.data);
    expect(server.received).toHaveLength(4);
  });

  it("opens again for another cooldown when the trial fails", async () => {
    const server = await startServer(unavailable);
    const { source, metrics } = dataSource(server.url, {
      retries: 0,
      circuitBreakerFailures: 1,
      circuitBreakerCooldownMs: 200,
    });
    await send(source, PRODUCT);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await send(source, PRODUCT);
    expect(server.received).toHaveLength(2);
    expect(source.resilience.circuitState).toBe("open");
    expect(await circuitGauge(metrics)).toBe(2);
    expect((await send(source, PRODUCT)).errors?.[0]?.message).toMatch(/circuit open/);
    expect(server.received).toHaveLength(2);
  });

  it("does not count an answer with GraphQL errors, or a 4xx, as a failure", async () => {
    const server = await startServer(json(200, { errors: [{ message: "Product p9 was not found." }] }));
    const { source } = dataSource(server.url, { circuitBreakerFailures: 1 });
    await send(source, PRODUCT);
    server.respond = json(401, {
      errors: [{ message: "Token revoked.", extensions: { code: "UNAUTHENTICATED" } }],
    });
    const refused = await send(source, PRODUCT);
    expect(refused.errors?.[0]).toMatchObject({
      message: "Token revoked.",
      extensions: { code: "UNAUTHENTICATED" },
    });
    expect(source.resilience.circuitState).toBe("closed");
  });
});

describe("deduplication", () => {
  /** Answers after `delayMs` with the token it was sent, so a test can see whose answer is whose. */
  const echoToken =
    (delayMs: number): Respond =>
    (req, res, body) =>
      json(
        200,
        { data: { product: { id: "p1", token: req.headers.authorization ?? null, tags: ["a"] } } },
        delayMs,
      )(req, res, body);

  it("sends identical concurrent query fetches with the same authorization once, each caller getting its own objects", async () => {
    const server = await startServer(echoToken(200));
    const { source, metrics } = dataSource(server.url);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => send(source, PRODUCT, { authorization: "Bearer a" })),
    );
    expect(server.received).toHaveLength(1);
    expect(await counter(metrics.subgraphDeduplicated, { subgraph: "catalog" })).toBe(9);
    for (const response of responses) {
      expect(response.data).toEqual({ product: { id: "p1", token: "Bearer a", tags: ["a"] } });
    }
    // The gateway merges these objects into its result and mutates them: nothing may be shared.
    const [first, second] = responses as [GatewayGraphQLResponse, GatewayGraphQLResponse];
    expect(first.data).not.toBe(second.data);
    (first.data as { product: { tags: string[] } }).product.tags.push("changed");
    expect(second.data).toEqual({ product: { id: "p1", token: "Bearer a", tags: ["a"] } });
  });

  it("sends separate fetches for different authorization or different variables", async () => {
    const server = await startServer(echoToken(200));
    const { source, metrics } = dataSource(server.url);
    const calls: [string, Record<string, unknown>][] = [
      ["Bearer a", { id: "p1" }],
      ["Bearer b", { id: "p1" }],
      ["Bearer a", { id: "p2" }],
    ];
    const responses = await Promise.all(
      calls.flatMap(([authorization, variables]) =>
        Array.from({ length: 3 }, () => send(source, PRODUCT, { authorization, variables })),
      ),
    );
    expect(server.received).toHaveLength(3);
    expect(await counter(metrics.subgraphDeduplicated)).toBe(6);
    // No caller ever sees an answer fetched with another token.
    for (const [i, response] of responses.entries()) {
      expect(response.data?.product).toMatchObject({ token: calls[Math.floor(i / 3)]?.[0] });
    }
  });

  it("never shares a mutation, nor a fetch planned for a client mutation", async () => {
    const server = await startServer(echoToken(100));
    const { source, metrics } = dataSource(server.url);
    await Promise.all([
      ...Array.from({ length: 3 }, () =>
        send(source, ADD, { authorization: "Bearer a", clientOperation: "mutation" }),
      ),
      ...Array.from({ length: 3 }, () =>
        send(source, PRODUCT, { authorization: "Bearer a", clientOperation: "mutation" }),
      ),
    ]);
    expect(server.received).toHaveLength(6);
    expect(await counter(metrics.subgraphDeduplicated)).toBe(0);
  });

  it("gives every caller of a shared fetch that failed its own errors", async () => {
    const server = await startServer(json(503, {}, 100));
    const { source } = dataSource(server.url, { retries: 0 });
    const responses = await Promise.all(Array.from({ length: 4 }, () => send(source, PRODUCT)));
    expect(server.received).toHaveLength(1);
    for (const response of responses) {
      expect(response.errors).toEqual([
        {
          message: 'Subgraph "catalog" answered HTTP 503.',
          path: ["product"],
          extensions: { code: SUBGRAPH_UNAVAILABLE, serviceName: "catalog" },
        },
      ]);
    }
    expect(responses[0]?.errors?.[0]).not.toBe(responses[1]?.errors?.[0]);
  });

  it("starts a new fetch once the shared one has ended", async () => {
    const server = await startServer(echoToken(0));
    const { source } = dataSource(server.url);
    await send(source, PRODUCT);
    await send(source, PRODUCT);
    expect(server.received).toHaveLength(2);
  });
});

describe("errors of a failed fetch", () => {
  it("name the subgraph at each field of each entity the fetch was for", async () => {
    const { source, metrics } = dataSource(await closedPortUrl(), { retries: 1, retryBackoffMs: 10 });
    const query = `query Q__catalog__1($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Product { name price { amount } } }
    }`;
    const representations = [
      { __typename: "Product", id: "p1" },
      { __typename: "Product", id: "p2" },
    ];
    const response = await send(source, query, { variables: { representations } });
    const error = (path: (string | number)[]) => ({
      message: 'Subgraph "catalog" is unreachable.',
      path,
      extensions: { code: SUBGRAPH_UNAVAILABLE, serviceName: "catalog" },
    });
    expect(response).toEqual({
      errors: [
        error(["_entities", 0, "name"]),
        error(["_entities", 0, "price"]),
        error(["_entities", 1, "name"]),
        error(["_entities", 1, "price"]),
      ],
    });
    expect(await fetchCount(metrics, "unreachable")).toBe(1);
    expect(await counter(metrics.subgraphRetries)).toBe(1);
  });
});
