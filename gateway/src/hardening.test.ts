/**
 * A gateway started with NODE_ENV=production, over HTTP, in front of tiny real subgraphs:
 * the schema is kept to admins (no introspection, no "Did you mean" for anyone else), no
 * error carries a stack trace whatever raised it, GraphiQL is off unless asked for, and a
 * request the gateway cannot run is a client error (HTTP 400), never a 500.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createNodeServer, type RequestListener } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, graphQLError, sendJson } from "@nexus/core";
import {
  createTestAuth,
  serveJwks,
  TEST_SUBGRAPH_SECRET,
  TEST_TOKEN_AUDIENCE,
  type TestAuth,
  testRedisPrefix,
  until,
} from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "./app.ts";
import { loadConfig } from "./config.ts";
import { listen, startTestSubgraph, writeTestSupergraph } from "./test-harness.ts";

const logger = createLogger("hardening-test", "silent");
const FEDERATION = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])`;

const SHOP_SDL = `${FEDERATION}
type Query {
  products(first: Int, search: String): [Product!]!
  "Throws an unexpected error, as a bug would."
  broken: String
  "Throws a GraphQLError on purpose."
  refused: String
}
type Product @key(fields: "id") { id: ID! name: String! }
`;
/** Answered by a raw server: an Apollo Server 2/3 subgraph's error shape, and a malformed answer. */
const LEGACY_SDL = `${FEDERATION}
type Query { legacy: String garbled: String }
`;

/**
 * As the subgraph runs when NODE_ENV is unset: Apollo Server then adds `extensions.stacktrace`
 * to every error, which is what the gateway must not pass on.
 */
/** Requests the shop subgraph has received: a refusal at the gateway must add none. */
let shopRequests = 0;

function startShop() {
  return startTestSubgraph(
    SHOP_SDL,
    {
      Query: {
        products: () => [{ id: "p1", name: "Desk" }],
        broken: () => {
          throw new Error("connect ECONNREFUSED 10.0.0.7:5432");
        },
        refused: () => {
          throw graphQLError("FORBIDDEN", "Not for you.");
        },
      },
    },
    {
      includeStacktraceInErrorResponses: true,
      onRequest: () => {
        shopRequests += 1;
      },
    },
  );
}

const legacyAnswer: RequestListener = (req, res) => {
  let body = "";
  req.on("data", (chunk: Buffer) => {
    body += chunk.toString();
  });
  req.on("end", () => {
    if (body.includes("garbled")) {
      // `errors` that is not a list: @apollo/gateway's own code throws a TypeError on it.
      sendJson(res, 200, { errors: "boom" });
      return;
    }
    sendJson(res, 200, {
      data: { legacy: null },
      errors: [
        {
          message: "Legacy failure.",
          path: ["legacy"],
          extensions: {
            code: "INTERNAL_SERVER_ERROR",
            exception: {
              stacktrace: ["Error: Legacy failure.", "    at resolve (/srv/legacy/index.js:12:9)"],
            },
          },
        },
      ],
    });
  });
};

const tmp = mkdtempSync(join(tmpdir(), "nexus-hardening-test-"));
const stops: (() => Promise<void>)[] = [];
let auth: TestAuth;
let baseEnv: Record<string, string>;
let production: RunningGateway;

async function startRaw(listener: RequestListener): Promise<string> {
  const server = createNodeServer(listener);
  const port = await listen(server);
  stops.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${port}/graphql`;
}

async function startProductionGateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  const running = await startGateway(
    loadConfig({ ...baseEnv, GATEWAY_REDIS_PREFIX: testRedisPrefix("hardening"), ...env }),
    logger,
  );
  stops.push(running.stop);
  return running;
}

beforeAll(async () => {
  auth = await createTestAuth();
  const jwks = await serveJwks(auth.jwks);
  stops.push(jwks.close);
  const shop = await startShop();
  stops.push(shop.close);
  const legacyUrl = await startRaw(legacyAnswer);

  const supergraphPath = writeTestSupergraph(tmp, [
    { name: "shop", url: shop.url, sdl: SHOP_SDL },
    { name: "legacy", url: legacyUrl, sdl: LEGACY_SDL },
  ]);

  baseEnv = {
    SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    GATEWAY_PORT: "0",
    LOG_LEVEL: "silent",
    SUPERGRAPH_PATH: supergraphPath,
    JWKS_URL: jwks.url,
    JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
    JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
  };
  production = await startProductionGateway();
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** `extensions` (the response's, e.g. `cost`) is left to limits.test.ts. */
interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

async function post(query: string, authorization?: string) {
  const response = await fetch(production.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as GraphQLBody };
}

const INTROSPECTION = "{ __schema { queryType { name } } }";

describe("introspection in production", () => {
  it("is refused to anonymous clients", async () => {
    const result = await post(INTROSPECTION);
    expect(result.status).toBe(403);
    expect(result.body).toEqual({
      errors: [{ message: "Introspection is available to admins only.", extensions: { code: "FORBIDDEN" } }],
    });
  });

  it("is refused to customers and partners, __type included", async () => {
    for (const role of ["CUSTOMER", "PARTNER"] as const) {
      const authorization = await auth.bearer("u1", role);
      expect((await post(INTROSPECTION, authorization)).status, role).toBe(403);
      expect((await post('{ __type(name: "Product") { name } }', authorization)).status, role).toBe(403);
    }
  });

  it("is served to admins", async () => {
    const result = await post(INTROSPECTION, await auth.bearer("a1", "ADMIN"));
    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data).toEqual({ __schema: { queryType: { name: "Query" } } });
  });

  it("leaves __typename to everyone", async () => {
    const result = await post("{ __typename products { __typename id } }");
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data).toEqual({
      __typename: "Query",
      products: [{ __typename: "Product", id: "p1" }],
    });
  });
});

describe("suggestions in production", () => {
  it("are not given for a misspelled field or argument", async () => {
    for (const authorization of [undefined, await auth.bearer("u1", "CUSTOMER")]) {
      const result = await post("{ prodcts { id } products(frist: 1) { nme } }", authorization);
      expect(result.status).toBe(400);
      expect(result.body.errors?.map((error) => error.message)).toEqual([
        'Cannot query field "prodcts" on type "Query".',
        'Unknown argument "frist" on field "Query.products".',
        'Cannot query field "nme" on type "Product".',
      ]);
      expect(result.text).not.toContain("Did you mean");
    }
  });

  it("are given to admins, who may read the schema anyway", async () => {
    const result = await post("{ prodcts { id } }", await auth.bearer("a1", "ADMIN"));
    expect(result.body.errors?.[0]?.message).toBe(
      'Cannot query field "prodcts" on type "Query". Did you mean "products"?',
    );
  });
});

describe("stack traces", () => {
  /** Every error's extensions hold its code and where it came from, and nothing else. */
  const expectNoTrace = (result: { text: string; body: GraphQLBody }) => {
    expect(result.body.errors?.length).toBeGreaterThan(0);
    for (const error of result.body.errors ?? []) {
      for (const key of Object.keys(error.extensions ?? {})) expect(["code", "serviceName"]).toContain(key);
    }
    expect(result.text).not.toMatch(/stacktrace|exception|\.js:\d+|\.ts:\d+/);
  };

  it("are removed from a subgraph's unexpected error", async () => {
    const result = await post("{ broken }");
    expectNoTrace(result);
    expect(result.body.errors?.[0]).toMatchObject({
      path: ["broken"],
      extensions: { code: "INTERNAL_SERVER_ERROR", serviceName: "shop" },
    });
  });

  it("are removed from a subgraph's error raised on purpose, which keeps its message and code", async () => {
    const result = await post("{ refused }", await auth.bearer("a1", "ADMIN"));
    expectNoTrace(result);
    expect(result.body.data).toEqual({ refused: null });
    expect(result.body.errors).toEqual([
      { message: "Not for you.", path: ["refused"], extensions: { code: "FORBIDDEN", serviceName: "shop" } },
    ]);
  });

  it("are removed from an Apollo Server 2/3 subgraph's `exception` extension", async () => {
    const result = await post("{ legacy }");
    expectNoTrace(result);
    expect(result.body.errors?.[0]).toEqual({
      message: "Legacy failure.",
      path: ["legacy"],
      extensions: { code: "INTERNAL_SERVER_ERROR", serviceName: "legacy" },
    });
  });

  it("are never added to an unexpected error raised in the gateway itself, which is masked", async () => {
    const result = await post("{ garbled }");
    expectNoTrace(result);
    expect(result.body.data).toEqual({ garbled: null });
    expect(result.body.errors).toEqual([
      { message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } },
    ]);
  });
});

describe("CORS in production", () => {
  const preflight = (url: string, origin: string) =>
    fetch(url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });

  it("allows no page on this machine that CORS_ORIGINS does not list", async () => {
    for (const origin of ["http://localhost:5173", "http://127.0.0.1:3000"]) {
      const refused = await preflight(production.url, origin);
      expect(refused.status).toBe(403);
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
      const read = await fetch(production.url, {
        method: "POST",
        headers: { "content-type": "application/json", origin },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
      expect(read.status).toBe(200);
      expect(read.headers.get("access-control-allow-origin")).toBeNull();
    }
  });

  it("allows a local origin listed in CORS_ORIGINS, and only that one", async () => {
    const listed = await startProductionGateway({ CORS_ORIGINS: "http://localhost:3000" });
    const allowed = await preflight(listed.url, "http://localhost:3000");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    const other = await preflight(listed.url, "http://localhost:5173");
    expect(other.status).toBe(403);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("GraphiQL in production", () => {
  it("is off by default: /graphiql is 404", async () => {
    const origin = production.url.replace(/\/graphql$/, "");
    expect((await fetch(`${origin}/graphiql`)).status).toBe(404);
  });

  it("is served with GRAPHIQL=admin, for admins to sign in", async () => {
    const admin = await startProductionGateway({ GRAPHIQL: "admin" });
    const response = await fetch(admin.url.replace(/\/graphql$/, "/graphiql"));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('data-mode="admin"');
    // The schema stays the admins' all the same.
    const introspection = await fetch(admin.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: INTROSPECTION }),
    });
    expect(introspection.status).toBe(403);
  });
});

describe("requests the gateway cannot run", () => {
  async function send(body: Record<string, unknown>) {
    const before = shopRequests;
    const response = await fetch(production.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: JSON.parse(text) as GraphQLBody,
      subgraphCalls: shopRequests - before,
    };
  }

  it("an operationName the document does not have is HTTP 400", async () => {
    const result = await send({ query: "query A { products { id } }", operationName: "B" });
    expect(result).toMatchObject({ status: 400, subgraphCalls: 0 });
    expect(result.body.errors).toEqual([
      { message: 'Unknown operation named "B".', extensions: { code: "OPERATION_RESOLUTION_FAILURE" } },
    ]);
  });

  it("several operations and no operationName is HTTP 400", async () => {
    const result = await send({ query: "query A { products { id } } query B { __typename }" });
    expect(result).toMatchObject({ status: 400, subgraphCalls: 0 });
    expect(result.body.errors).toEqual([
      {
        message: "Must provide operation name if query contains multiple operations.",
        extensions: { code: "OPERATION_RESOLUTION_FAILURE" },
      },
    ]);
  });

  it("a subscription is HTTP 400 while the gateway serves none", async () => {
    const result = await send({ query: "subscription { products { id } }" });
    expect(result).toMatchObject({ status: 400, subgraphCalls: 0 });
    expect(result.body.errors).toEqual([
      {
        message: "This service does not serve subscription operations.",
        locations: [{ line: 1, column: 1 }],
        extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
      },
    ]);
  });

  it("text with a control character is HTTP 400 BAD_USER_INPUT, and no subgraph is called", async () => {
    const result = await send({
      query: "query ($search: String) { products(search: $search) { id } }",
      variables: { search: "desk\u0000" },
    });
    expect(result).toMatchObject({ status: 400, subgraphCalls: 0 });
    expect(result.body.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "search" });
  });

  describe("automatic persisted queries", () => {
    const query = "{ products { id } }";
    const sha256Hash = createHash("sha256").update(query).digest("hex");

    it("a hash that does not match the query is HTTP 400 with Apollo's message", async () => {
      const result = await send({
        query,
        extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } },
      });
      expect(result).toMatchObject({ status: 400, subgraphCalls: 0 });
      expect(result.body.errors).toEqual([
        { message: "provided sha does not match query", extensions: { code: "BAD_REQUEST" } },
      ]);
    });

    it("an unsupported version is HTTP 400 with Apollo's message", async () => {
      const result = await send({ query, extensions: { persistedQuery: { version: 2, sha256Hash } } });
      expect(result).toMatchObject({ status: 400, subgraphCalls: 0 });
      expect(result.body.errors).toEqual([
        { message: "Unsupported persisted query version", extensions: { code: "BAD_REQUEST" } },
      ]);
    });

    it("an unknown id is still Apollo's PERSISTED_QUERY_NOT_FOUND, and registering then works", async () => {
      const unknown = await send({ extensions: { persistedQuery: { version: 1, sha256Hash } } });
      expect(unknown.body.errors).toEqual([
        { message: "PersistedQueryNotFound", extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } },
      ]);
      const registered = await send({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } });
      expect(registered.body).toEqual({ data: { products: [{ id: "p1" }] }, extensions: expect.anything() });
      // Redis may take a moment to hold the registration.
      await until("the query to be registered", async () => {
        const byId = await send({ extensions: { persistedQuery: { version: 1, sha256Hash } } });
        return byId.body.data ? byId : undefined;
      });
    });
  });
});
