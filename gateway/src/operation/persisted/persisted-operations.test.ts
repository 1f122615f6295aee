/**
 * Persisted operations over HTTP, per client mode, against a gateway in front of a tiny real
 * subgraph that counts the requests it receives. Partners come in with API keys, exchanged
 * at a stand-in for the users subgraph that signs real tokens; the manifests are written here.
 * APQ uses the real Redis, shared by two gateway instances.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTokenSigner, headerValue, type RunningHttpServer, sendJson } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  createRecordingLogger,
  createTestAuth,
  deleteRedisKeys,
  TEST_REDIS_URL,
  TEST_TOKEN_AUDIENCE,
  testRedisPrefix,
} from "@nexus/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../../app.ts";
import { loadConfig } from "../../config.ts";
import { startTestSubgraph, writeTestSupergraph } from "../../test-harness.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const { logger, logs } = createRecordingLogger();
const prefix = testRedisPrefix("gateway-pq");
const tmp = mkdtempSync(join(tmpdir(), "nexus-pq-test-"));

const SHOP_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])
type Query { products: [Product!]! product(id: ID!): Product }
type Product @key(fields: "id") { id: ID! name: String! price: Int! }
`;
const PRODUCTS = [
  { id: "p1", name: "Kettle", price: 2500 },
  { id: "p2", name: "Teapot", price: 1800 },
];

/** Registered operations: acme (enforce), beta (audit) and the app client "web". */
const ACME_LIST = "query AcmeProducts {\n  products {\n    id\n    name\n  }\n}";
const ACME_ONE =
  "query AcmeProduct($id: ID!) {\n  product(id: $id) {\n    ...Price\n  }\n}\n\nfragment Price on Product {\n  price\n}";
const BETA_LIST = "query BetaProducts {\n  products {\n    id\n  }\n}";
const WEB_NAMES = "query WebNames {\n  products {\n    name\n  }\n}";
const FREEFORM = "query Freeform { products { id price } }";

function writeManifest(client: string, bodies: string[]): void {
  mkdirSync(join(tmp, "operations", client), { recursive: true });
  const operations = bodies.map((body) => ({
    id: sha256(body),
    name: /^query (\w+)/.exec(body)?.[1] ?? "",
    type: "query",
    body,
  }));
  writeFileSync(
    join(tmp, "operations", client, "persisted-query-manifest.json"),
    JSON.stringify({ format: "apollo-persisted-query-manifest", version: 1, operations }),
  );
}

const PARTNER_KEYS: Record<string, string> = {
  "key-acme": "acme",
  "key-beta": "beta",
  "key-gamma": "gamma",
};

let subgraph: RunningHttpServer;
let subgraphRequests = 0;
let first: RunningGateway;
let second: RunningGateway;
let redis: Redis;
/** What the gateways reported at the stand-in's `/partner-usage`, entry by entry. */
const usageReports: { client: string; operationId: string; requests: number; errors: number }[] = [];

beforeAll(async () => {
  const { privateKeyPem } = await createTestAuth();
  const signer = await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem, ttlSeconds: 900 });
  subgraph = await startTestSubgraph(
    SHOP_SDL,
    {
      Query: {
        products: () => PRODUCTS,
        product: (_: unknown, { id }: { id: string }) => PRODUCTS.find((p) => p.id === id) ?? null,
      },
    },
    {
      onRequest: () => (subgraphRequests += 1),
      routes: {
        "GET /.well-known/jwks.json": (_req, res) => sendJson(res, 200, signer.jwks),
        // Stands in for the users subgraph's API key exchange.
        "POST /auth/partner-token": async (req, res) => {
          const name = PARTNER_KEYS[headerValue(req.headers["x-api-key"]) ?? ""];
          if (!name) return sendJson(res, 401, { error: "unknown" });
          const { token, expiresAt } = await signer.sign(
            { sub: `client-${name}`, role: "PARTNER", scopes: ["catalog:feed"], clientId: name },
            300,
          );
          sendJson(res, 200, { accessToken: token, expiresAt, client: { id: `client-${name}`, name } });
        },
        "POST /partner-usage": async (req, res) => {
          // This stand-in checks no signature, so the server leaves the body to the route.
          let body = "";
          for await (const chunk of req) body += String(chunk);
          usageReports.push(...(JSON.parse(body) as { entries: typeof usageReports }).entries);
          sendJson(res, 200, {});
        },
      },
    },
  );

  writeTestSupergraph(tmp, [{ name: "shop", url: subgraph.url, sdl: SHOP_SDL }]);
  writeManifest("acme", [ACME_LIST, ACME_ONE]);
  writeManifest("beta", [BETA_LIST]);
  writeManifest("web", [WEB_NAMES]);

  const config = loadConfig({
    HOST: "127.0.0.1",
    GATEWAY_PORT: "0",
    LOG_LEVEL: "silent",
    SUPERGRAPH_PATH: join(tmp, "supergraph.graphql"),
    JWKS_URL: subgraph.url.replace(/\/graphql$/, "/.well-known/jwks.json"),
    PARTNER_TOKEN_URL: subgraph.url.replace(/\/graphql$/, "/auth/partner-token"),
    JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
    JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
    REDIS_URL: TEST_REDIS_URL,
    GATEWAY_REDIS_PREFIX: prefix,
    PERSISTED_OPERATIONS_DIR: join(tmp, "operations"),
    PERSISTED_OPERATIONS_MODE: "enforce",
    PERSISTED_OPERATIONS_CLIENT_MODES: "beta=audit",
    PARTNER_USAGE_FLUSH_MS: "100",
  });
  first = await startGateway(config, logger);
  // A second replica sharing Redis, for APQ.
  second = await startGateway(config, logger);
  redis = await connectRedis(TEST_REDIS_URL);
});

afterAll(async () => {
  await first?.stop();
  await second?.stop();
  await subgraph?.close();
  if (redis) {
    await deleteRedisKeys(redis, [prefix]);
    await redis.quit();
  }
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  subgraphRequests = 0;
  logs.length = 0;
});

interface Body {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function send(
  payload: { query?: string; id?: string; operationName?: string; variables?: Record<string, unknown> },
  headers: Record<string, string> = {},
  gateway = first,
): Promise<{ status: number; body: Body; cacheControl: string | null }> {
  const { id, ...rest } = payload;
  const response = await fetch(gateway.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({
      ...rest,
      ...(id ? { extensions: { persistedQuery: { version: 1, sha256Hash: id } } } : {}),
    }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Body,
    cacheControl: response.headers.get("cache-control"),
  };
}

const acme = { "x-api-key": "key-acme" };
const beta = { "x-api-key": "key-beta" };
const gamma = { "x-api-key": "key-gamma" };
const codeOf = (body: Body) => body.errors?.map((error) => error.extensions?.code);
const LIST_DATA = {
  products: [
    { id: "p1", name: "Kettle" },
    { id: "p2", name: "Teapot" },
  ],
};

/** A counter's value from the gateway's /metrics. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(first.url.replace(/\/graphql$/, "/metrics"))).text();
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort();
  for (const line of text.split("\n")) {
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? "").split(",").sort();
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return 0;
}

const pqMetric = (client: string, result: string) =>
  metric("nexus_gateway_persisted_operations_total", { client, result });

describe("a partner in enforce mode", () => {
  it("runs a registered operation sent by id, fragments included", async () => {
    const before = await pqMetric("acme", "hit");
    const list = await send({ id: sha256(ACME_LIST) }, acme);
    expect(list).toMatchObject({ status: 200, body: { data: LIST_DATA } });
    const one = await send({ id: sha256(ACME_ONE), variables: { id: "p2" } }, acme);
    expect(one).toMatchObject({ status: 200, body: { data: { product: { price: 1800 } } } });
    expect(subgraphRequests).toBe(2);
    expect(await pqMetric("acme", "hit")).toBe(before + 2);
  });

  it.each([
    ["an id of another client's manifest", sha256(BETA_LIST)],
    ["an unknown id", sha256("query Unknown { products { id } }")],
  ])("refuses %s with 404 PERSISTED_QUERY_NOT_IN_LIST, calling no subgraph", async (_case, id) => {
    const before = await pqMetric("acme", "unknown_id");
    const result = await send({ id }, acme);
    expect(result.status).toBe(404);
    expect(result.body).toEqual({
      errors: [
        {
          message: `Persisted query '${id}' is not in the persisted query list. This client can run the 2 operation(s) registered for client "acme".`,
          extensions: { code: "PERSISTED_QUERY_NOT_IN_LIST" },
        },
      ],
    });
    expect(result.cacheControl).toBe("private, no-cache, must-revalidate");
    expect(subgraphRequests).toBe(0);
    expect(await pqMetric("acme", "unknown_id")).toBe(before + 1);
  });

  it("refuses a freeform operation with 403 QUERY_NOT_IN_SAFELIST, calling no subgraph", async () => {
    const before = await pqMetric("acme", "freeform_refused");
    const result = await send({ query: FREEFORM }, acme);
    expect(result.status).toBe(403);
    expect(codeOf(result.body)).toEqual(["QUERY_NOT_IN_SAFELIST"]);
    expect(result.body.errors?.[0]?.message).toBe(
      'The operation is not in the persisted query list. This client can run the 2 operation(s) registered for client "acme", sent by id.',
    );
    expect(subgraphRequests).toBe(0);
    expect(await pqMetric("acme", "freeform_refused")).toBe(before + 1);
  });

  it("refuses a registered operation sent as text with 400 PERSISTED_QUERY_ID_REQUIRED, naming its id", async () => {
    const result = await send({ query: ACME_LIST }, acme);
    expect(result.status).toBe(400);
    expect(result.body).toEqual({
      errors: [
        {
          message: `This operation is registered: send it by id, as extensions.persistedQuery.sha256Hash = '${sha256(ACME_LIST)}', without the query text.`,
          extensions: { code: "PERSISTED_QUERY_ID_REQUIRED" },
        },
      ],
    });
    expect(subgraphRequests).toBe(0);
  });

  it("cannot register an operation through APQ, nor run one another client registered", async () => {
    const registration = await send({ query: FREEFORM, id: sha256(FREEFORM) }, acme);
    expect(registration.status).toBe(403);
    expect(codeOf(registration.body)).toEqual(["QUERY_NOT_IN_SAFELIST"]);
    expect(await redis.exists(`${prefix}:apq:${sha256(FREEFORM)}`)).toBe(0);
    // An app registers it; the partner still cannot run it by its hash.
    expect((await send({ query: FREEFORM, id: sha256(FREEFORM) })).status).toBe(200);
    expect(await redis.exists(`${prefix}:apq:${sha256(FREEFORM)}`)).toBe(1);
    subgraphRequests = 0;
    const byHash = await send({ id: sha256(FREEFORM) }, acme);
    expect(byHash.status).toBe(404);
    expect(codeOf(byHash.body)).toEqual(["PERSISTED_QUERY_NOT_IN_LIST"]);
    expect(subgraphRequests).toBe(0);
  });

  it("can run nothing without a manifest, and is told so", async () => {
    const byId = await send({ id: sha256(ACME_LIST) }, gamma);
    expect(byId.status).toBe(404);
    expect(byId.body.errors?.[0]?.message).toBe(
      `Persisted query '${sha256(ACME_LIST)}' is not in the persisted query list. This client can run no operation: none is registered for client "gamma".`,
    );
    const freeform = await send({ query: FREEFORM }, gamma);
    expect(freeform.status).toBe(403);
    expect(freeform.body.errors?.[0]?.message).toBe(
      'The operation is not in the persisted query list. This client can run no operation: none is registered for client "gamma", sent by id.',
    );
    expect(subgraphRequests).toBe(0);
  });
});

describe("partner usage", () => {
  it("counts each registered operation a partner runs, errors apart, and nothing else", async () => {
    usageReports.length = 0;
    await send({ id: sha256(ACME_LIST) }, acme);
    await send({ id: sha256(ACME_LIST) }, acme, second);
    // Runs, but answers with an error: the variable is missing.
    const failed = await send({ id: sha256(ACME_ONE) }, acme);
    expect(failed.body.errors).toHaveLength(1);
    // Neither refused requests, audited freeform ones, nor other clients' ids count.
    await send({ id: "0".repeat(64) }, acme);
    await send({ query: FREEFORM }, acme);
    await send({ query: FREEFORM }, beta);
    await send({ id: sha256(WEB_NAMES) }, { "apollographql-client-name": "web" });

    const totals = async () => {
      const byOperation = new Map<string, { requests: number; errors: number }>();
      for (const entry of usageReports) {
        const key = `${entry.client} ${entry.operationId}`;
        const total = byOperation.get(key) ?? { requests: 0, errors: 0 };
        byOperation.set(key, {
          requests: total.requests + entry.requests,
          errors: total.errors + entry.errors,
        });
      }
      return Object.fromEntries(byOperation);
    };
    await expect.poll(totals, { timeout: 5_000 }).toEqual({
      [`acme ${sha256(ACME_LIST)}`]: { requests: 2, errors: 0 },
      [`acme ${sha256(ACME_ONE)}`]: { requests: 1, errors: 1 },
    });
  });
});

describe("a partner in audit mode", () => {
  // Every line also carries the request's id, like any log line of a request.
  const auditLines = () =>
    logs
      .filter((line) => line.message === "unregistered operation run in audit mode")
      .map(({ level, fields: { requestId, ...fields } }) => {
        expect(requestId).toEqual(expect.any(String));
        return { level, ...fields };
      });

  it("runs a registered operation by id without logging it", async () => {
    const result = await send({ id: sha256(BETA_LIST) }, beta);
    expect(result).toMatchObject({ status: 200, body: { data: { products: [{ id: "p1" }, { id: "p2" }] } } });
    expect(auditLines()).toEqual([]);
  });

  it("runs a freeform operation and logs the client, operation name and hash", async () => {
    const before = await pqMetric("beta", "freeform_audited");
    const result = await send({ query: FREEFORM }, beta);
    expect(result).toMatchObject({
      status: 200,
      body: {
        data: {
          products: [
            { id: "p1", price: 2500 },
            { id: "p2", price: 1800 },
          ],
        },
      },
    });
    expect(subgraphRequests).toBe(1);
    expect(auditLines()).toEqual([
      {
        level: "warn",
        client: "beta",
        operationName: "Freeform",
        hash: sha256(FREEFORM),
        refusal: "QUERY_NOT_IN_SAFELIST",
      },
    ]);
    expect(await pqMetric("beta", "freeform_audited")).toBe(before + 1);
  });

  it("runs its registered operation sent as text, logging that enforce would want the id", async () => {
    const result = await send({ query: BETA_LIST }, beta);
    expect(result.status).toBe(200);
    expect(auditLines()).toEqual([
      expect.objectContaining({ operationName: "BetaProducts", refusal: "PERSISTED_QUERY_ID_REQUIRED" }),
    ]);
  });

  it("passes an unknown id on to APQ, logging it, so Apollo clients keep working while they migrate", async () => {
    const query = "query BetaAudit { products { name } }";
    const id = sha256(query);
    const before = await pqMetric("beta", "unknown_id_audited");
    const miss = await send({ id, operationName: "BetaAudit" }, beta);
    expect(miss.status).toBe(200);
    expect(codeOf(miss.body)).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
    expect(subgraphRequests).toBe(0);
    const registered = await send({ query, id }, beta);
    expect(registered).toMatchObject({
      status: 200,
      body: { data: { products: [{ name: "Kettle" }, { name: "Teapot" }] } },
    });
    const hit = await send({ id }, beta);
    expect(hit).toMatchObject({
      status: 200,
      body: { data: { products: [{ name: "Kettle" }, { name: "Teapot" }] } },
    });
    expect(auditLines()).toEqual([
      {
        level: "warn",
        client: "beta",
        operationName: "BetaAudit",
        hash: id,
        refusal: "PERSISTED_QUERY_NOT_IN_LIST",
      },
      {
        level: "warn",
        client: "beta",
        operationName: "BetaAudit",
        hash: id,
        refusal: "QUERY_NOT_IN_SAFELIST",
      },
      {
        level: "warn",
        client: "beta",
        operationName: null,
        hash: id,
        refusal: "PERSISTED_QUERY_NOT_IN_LIST",
      },
    ]);
    expect(await pqMetric("beta", "unknown_id_audited")).toBe(before + 2);
  });
});

describe("an app client", () => {
  it("runs freeform operations", async () => {
    const result = await send({ query: FREEFORM });
    expect(result).toMatchObject({
      status: 200,
      body: {
        data: {
          products: [
            { id: "p1", price: 2500 },
            { id: "p2", price: 1800 },
          ],
        },
      },
    });
    expect(subgraphRequests).toBe(1);
  });

  it("uses APQ in Redis: unknown hash, registration, then the hash alone on either replica", async () => {
    const query = `query AppApq { products { id name } } # ${prefix}`;
    const id = sha256(query);
    const misses = await metric("nexus_gateway_cache_lookups_total", { cache: "apq", result: "miss" });
    const hits = await metric("nexus_gateway_cache_lookups_total", { cache: "apq", result: "hit" });

    const unknown = await send({ id });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({
      errors: [{ message: "PersistedQueryNotFound", extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } }],
    });
    expect(subgraphRequests).toBe(0);

    expect(await send({ query, id })).toMatchObject({ status: 200, body: { data: LIST_DATA } });
    expect(await redis.get(`${prefix}:apq:${id}`)).toBe(query);
    const ttl = await redis.ttl(`${prefix}:apq:${id}`);
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);

    expect(await send({ id })).toMatchObject({ status: 200, body: { data: LIST_DATA } });
    // Registered through the first replica, known to the second.
    expect(await send({ id }, {}, second)).toMatchObject({ status: 200, body: { data: LIST_DATA } });
    expect(subgraphRequests).toBe(3);
    expect(await metric("nexus_gateway_cache_lookups_total", { cache: "apq", result: "miss" })).toBe(
      misses + 1,
    );
    // The second replica's hit is counted in its own registry.
    expect(await metric("nexus_gateway_cache_lookups_total", { cache: "apq", result: "hit" })).toBe(hits + 1);
  });

  it("runs the ids of the manifest named by its apollographql-client-name", async () => {
    const before = await pqMetric("web", "hit");
    const named = await send({ id: sha256(WEB_NAMES) }, { "apollographql-client-name": "web" });
    expect(named).toMatchObject({
      status: 200,
      body: { data: { products: [{ name: "Kettle" }, { name: "Teapot" }] } },
    });
    expect(await pqMetric("web", "hit")).toBe(before + 1);
    // Without the name the id is only an APQ hash, and not a registered one.
    const anonymous = await send({ id: sha256(WEB_NAMES) });
    expect(codeOf(anonymous.body)).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
    // And still freeform is fine for the app.
    expect((await send({ query: FREEFORM }, { "apollographql-client-name": "web" })).status).toBe(200);
  });
});
