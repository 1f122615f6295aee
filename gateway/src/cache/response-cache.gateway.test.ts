/**
 * The response cache in a real gateway over a tiny subgraph whose SDL carries `@cacheControl`
 * hints, counting the requests that reach it: what is served from the cache, what never is,
 * who shares an entry, and that a hit still passes the limits and is charged.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, createTokenSigner, sendJson, type TokenSigner } from "@nexus/core";
import { createTestAuth, TEST_TOKEN_AUDIENCE, testRedisPrefix } from "@nexus/testing";
import { GraphQLError } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../app.ts";
import { loadConfig } from "../config.ts";
import { type HttpResult, post, startTestSubgraph, writeTestSupergraph } from "../test-harness.ts";

const logger = createLogger("gateway-response-cache-test", "silent");
const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12",
  import: ["@key", "@authenticated", "@requiresScopes", "@inaccessible"])
enum CacheControlScope @inaccessible { PUBLIC PRIVATE }
directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
type Query {
  product(id: ID!): Product
  note: String @authenticated @cacheControl(maxAge: 60)
  broken: Product
  clock: Int
}
type Mutation { touch: Int! }
type Product @key(fields: "id") @cacheControl(maxAge: 60) {
  id: ID!
  name: String!
  cost: Int @requiresScopes(scopes: [["catalog:write"]])
}
`;

let signer: TokenSigner;
let gateway: RunningGateway;
let requests = 0;
let notes = 0;
const tmp = mkdtempSync(join(tmpdir(), "nexus-response-cache-test-"));
const stops: (() => Promise<void>)[] = [];

const bearer = async (sub: string, scopes: string[] = []) =>
  `Bearer ${(await signer.sign({ sub, role: scopes.length > 0 ? "ADMIN" : "CUSTOMER", scopes })).token}`;

beforeAll(async () => {
  const { privateKeyPem } = await createTestAuth();
  signer = await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem, ttlSeconds: 900 });
  const shop = await startTestSubgraph(
    SDL,
    {
      Query: {
        product: (_: unknown, { id }: { id: string }) => ({ id, name: `Product ${id}`, cost: 7 }),
        // Different for every caller: a customer's own note.
        note: () => {
          notes += 1;
          return `note ${notes}`;
        },
        broken: () => {
          throw new GraphQLError("down", { extensions: { code: "BROKEN" } });
        },
        clock: () => requests,
      },
      Mutation: { touch: () => requests },
    },
    {
      onRequest: () => {
        requests += 1;
      },
      routes: { "GET /.well-known/jwks.json": (_req, res) => sendJson(res, 200, signer.jwks) },
    },
  );
  stops.push(shop.close);
  gateway = await startGateway(
    loadConfig({
      HOST: "127.0.0.1",
      GATEWAY_PORT: "0",
      LOG_LEVEL: "silent",
      SUPERGRAPH_PATH: writeTestSupergraph(tmp, [{ name: "shop", url: shop.url, sdl: SDL }]),
      JWKS_URL: shop.url.replace(/\/graphql$/, "/.well-known/jwks.json"),
      JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
      JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
      GATEWAY_REDIS_PREFIX: testRedisPrefix("response-cache-gateway"),
      EVENTS_PREFIX: testRedisPrefix("response-cache-events"),
    }),
    logger,
  );
  stops.push(gateway.stop);
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Sends `query` and says how many requests reached the subgraph for it. */
async function send(
  query: string,
  headers: Record<string, string> = {},
): Promise<HttpResult & { fetched: number }> {
  const before = requests;
  const result = await post(gateway.url, { query }, headers);
  return { ...result, fetched: requests - before };
}

/** Sends until the answer is a hit: storing after a miss is not awaited by the response. */
async function untilHit(query: string, headers: Record<string, string> = {}) {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const result = await send(query, headers);
    if (result.headers.get("age") !== null) return result;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("never served from the cache");
}

describe("the response cache in the gateway", () => {
  it("answers a public query from the cache, charged and costed like a fresh one", async () => {
    const query = '{ product(id: "1") { id name } }';
    const first = await send(query);
    expect(first.fetched).toBe(1);
    expect(first.headers.get("cache-control")).toBe("public, max-age=1");
    const hit = await untilHit(query);
    expect(hit.fetched).toBe(0);
    expect(hit.body).toMatchObject({ data: { product: { id: "1", name: "Product 1" } } });
    expect(hit.headers.get("cache-control")).toBe("public, max-age=1");
    // The budget is charged before the cache answers: the hit costs what a fresh answer would.
    const cost = hit.body.extensions?.cost;
    expect(cost?.requestedQueryCost).toBe(first.body.extensions?.cost?.requestedQueryCost);
    expect(cost?.currentlyAvailable).toBeLessThan(cost?.maximumAvailable ?? 0);
    // A different variable value, a different entry.
    expect((await send('{ product(id: "2") { id name } }')).fetched).toBe(1);
  });

  it("keeps an answer holding a scoped field for the viewer who may see it", async () => {
    const query = '{ product(id: "3") { id name cost } }';
    const admin = { authorization: await bearer("admin-1", ["catalog:write"]) };
    const staff = await untilHit(query, admin);
    expect(staff.body.data).toEqual({ product: { id: "3", name: "Product 3", cost: 7 } });
    expect(staff.headers.get("cache-control")).toBe("private, max-age=1");
    const shopper = await send(query);
    expect(shopper.fetched).toBe(1);
    expect(shopper.body.data).toEqual({ product: { id: "3", name: "Product 3", cost: null } });
    expect(shopper.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("never shares an answer to an @authenticated field, even one hinted public", async () => {
    const alice = { authorization: await bearer("alice") };
    const bob = { authorization: await bearer("bob") };
    const hers = await untilHit("{ note }", alice);
    expect(hers.fetched).toBe(0);
    const his = await send("{ note }", bob);
    expect(his.fetched).toBe(1);
    expect(his.body.data).not.toEqual(hers.body.data);
    const anonymous = await send("{ note }");
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("stores no answer with errors, nothing without a hint, and no mutation", async () => {
    for (let i = 0; i < 2; i += 1) expect((await send("{ broken { id } }")).fetched).toBe(1);
    for (let i = 0; i < 3; i += 1) {
      const result = await send("{ clock }");
      expect(result.fetched).toBe(1);
      expect(result.headers.get("cache-control")).toBe("no-store");
    }
    for (let i = 0; i < 2; i += 1) expect((await send("mutation { touch }")).fetched).toBe(1);
  });

  it("counts hits, misses and stored bytes in /metrics", async () => {
    const text = await (await fetch(gateway.url.replace(/\/graphql$/, "/metrics"))).text();
    const value = (series: string) =>
      Number(
        text
          .split("\n")
          .find((line) => line.startsWith(series))
          ?.split(" ")[1] ?? Number.NaN,
      );
    expect(
      value('nexus_gateway_response_cache_lookups_total{operation="anonymous",result="hit_local"}'),
    ).toBeGreaterThan(0);
    expect(
      value('nexus_gateway_response_cache_lookups_total{operation="anonymous",result="miss"}'),
    ).toBeGreaterThan(0);
    // `{ clock }` was looked up once, then known not to be cacheable.
    expect(
      value('nexus_gateway_response_cache_lookups_total{operation="anonymous",result="skip"}'),
    ).toBeGreaterThan(0);
    expect(value("nexus_gateway_response_cache_stored_bytes_total")).toBeGreaterThan(0);
  });
});
