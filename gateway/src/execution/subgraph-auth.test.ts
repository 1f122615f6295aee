/**
 * The gateway proves itself to subgraphs that answer no one else: every fetch, the partner key
 * exchange and the `/ready` probes are signed with SUBGRAPH_SECRET, a rotation keeps working,
 * and a gateway with the wrong secret is told apart from a client with a wrong token.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, createTokenSigner, headerValue, sendJson, type TokenSigner } from "@nexus/core";
import { createTestAuth, TEST_SUBGRAPH_SECRET, TEST_TOKEN_AUDIENCE, testRedisPrefix } from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../app.ts";
import { loadConfig } from "../config.ts";
import { startTestSubgraph, writeTestSupergraph } from "../test-harness.ts";

const logger = createLogger("subgraph-auth-test", "silent");
const FEDERATION = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])`;
const SDL = `${FEDERATION}
type Query { notice: String }
`;
const PARTNER_KEY = "nxp_test_partner_key";
const PREVIOUS = "the-secret-before-the-last-rotation";
const WRONG = "a-secret-the-subgraph-never-heard-of";

const tmp = mkdtempSync(join(tmpdir(), "nexus-subgraph-auth-"));
const stops: (() => Promise<void>)[] = [];
let signer: TokenSigner;
let subgraphUrl = "";
let supergraphPath = "";
let exchanges = 0;

beforeAll(async () => {
  const { privateKeyPem } = await createTestAuth();
  signer = await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem, ttlSeconds: 900 });
  const subgraph = await startTestSubgraph(
    SDL,
    { Query: { notice: () => "Open today" } },
    {
      // Mid-rotation: the new secret signs, the previous one is still accepted.
      secrets: { current: TEST_SUBGRAPH_SECRET, previous: PREVIOUS },
      publicRoutes: { "GET /.well-known/jwks.json": (_req, res) => sendJson(res, 200, signer.jwks) },
      routes: {
        "POST /auth/partner-token": async (req, res) => {
          exchanges += 1;
          if (headerValue(req.headers["x-api-key"]) !== PARTNER_KEY)
            return sendJson(res, 401, { error: "unknown" });
          const { token, expiresAt } = await signer.sign(
            { sub: "p1", role: "PARTNER", scopes: [], clientId: "acme" },
            300,
          );
          sendJson(res, 200, { accessToken: token, expiresAt, client: { id: "p1", name: "acme" } });
        },
      },
    },
  );
  stops.push(subgraph.close);
  subgraphUrl = subgraph.url;
  supergraphPath = writeTestSupergraph(tmp, [{ name: "shop", url: subgraph.url, sdl: SDL }]);
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function gatewayWith(secrets: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startGateway(
    loadConfig({
      HOST: "127.0.0.1",
      GATEWAY_PORT: "0",
      LOG_LEVEL: "silent",
      SUPERGRAPH_PATH: supergraphPath,
      JWKS_URL: subgraphUrl.replace(/\/graphql$/, "/.well-known/jwks.json"),
      PARTNER_TOKEN_URL: subgraphUrl.replace(/\/graphql$/, "/auth/partner-token"),
      JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
      JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
      PERSISTED_OPERATIONS_MODE: "audit",
      SUBGRAPH_RETRIES: "0",
      GATEWAY_REDIS_PREFIX: testRedisPrefix("subgraph-auth"),
      ...secrets,
    }),
    logger,
  );
  stops.push(gateway.stop);
  return gateway;
}

async function post(url: string, query: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

const ready = async (gateway: RunningGateway) => {
  const response = await fetch(gateway.url.replace(/\/graphql$/, "/ready"));
  return { status: response.status, body: (await response.json()) as unknown };
};

describe("a subgraph that answers only signed calls", () => {
  it("refuses a direct call, its partner key exchange included", async () => {
    expect(await post(subgraphUrl, "{ notice }")).toEqual({
      status: 401,
      body: { error: "This service answers the gateway only." },
    });
    const before = exchanges;
    const exchange = await fetch(subgraphUrl.replace(/\/graphql$/, "/auth/partner-token"), {
      method: "POST",
      headers: { "x-api-key": PARTNER_KEY },
    });
    expect(exchange.status).toBe(401);
    expect(exchanges).toBe(before);
  });

  it.each([
    ["the current secret", { SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET }],
    ["the previous secret, still accepted while rotating", { SUBGRAPH_SECRET: PREVIOUS }],
    [
      "a new secret the subgraph does not know yet, beside the one it does",
      { SUBGRAPH_SECRET: WRONG, SUBGRAPH_SECRET_PREVIOUS: TEST_SUBGRAPH_SECRET },
    ],
  ])("serves a gateway signing with %s: fetches, partner keys and /ready", async (_name, secrets) => {
    const gateway = await gatewayWith(secrets);
    expect(await post(gateway.url, "{ notice }")).toMatchObject({
      status: 200,
      body: { data: { notice: "Open today" } },
    });
    expect(await post(gateway.url, "{ notice }", { "x-api-key": PARTNER_KEY })).toMatchObject({
      status: 200,
      body: { data: { notice: "Open today" } },
    });
    expect(await ready(gateway)).toEqual({
      status: 200,
      body: { status: "ok", supergraph: "loaded", subgraphs: { shop: "ok" } },
    });
  });

  it("tells a gateway with the wrong secret apart from a client with a wrong token", async () => {
    const gateway = await gatewayWith({ SUBGRAPH_SECRET: WRONG });
    expect(await post(gateway.url, "{ notice }")).toMatchObject({
      status: 200,
      body: {
        data: { notice: null },
        errors: [
          {
            message: 'Subgraph "shop" answered HTTP 401.',
            path: ["notice"],
            extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: "shop" },
          },
        ],
      },
    });
    expect(await post(gateway.url, "{ notice }", { "x-api-key": PARTNER_KEY })).toMatchObject({
      status: 503,
      body: { errors: [{ extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: "users" } }] },
    });
    expect(await ready(gateway)).toEqual({
      status: 503,
      body: {
        status: "unavailable",
        supergraph: "loaded",
        subgraphs: { shop: "refuses the gateway's SUBGRAPH_SECRET" },
      },
    });
  });
});
