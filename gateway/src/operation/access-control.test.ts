/**
 * Authorization at the gateway: the supergraph's @authenticated and @requiresScopes are
 * enforced before planning, so the subgraphs (tiny real ones that enforce nothing and record
 * every operation they receive) never see a field the viewer may not have.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GraphQLResolverMap } from "@apollo/subgraph";
import {
  createLogger,
  createTokenSigner,
  headerValue,
  type RouteHandler,
  sendJson,
  type TokenSigner,
} from "@nexus/core";
import { createTestAuth, TEST_TOKEN_AUDIENCE, testRedisPrefix } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../app.ts";
import { loadConfig } from "../config.ts";
import { startTestSubgraph, writeTestSupergraph } from "../test-harness.ts";

const logger = createLogger("gateway-access-test", "silent");
const FEDERATION = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12",
  import: ["@key", "@authenticated", "@requiresScopes"])`;

const ACCOUNTS_SDL = `${FEDERATION}
type Query {
  notice: String
  me: User @authenticated
  user(id: ID!): User @requiresScopes(scopes: [["users:read:any"]])
}
type Mutation { rotateSecret: String! @requiresScopes(scopes: [["secrets:write"]]) }
type User @key(fields: "id") {
  id: ID!
  name: String!
  email: String @authenticated
  secret: String! @requiresScopes(scopes: [["secrets:read"], ["users:read:any", "secrets:audit"]])
}
`;
const ORDERS_SDL = `${FEDERATION}
type Query { orders: [Order!]! }
type Order { id: ID! total: Int! note: String @requiresScopes(scopes: [["orders:read:any"]]) customer: User }
type User @key(fields: "id", resolvable: false) { id: ID! }
`;

const USER = { id: "u1", name: "Ada", email: "ada@example.com", secret: "s3cret" };

interface RecordingSubgraph {
  url: string;
  /** The operations received, and the headers that matter here. */
  seen: { query: string; authorization: string | undefined; forwardedFor: string | undefined }[];
  close(): Promise<void>;
}

async function startSubgraph(
  sdl: string,
  resolvers: GraphQLResolverMap<unknown>,
  routes: Record<string, RouteHandler> = {},
): Promise<RecordingSubgraph> {
  const seen: RecordingSubgraph["seen"] = [];
  const http = await startTestSubgraph(sdl, resolvers, {
    routes,
    plugins: [
      {
        async requestDidStart({ request }) {
          seen.push({
            query: request.query ?? "",
            authorization: request.http?.headers.get("authorization") ?? undefined,
            forwardedFor: request.http?.headers.get("x-forwarded-for") ?? undefined,
          });
        },
      },
    ],
  });
  return { url: http.url, seen, close: http.close };
}

let signer: TokenSigner;
let accounts: RecordingSubgraph;
let orders: RecordingSubgraph;
let gateway: RunningGateway;
let exchanges = 0;
const PARTNER_KEY = "nxp_test-key_valid";
const tmp = mkdtempSync(join(tmpdir(), "nexus-access-test-"));

const bearer = async (scopes: string[], role: "CUSTOMER" | "ADMIN" = "CUSTOMER") =>
  `Bearer ${(await signer.sign({ sub: "u1", role, scopes })).token}`;

beforeAll(async () => {
  const { privateKeyPem } = await createTestAuth();
  signer = await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem, ttlSeconds: 900 });
  accounts = await startSubgraph(
    ACCOUNTS_SDL,
    {
      Query: { notice: () => "Open today", me: () => USER, user: () => USER },
      Mutation: { rotateSecret: () => "rotated" },
      User: { __resolveReference: () => USER },
    },
    {
      "GET /.well-known/jwks.json": (_req, res) => sendJson(res, 200, signer.jwks),
      // Stands in for the users subgraph's API key exchange.
      "POST /auth/partner-token": async (req, res) => {
        exchanges += 1;
        if (headerValue(req.headers["x-api-key"]) !== PARTNER_KEY)
          return sendJson(res, 401, { error: "unknown" });
        const { token, expiresAt } = await signer.sign(
          { sub: "p1", role: "PARTNER", scopes: ["orders:status"], clientId: "acme" },
          300,
        );
        sendJson(res, 200, { accessToken: token, expiresAt, client: { id: "p1", name: "acme" } });
      },
    },
  );
  orders = await startSubgraph(ORDERS_SDL, {
    Query: {
      orders: () => [
        { id: "o1", total: 100, note: "fragile", customer: { __typename: "User", id: "u1" } },
        { id: "o2", total: 250, note: "gift", customer: { __typename: "User", id: "u1" } },
      ],
    },
  });
  const supergraphPath = writeTestSupergraph(tmp, [
    { name: "accounts", url: accounts.url, sdl: ACCOUNTS_SDL },
    { name: "orders", url: orders.url, sdl: ORDERS_SDL },
  ]);
  gateway = await startGateway(
    loadConfig({
      HOST: "127.0.0.1",
      GATEWAY_PORT: "0",
      LOG_LEVEL: "silent",
      SUPERGRAPH_PATH: supergraphPath,
      JWKS_URL: accounts.url.replace(/\/graphql$/, "/.well-known/jwks.json"),
      PARTNER_TOKEN_URL: accounts.url.replace(/\/graphql$/, "/auth/partner-token"),
      JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
      JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
      // The partner here sends freeform operations; trusted documents are tested in persisted/.
      PERSISTED_OPERATIONS_MODE: "audit",
      // Rate limits and cost budgets are counted in Redis: this file's keys are its own.
      GATEWAY_REDIS_PREFIX: testRedisPrefix("access-control"),
    }),
    logger,
  );
});

afterAll(async () => {
  await gateway?.stop();
  await accounts?.close();
  await orders?.close();
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  accounts.seen.length = 0;
  orders.seen.length = 0;
});

async function post(query: string, headers: Record<string, string> = {}) {
  const response = await fetch(gateway.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });
  // Every costed response carries extensions.cost (limits.test.ts covers it); these tests look at the rest.
  const { extensions: _cost, ...body } = (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
    extensions?: unknown;
  };
  return { status: response.status, body };
}

const errorsOf = (body: Awaited<ReturnType<typeof post>>["body"]) =>
  (body.errors ?? []).map((error) => ({ path: error.path, code: error.extensions?.code }));

describe("authorization at the gateway", () => {
  it("serves public fields to anonymous callers and nulls protected ones, calling no subgraph for them", async () => {
    const { status, body } = await post("{ notice me { name } }");
    expect(status).toBe(200);
    expect(body.data).toEqual({ notice: "Open today", me: null });
    expect(errorsOf(body)).toEqual([{ path: ["me"], code: "UNAUTHENTICATED" }]);
    expect(accounts.seen.map((seen) => seen.query)).toEqual([expect.not.stringContaining("me")]);
  });

  it("withholds a field in every list item, with an error at each path, and never asks for it", async () => {
    const { body } = await post("{ orders { id note customer { name email } } }", {
      authorization: await bearer([]),
    });
    expect(body.data).toEqual({
      orders: [
        { id: "o1", note: null, customer: { name: "Ada", email: "ada@example.com" } },
        { id: "o2", note: null, customer: { name: "Ada", email: "ada@example.com" } },
      ],
    });
    expect(errorsOf(body)).toEqual([
      { path: ["orders", 0, "note"], code: "FORBIDDEN" },
      { path: ["orders", 1, "note"], code: "FORBIDDEN" },
    ]);
    expect(body.errors?.[0]?.message).toContain("orders:read:any");
    expect(orders.seen).toHaveLength(1);
    expect(orders.seen[0]?.query).not.toContain("note");
  });

  it("serves the same field to a viewer with the scope", async () => {
    const { body } = await post("{ orders { id note } }", {
      authorization: await bearer(["orders:read:any"]),
    });
    expect(body).toEqual({
      data: {
        orders: [
          { id: "o1", note: "fragile" },
          { id: "o2", note: "gift" },
        ],
      },
    });
  });

  it("applies the same rules inside named and inline fragments", async () => {
    const { body } = await post(
      `query { orders { ...Line } me { ... on User { email } } }
       fragment Line on Order { id note }`,
    );
    expect(body.data).toEqual({
      orders: [
        { id: "o1", note: null },
        { id: "o2", note: null },
      ],
      me: null,
    });
    expect(orders.seen[0]?.query).not.toContain("note");
    expect(accounts.seen).toHaveLength(0);
  });

  it("nulls the nearest nullable parent of a withheld non-null field", async () => {
    const { body } = await post('{ notice user(id: "u1") { id name secret } }', {
      authorization: await bearer(["users:read:any"]),
    });
    expect(body.data).toEqual({ notice: "Open today", user: null });
    expect(errorsOf(body)).toEqual([{ path: ["user"], code: "FORBIDDEN" }]);
    expect(body.errors?.[0]?.message).toContain("User.secret");
    expect(accounts.seen.map((seen) => seen.query)).toEqual([expect.not.stringContaining("user")]);
  });

  it("reads @requiresScopes as any one of its scope sets, each needed whole", async () => {
    const query = '{ user(id: "u1") { secret } }';
    const partial = await post(query, { authorization: await bearer(["users:read:any"]) });
    expect(partial.body.data).toEqual({ user: null });
    const allOfOneSet = await post(query, {
      authorization: await bearer(["users:read:any", "secrets:audit"]),
    });
    expect(allOfOneSet.body).toEqual({ data: { user: { secret: "s3cret" } } });
    const otherSet = await post("{ me { secret } }", { authorization: await bearer(["secrets:read"]) });
    expect(otherSet.body).toEqual({ data: { me: { secret: "s3cret" } } });
  });

  it("refuses an operation whose withheld non-null field has no nullable parent, running nothing", async () => {
    const { status, body } = await post("mutation { rotateSecret }", { authorization: await bearer([]) });
    expect(status).toBe(200);
    expect(body.data).toBeNull();
    expect(errorsOf(body)).toEqual([{ path: ["rotateSecret"], code: "FORBIDDEN" }]);
    expect(accounts.seen).toHaveLength(0);
  });

  it("rejects an invalid token with HTTP 401 before planning", async () => {
    const { status, body } = await post("{ notice }", { authorization: "Bearer not.a.token" });
    expect(status).toBe(401);
    expect(errorsOf(body)).toEqual([{ path: undefined, code: "UNAUTHENTICATED" }]);
    expect(accounts.seen).toHaveLength(0);
  });
});

describe("partners and client addresses", () => {
  it("exchanges an API key for a partner token once, and sends subgraphs the token, never the key", async () => {
    exchanges = 0;
    for (let i = 0; i < 3; i++) {
      const { body } = await post("{ notice me { name } }", { "x-api-key": PARTNER_KEY });
      // A partner is signed in (@authenticated passes) but has no user scopes.
      expect(body).toEqual({ data: { notice: "Open today", me: { name: "Ada" } } });
    }
    expect(exchanges).toBe(1);
    const { sub, role, clientName } = await (async () => {
      const token = accounts.seen[0]?.authorization?.replace(/^Bearer /, "") ?? "";
      const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
        sub: string;
        role: string;
        client_id: string;
      };
      return { sub: payload.sub, role: payload.role, clientName: payload.client_id };
    })();
    expect({ sub, role, clientName }).toEqual({ sub: "p1", role: "PARTNER", clientName: "acme" });
  });

  it("refuses unknown API keys and requests that send a key and a token, with HTTP 401", async () => {
    const unknown = await post("{ notice }", { "x-api-key": "nxp_unknown" });
    expect(unknown.status).toBe(401);
    expect(errorsOf(unknown.body)).toEqual([{ path: undefined, code: "UNAUTHENTICATED" }]);
    const both = await post("{ notice }", { "x-api-key": PARTNER_KEY, authorization: await bearer([]) });
    expect(both.status).toBe(401);
    expect(accounts.seen).toHaveLength(0);
  });

  it("tells subgraphs the client's own address, not one the client claims", async () => {
    await post("{ notice }", { "x-forwarded-for": "203.0.113.9" });
    expect(accounts.seen[0]?.forwardedFor).toBe("127.0.0.1");
  });
});
