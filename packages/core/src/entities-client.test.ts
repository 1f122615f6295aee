import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createEntitiesCaller, type EntitiesCallerOptions } from "./entities-client.ts";
import { SUBGRAPH_SIGNATURE_HEADER, verifySubgraphSignature } from "./subgraph-auth.ts";

const SECRETS = { current: "entities-caller-secret-entities-caller-0" };
const QUERY = `query Test($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Product { id } }
}`;
const REPRESENTATIONS = [
  { __typename: "Product", id: "p1" },
  { __typename: "Product", id: "p2" },
];

class ServiceDownError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ServiceDownError";
  }
}

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
  /** Whether the signature verified when the request arrived, by the server's own clock. */
  signed: boolean;
}

type Handler = (received: Received, res: ServerResponse, attempt: number) => void;

let server: ReturnType<typeof createServer>;
let url: string;
let received: Received[];
let handler: Handler;

beforeEach(async () => {
  received = [];
  handler = (_, res) => sendJson(res, 200, { data: { _entities: [{ id: "p1" }, null] } });
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const header = req.headers[SUBGRAPH_SIGNATURE_HEADER];
      const entry = {
        headers: req.headers,
        body,
        signed: verifySubgraphSignature(SECRETS, typeof header === "string" ? header : undefined, body),
      };
      received.push(entry);
      handler(entry, res, received.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterEach(async () => {
  vi.restoreAllMocks();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function caller(overrides: Partial<EntitiesCallerOptions> = {}) {
  return createEntitiesCaller({
    service: "the test service",
    url,
    secrets: SECRETS,
    resilience: {
      timeoutMs: 2000,
      retries: { attempts: 2, backoffMs: 10 },
      circuitBreaker: { failures: 5, cooldownMs: 10_000 },
    },
    unavailable: (message, options) => new ServiceDownError(message, options),
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<ServiceDownError> {
  const error = await promise.then(
    () => {
      throw new Error("the call succeeded");
    },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(ServiceDownError);
  return error as ServiceDownError;
}

describe("createEntitiesCaller", () => {
  it("posts the query and representations, signed, with the request id and authorization, and returns the entities", async () => {
    const entities = await caller()(QUERY, REPRESENTATIONS, {
      requestId: "req-1",
      authorization: "Bearer user-token",
    });
    expect(entities).toEqual([{ id: "p1" }, null]);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.signed).toBe(true);
    expect(JSON.parse(request?.body ?? "")).toEqual({
      query: QUERY,
      variables: { representations: REPRESENTATIONS },
    });
    expect(request?.headers).toMatchObject({
      "content-type": "application/json",
      "x-request-id": "req-1",
      authorization: "Bearer user-token",
    });
  });

  it("sends no authorization nor request id it was not given", async () => {
    await caller()(QUERY, REPRESENTATIONS);
    expect(received[0]?.headers.authorization).toBeUndefined();
    expect(received[0]?.headers["x-request-id"]).toBeUndefined();
    expect(received[0]?.signed).toBe(true);
  });

  it("asks nothing for no representations", async () => {
    expect(await caller()(QUERY, [])).toEqual([]);
    expect(received).toHaveLength(0);
  });

  it("retries a 503 with a signature made for each attempt", async () => {
    // The clock jumps past a signature's lifetime between attempts: one reused would be stale.
    const realNow = Date.now.bind(Date);
    let skewMs = 0;
    vi.spyOn(Date, "now").mockImplementation(() => realNow() + skewMs);
    handler = (_, res, attempt) => {
      skewMs += 120_000;
      if (attempt < 3) sendJson(res, 503, { errors: [{ message: "restarting" }] });
      else sendJson(res, 200, { data: { _entities: [{ id: "p1" }, { id: "p2" }] } });
    };
    expect(await caller()(QUERY, REPRESENTATIONS)).toEqual([{ id: "p1" }, { id: "p2" }]);
    expect(received.map((request) => request.signed)).toEqual([true, true, true]);
    const signatures = new Set(received.map((request) => request.headers[SUBGRAPH_SIGNATURE_HEADER]));
    expect(signatures.size).toBe(3);
  });

  it("throws the caller's error with the last status once the retries are spent", async () => {
    handler = (_, res) => sendJson(res, 503, { errors: [{ message: "restarting" }] });
    const error = await failure(caller()(QUERY, REPRESENTATIONS));
    expect(error.message).toBe("The test service answered HTTP 503.");
    expect(received).toHaveLength(3);
  });

  it("does not retry a 500 nor a 4xx", async () => {
    handler = (_, res) => sendJson(res, 500, { errors: [{ message: "bug" }] });
    expect((await failure(caller()(QUERY, REPRESENTATIONS))).message).toBe(
      "The test service answered HTTP 500.",
    );
    expect(received).toHaveLength(1);
    handler = (_, res) => sendJson(res, 400, { errors: [{ message: "Cannot query field" }] });
    const error = await failure(caller()(QUERY, REPRESENTATIONS));
    expect(error.message).toBe("The test service answered HTTP 400.");
    expect(error.cause).toEqual({ errors: [{ message: "Cannot query field" }] });
    expect(received).toHaveLength(2);
  });

  it("gives up at the deadline and does not retry after it", async () => {
    handler = () => {};
    const started = performance.now();
    const error = await failure(caller({ resilience: shortDeadline(150) })(QUERY, REPRESENTATIONS));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error.message).toBe(`The test service at ${url} did not answer.`);
    expect(error.cause).toMatchObject({ name: "TimeoutError" });
    // Give a retry, were one wrongly sent, the time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(1);
  });

  it("times out a body that is still being sent at the deadline", async () => {
    handler = (_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"data":');
    };
    const error = await failure(caller({ resilience: shortDeadline(150) })(QUERY, REPRESENTATIONS));
    expect(error.message).toBe(`The test service at ${url} did not answer.`);
    expect(received).toHaveLength(1);
  });

  it("turns away an answer with GraphQL errors", async () => {
    handler = (_, res) =>
      sendJson(res, 200, { data: { _entities: [null, null] }, errors: [{ message: "denied" }] });
    const error = await failure(caller()(QUERY, REPRESENTATIONS));
    expect(error.message).toBe("The test service answered with errors.");
    expect(error.cause).toEqual([{ message: "denied" }]);
  });

  it("turns away an answer without one entity per representation", async () => {
    handler = (_, res) => sendJson(res, 200, { data: { _entities: [{ id: "p1" }] } });
    expect((await failure(caller()(QUERY, REPRESENTATIONS))).message).toBe(
      "The test service's answer does not hold one entity per representation: 2 asked, 1 returned.",
    );
    handler = (_, res) => sendJson(res, 200, { data: null });
    expect((await failure(caller()(QUERY, REPRESENTATIONS))).message).toBe(
      "The test service's answer does not hold one entity per representation: 2 asked, no list returned.",
    );
  });

  it("turns away a body that is not JSON, or not a GraphQL response", async () => {
    handler = (_, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>proxy error</html>");
    };
    const error = await failure(caller()(QUERY, REPRESENTATIONS));
    expect(error.message).toBe("The test service answered HTTP 200 without JSON.");
    expect(error.cause).toBeInstanceOf(SyntaxError);
    handler = (_, res) => sendJson(res, 200, ["not", "an", "object"]);
    expect((await failure(caller()(QUERY, REPRESENTATIONS))).message).toBe(
      "The test service's answer is not a GraphQL response.",
    );
  });

  it("says the service is not called for now once the circuit opens, and sends nothing", async () => {
    handler = (_, res) => sendJson(res, 500, { errors: [{ message: "bug" }] });
    const call = caller({
      resilience: {
        timeoutMs: 2000,
        retries: { attempts: 0, backoffMs: 10 },
        circuitBreaker: { failures: 2, cooldownMs: 60_000 },
      },
    });
    await failure(call(QUERY, REPRESENTATIONS));
    await failure(call(QUERY, REPRESENTATIONS));
    const error = await failure(call(QUERY, REPRESENTATIONS));
    expect(error.message).toBe(`The test service at ${url} is not called for now: it kept failing.`);
    expect(received).toHaveLength(2);
  });

  it("says a refused connection did not answer", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/graphql`;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(caller({ url: closedUrl })(QUERY, REPRESENTATIONS));
    expect(error.message).toBe(`The test service at ${closedUrl} did not answer.`);
  });
});

function shortDeadline(timeoutMs: number): EntitiesCallerOptions["resilience"] {
  return {
    timeoutMs,
    retries: { attempts: 3, backoffMs: 10 },
    circuitBreaker: { failures: 5, cooldownMs: 10_000 },
  };
}
