/**
 * The gateway over HTTP, as a client sees it, in front of tiny real subgraphs built with
 * @apollo/subgraph (no Nexus subgraph is imported) and a few broken ones: one that never
 * answers, one that refuses with HTTP 401, one behind a failing proxy, one that is down.
 * The real subgraphs record the forwarded headers of every request they receive.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingHttpHeaders, RequestListener } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { GraphQLResolverMap } from "@apollo/subgraph";
import { createLogger, createTokenSigner, graphQLError, type RouteHandler, sendJson } from "@nexus/core";
import {
  createTestAuth,
  TEST_SUBGRAPH_SECRET,
  TEST_TOKEN_AUDIENCE,
  type TestAuth,
  testRedisPrefix,
} from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../app.ts";
import { loadConfig } from "../config.ts";
import {
  closedPortUrl,
  type RawServer,
  startRawServer,
  startTestSubgraph,
  writeTestSupergraph,
} from "../test-harness.ts";

const logger = createLogger("gateway-test", "silent");
const TIMEOUT_MS = 300;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FEDERATION = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])`;

const ACCOUNTS_SDL = `${FEDERATION}
type Query { user(id: ID!): User }
type User @key(fields: "id") { id: ID! name: String }
`;
const REVIEWS_SDL = `${FEDERATION}
type Query { reviews: [Review!]! review(id: ID!): Review }
type Review { id: ID! body: String! author: User! }
type User @key(fields: "id", resolvable: false) { id: ID! }
`;
const SLOW_SDL = `${FEDERATION}
type Query { slow: String }
`;
const GUARDED_SDL = `${FEDERATION}
type Query { guarded: String }
`;
const PROXIED_SDL = `${FEDERATION}
type Query { proxied: String }
`;
const DOWN_SDL = `${FEDERATION}
type Query { offline: String }
`;

interface UserRow {
  id: string;
  name: string;
  hidden: boolean;
}
const USERS = new Map<string, UserRow>([
  ["u1", { id: "u1", name: "Ada", hidden: false }],
  ["u2", { id: "u2", name: "Grace", hidden: false }],
  ["u3", { id: "u3", name: "Hidden", hidden: true }],
]);
const REVIEWS = [
  { id: "r1", body: "Great", authorId: "u1" },
  { id: "r2", body: "Meh", authorId: "u2" },
  { id: "r3", body: "Again", authorId: "u1" },
  { id: "r4", body: "Secret", authorId: "u3" },
];

/** What a subgraph saw of one request: the headers the gateway forwards. */
interface Seen {
  authorization: string | undefined;
  requestId: string | undefined;
  clientName: string | undefined;
  clientVersion: string | undefined;
}

interface FakeSubgraph {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

async function startSubgraph(
  typeDefs: string,
  resolvers: GraphQLResolverMap<unknown>,
  options: { routes?: Record<string, RouteHandler> } = {},
): Promise<FakeSubgraph> {
  const seen: Seen[] = [];
  const http = await startTestSubgraph(typeDefs, resolvers, {
    routes: options.routes,
    onRequest: (req) => seen.push(seenOf(req.headers)),
  });
  return { url: http.url, seen, close: http.close };
}

function seenOf(headers: IncomingHttpHeaders): Seen {
  const one = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    authorization: one("authorization"),
    requestId: one("x-request-id"),
    clientName: one("apollographql-client-name"),
    clientVersion: one("apollographql-client-version"),
  };
}

// Never answers: what a wedged subgraph looks like.
const neverAnswer: RequestListener = () => {};
// Refuses every request as a subgraph does when it rejects the token the gateway let through.
const refuseWith401: RequestListener = (_req, res) =>
  sendJson(res, 401, {
    errors: [{ message: "This token was revoked.", extensions: { code: "UNAUTHENTICATED" } }],
  });
// A load balancer in front of a subgraph that has no healthy instance.
const badGateway: RequestListener = (_req, res) => {
  res.writeHead(502, { "content-type": "text/html" });
  res.end("<html><body>502 Bad Gateway</body></html>");
};

const tmp = mkdtempSync(join(tmpdir(), "nexus-gateway-test-"));

function writeSupergraph(file: string, subgraphs: { name: string; url: string; sdl: string }[]): string {
  return writeTestSupergraph(tmp, subgraphs, file);
}

interface HttpResult {
  status: number;
  headers: Headers;
  body: unknown;
}

async function post(
  endpoint: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });
  // Every costed response carries extensions.cost (limits.test.ts covers it); these tests look at the rest.
  const { extensions: _cost, ...body } = (await response.json()) as { extensions?: unknown };
  return { status: response.status, headers: response.headers, body };
}

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

const entityRefs: string[] = [];
const accountsResolvers: GraphQLResolverMap<unknown> = {
  Query: {
    user: (_: unknown, { id }: { id: string }) => {
      const user = USERS.get(id);
      if (!user) throw graphQLError("NOT_FOUND", `User ${id} was not found.`);
      return user;
    },
  },
  User: {
    __resolveReference: (ref: { id: string }) => {
      entityRefs.push(ref.id);
      return USERS.get(ref.id) ?? null;
    },
    name: (user: UserRow) => {
      if (user.hidden) throw graphQLError("FORBIDDEN", "This name is private.");
      return user.name;
    },
  },
};
const reviewsResolvers: GraphQLResolverMap<unknown> = {
  Query: {
    reviews: () => REVIEWS.slice(0, 3),
    review: (_: unknown, { id }: { id: string }) => REVIEWS.find((review) => review.id === id) ?? null,
  },
  Review: {
    author: (review: { authorId: string }) => ({ __typename: "User", id: review.authorId }),
  },
};

let auth: TestAuth;
let accounts: FakeSubgraph;
let reviews: FakeSubgraph;
let silent: RawServer;
let gateway: RunningGateway;
let baseEnv: Record<string, string>;
let supergraphPath: string;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  auth = await createTestAuth();
  const { jwks } = await createTokenSigner({
    ...TEST_TOKEN_AUDIENCE,
    privateKeyPem: auth.privateKeyPem,
    ttlSeconds: 900,
  });
  // Like the users subgraph, accounts serves the public keys the gateway verifies tokens with.
  accounts = await startSubgraph(ACCOUNTS_SDL, accountsResolvers, {
    routes: { "GET /.well-known/jwks.json": (_req, res) => sendJson(res, 200, jwks) },
  });
  reviews = await startSubgraph(REVIEWS_SDL, reviewsResolvers);
  silent = await startRawServer(neverAnswer);
  const guarded = await startRawServer(refuseWith401);
  const proxied = await startRawServer(badGateway);
  stops.push(accounts.close, reviews.close, silent.close, guarded.close, proxied.close);

  baseEnv = {
    SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
    HOST: "127.0.0.1",
    GATEWAY_PORT: "0",
    LOG_LEVEL: "silent",
    JWKS_URL: accounts.url.replace(/\/graphql$/, "/.well-known/jwks.json"),
    JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
    JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
    SUBGRAPH_TIMEOUT_MS: String(TIMEOUT_MS),
    // Rate limits and cost budgets are counted in Redis: this file's keys are its own.
    GATEWAY_REDIS_PREFIX: testRedisPrefix("gateway"),
  };
  supergraphPath = writeSupergraph("supergraph.graphql", [
    { name: "accounts", url: accounts.url, sdl: ACCOUNTS_SDL },
    { name: "reviews", url: reviews.url, sdl: REVIEWS_SDL },
    { name: "slow", url: silent.url, sdl: SLOW_SDL },
    { name: "guarded", url: guarded.url, sdl: GUARDED_SDL },
    { name: "proxied", url: proxied.url, sdl: PROXIED_SDL },
    { name: "down", url: await closedPortUrl(), sdl: DOWN_SDL },
  ]);
  gateway = await startGateway(loadConfig({ ...baseEnv, SUPERGRAPH_PATH: supergraphPath }), logger);
  stops.push(gateway.stop);
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  accounts.seen.length = 0;
  reviews.seen.length = 0;
  entityRefs.length = 0;
});

const REVIEWS_WITH_AUTHORS = "{ reviews { id body author { id name } } }";
const REVIEWS_WITH_AUTHORS_DATA = {
  reviews: [
    { id: "r1", body: "Great", author: { id: "u1", name: "Ada" } },
    { id: "r2", body: "Meh", author: { id: "u2", name: "Grace" } },
    { id: "r3", body: "Again", author: { id: "u1", name: "Ada" } },
  ],
};

describe("the gateway", () => {
  it("resolves a query across two subgraphs with one batched _entities fetch", async () => {
    const result = await post(gateway.url, REVIEWS_WITH_AUTHORS);
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ data: REVIEWS_WITH_AUTHORS_DATA });
    expect(reviews.seen).toHaveLength(1);
    expect(accounts.seen).toHaveLength(1);
    // One _entities request for the three authors, in review order (a real subgraph's
    // DataLoader folds the repeated u1).
    expect(entityRefs).toEqual(["u1", "u2", "u1"]);
  });

  it("forwards authorization, x-request-id and the client's name and version to every subgraph", async () => {
    const authorization = await auth.bearer("u1");
    const result = await post(gateway.url, REVIEWS_WITH_AUTHORS, {
      authorization,
      "x-request-id": "req-42",
      "apollographql-client-name": "web",
      "apollographql-client-version": "1.2.3",
    });
    expect(result.body).toEqual({ data: REVIEWS_WITH_AUTHORS_DATA });
    expect(result.headers.get("x-request-id")).toBe("req-42");
    const expected: Seen = { authorization, requestId: "req-42", clientName: "web", clientVersion: "1.2.3" };
    expect(reviews.seen).toEqual([expected]);
    expect(accounts.seen).toEqual([expected]);
  });

  it("generates an x-request-id when the client sends none, echoes it and forwards it", async () => {
    const result = await post(gateway.url, REVIEWS_WITH_AUTHORS);
    const requestId = result.headers.get("x-request-id");
    expect(requestId).toMatch(UUID);
    const expected: Seen = {
      authorization: undefined,
      requestId: requestId ?? "",
      clientName: undefined,
      clientVersion: undefined,
    };
    expect(reviews.seen).toEqual([expected]);
    expect(accounts.seen).toEqual([expected]);
  });

  it("keeps a subgraph error's message and code, on a root field", async () => {
    const result = await post(gateway.url, '{ user(id: "u9") { id name } }');
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      data: { user: null },
      errors: [
        {
          message: "User u9 was not found.",
          path: ["user"],
          extensions: { code: "NOT_FOUND", serviceName: "accounts" },
        },
      ],
    });
  });

  it("keeps a subgraph error's message and code, on a field of an entity fetched from another subgraph", async () => {
    const result = await post(gateway.url, '{ review(id: "r4") { body author { id name } } }');
    expect(result.body).toEqual({
      data: { review: { body: "Secret", author: { id: "u3", name: null } } },
      errors: [
        {
          message: "This name is private.",
          path: ["review", "author", "name"],
          extensions: { code: "FORBIDDEN", serviceName: "accounts" },
        },
      ],
    });
  });

  it("keeps the code and message of a subgraph that refuses the request with a non-2xx status", async () => {
    const result = await post(gateway.url, "{ guarded }");
    expect(result.body).toEqual({
      data: { guarded: null },
      errors: [
        {
          message: "This token was revoked.",
          path: ["guarded"],
          extensions: { code: "UNAUTHENTICATED", serviceName: "guarded" },
        },
      ],
    });
  });

  it("reports a non-GraphQL error answer without passing its body on", async () => {
    const result = await post(gateway.url, "{ proxied }");
    expect(result.body).toEqual({
      data: { proxied: null },
      errors: [
        {
          message: 'Subgraph "proxied" answered HTTP 502.',
          path: ["proxied"],
          extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: "proxied" },
        },
      ],
    });
  });

  it("gives up on a subgraph that never answers after SUBGRAPH_TIMEOUT_MS", async () => {
    const before = silent.requests();
    const started = Date.now();
    const result = await post(gateway.url, "{ slow }");
    const elapsed = Date.now() - started;
    expect(result.status).toBe(200);
    expect(result.body).toEqual({
      data: { slow: null },
      errors: [
        {
          message: `Subgraph "slow" did not answer within ${TIMEOUT_MS} ms.`,
          path: ["slow"],
          extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: "slow" },
        },
      ],
    });
    expect(silent.requests()).toBe(before + 1);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1500);
  });

  it("reports a subgraph that is down, and still serves the other subgraphs' fields", async () => {
    const result = await post(gateway.url, '{ offline user(id: "u2") { name } }');
    expect(result.body).toEqual({
      data: { offline: null, user: { name: "Grace" } },
      errors: [
        {
          message: 'Subgraph "down" is unreachable.',
          path: ["offline"],
          extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: "down" },
        },
      ],
    });
  });

  it("answers /health while it serves, whatever the state of its subgraphs", async () => {
    expect(await get(gateway.url.replace(/\/graphql$/, "/health"))).toEqual({
      status: 200,
      body: { status: "ok" },
    });
  });

  it("tells which subgraph is unhealthy at /ready", async () => {
    expect(await get(gateway.url.replace(/\/graphql$/, "/ready"))).toEqual({
      status: 503,
      body: {
        status: "unavailable",
        supergraph: "loaded",
        subgraphs: {
          accounts: "ok",
          reviews: "ok",
          slow: `no answer within ${TIMEOUT_MS} ms`,
          guarded: "HTTP 401",
          proxied: "HTTP 502",
          down: "unreachable",
        },
      },
    });
  });

  it("allows introspection outside production", async () => {
    const result = await post(gateway.url, "{ __schema { queryType { name } } }");
    expect(result.body).toEqual({ data: { __schema: { queryType: { name: "Query" } } } });
  });
});

describe("a production gateway whose subgraph URLs come from the environment", () => {
  let production: RunningGateway;

  beforeAll(async () => {
    // The composed URLs lead nowhere: only ACCOUNTS_URL and REVIEWS_URL can make queries work.
    const nowhere = await closedPortUrl();
    const supergraphPath = writeSupergraph("nowhere.graphql", [
      { name: "accounts", url: nowhere, sdl: ACCOUNTS_SDL },
      { name: "reviews", url: nowhere, sdl: REVIEWS_SDL },
    ]);
    production = await startGateway(
      loadConfig({
        ...baseEnv,
        NODE_ENV: "production",
        SUPERGRAPH_PATH: supergraphPath,
        ACCOUNTS_URL: accounts.url,
        REVIEWS_URL: reviews.url,
      }),
      logger,
    );
    stops.push(production.stop);
  });

  it("fetches each subgraph from its <NAME>_URL", async () => {
    const result = await post(production.url, REVIEWS_WITH_AUTHORS);
    expect(result.body).toEqual({ data: REVIEWS_WITH_AUTHORS_DATA });
    expect(reviews.seen).toHaveLength(1);
    expect(accounts.seen).toHaveLength(1);
  });

  it("probes the overridden URLs at /ready", async () => {
    expect(await get(production.url.replace(/\/graphql$/, "/ready"))).toEqual({
      status: 200,
      body: { status: "ok", supergraph: "loaded", subgraphs: { accounts: "ok", reviews: "ok" } },
    });
  });

  it("refuses introspection to anonymous clients (hardening.test.ts has the whole policy)", async () => {
    const result = await post(production.url, "{ __schema { queryType { name } } }");
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ errors: [{ extensions: { code: "FORBIDDEN" } }] });
  });
});

/** The gateway as operators run it: `node gateway/src/index.ts`, configured by its environment. */
async function spawnGateway(env: Record<string, string>) {
  const child = spawn(process.execPath, [fileURLToPath(new URL("../index.ts", import.meta.url))], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines: { msg: string; url?: string }[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the gateway did not start within 15 s")), 15_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      const entry = JSON.parse(line) as { msg: string; url?: string };
      lines.push(entry);
      if (entry.msg === "gateway ready" && entry.url) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
    void exited.then((code) => reject(new Error(`the gateway exited with ${code} before it was ready`)));
  });
  return { url, child, exited, lines };
}

describe("the gateway started from index.ts", () => {
  let running: Awaited<ReturnType<typeof spawnGateway>>;

  beforeAll(async () => {
    running = await spawnGateway({ ...baseEnv, LOG_LEVEL: "info", SUPERGRAPH_PATH: supergraphPath });
  });

  afterAll(() => {
    if (running.child.exitCode === null) running.child.kill("SIGKILL");
  });

  it("serves the supergraph it was pointed at", async () => {
    const result = await post(running.url, REVIEWS_WITH_AUTHORS, { authorization: await auth.bearer("u2") });
    expect(result.body).toEqual({ data: REVIEWS_WITH_AUTHORS_DATA });
  });

  // In a separate process because vitest loads a second copy of `graphql` for source files,
  // which makes Apollo Server prefix context errors with "Context creation failed: "; a plain
  // Node process, like production, has one copy and keeps the message as thrown.
  it.each([
    ["a malformed token", async () => "Bearer not-a-jwt", "The access token is invalid or has expired."],
    [
      "a token signed by a key the JWKS does not hold",
      async () => (await createTestAuth()).bearer("u1"),
      "The access token was signed by an unknown key.",
    ],
    [
      "another scheme",
      async () => "Basic dTE6cHc=",
      "The Authorization header must be 'Bearer <access token>'.",
    ],
  ])("refuses %s with HTTP 401 before calling any subgraph", async (_case, authorization, message) => {
    const result = await post(running.url, REVIEWS_WITH_AUTHORS, { authorization: await authorization() });
    expect(result.status).toBe(401);
    expect(result.body).toEqual({ errors: [{ message, extensions: { code: "UNAUTHENTICATED" } }] });
    expect(reviews.seen).toEqual([]);
    expect(accounts.seen).toEqual([]);
  });

  it("stops cleanly on SIGTERM", async () => {
    running.child.kill("SIGTERM");
    expect(await running.exited).toBe(0);
    expect(running.lines.at(-1)).toMatchObject({ level: "info", msg: "shutting down", signal: "SIGTERM" });
  });
});
