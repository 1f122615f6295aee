/**
 * The limits over HTTP, as a client meets them: gateways started with small limits in front
 * of two tiny real subgraphs (built with @apollo/subgraph, composed here with @cost and
 * @listSize) that count the requests they receive. For each limit an operation exactly at it
 * is served and one just over it is refused with its code and status, before any subgraph is
 * called. Budgets and rate limits live in the real Redis.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GraphQLResolverMap } from "@apollo/subgraph";
import { createLogger } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  createTestAuth,
  deleteRedisKeys,
  serveJwks,
  TEST_REDIS_URL,
  TEST_TOKEN_AUDIENCE,
  type TestAuth,
  testRedisPrefix,
} from "@nexus/testing";
import { Lexer, Source, TokenKind } from "graphql";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../app.ts";
import { loadConfig } from "../config.ts";
import { expectRateLimited, post, startTestSubgraph, writeTestSupergraph } from "../test-harness.ts";

const logger = createLogger("limits-test", "silent");
const FEDERATION = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key", "@cost", "@listSize"])`;

const SHOP_SDL = `${FEDERATION}
type Query {
  products(first: Int): ProductConnection!
    @listSize(assumedSize: 5, slicingArguments: ["first"], sizedFields: ["edges"], requireOneSlicingArgument: false)
  product(id: ID!): Product
}
type ProductConnection { edges: [ProductEdge!]! }
type ProductEdge { node: Product! }
type Product @key(fields: "id") { id: ID! name: String! related: Product }
`;
const REVIEWS_SDL = `${FEDERATION}
type Product @key(fields: "id") {
  id: ID!
  reviews(first: Int): [Review!]! @listSize(assumedSize: 2, slicingArguments: ["first"], requireOneSlicingArgument: false)
}
type Review { id: ID! body: String! }
`;

const productOf = (id: string) => ({ id, name: `Product ${id}` });
const shopResolvers: GraphQLResolverMap<unknown> = {
  Query: {
    products: (_: unknown, { first }: { first?: number }) => ({
      edges: Array.from({ length: first ?? 5 }, (_item, i) => ({ node: productOf(`p${i + 1}`) })),
    }),
    product: (_: unknown, { id }: { id: string }) => productOf(id),
  },
  Product: {
    __resolveReference: ({ id }: { id: string }) => productOf(id),
    related: ({ id }: { id: string }) => productOf(`${id}r`),
  },
};
const reviewsResolvers: GraphQLResolverMap<unknown> = {
  Product: {
    __resolveReference: ({ id }: { id: string }) => ({ id }),
    reviews: ({ id }: { id: string }, { first }: { first?: number }) =>
      Array.from({ length: first ?? 2 }, (_item, i) => ({ id: `${id}-r${i}`, body: "Fine" })),
  },
};

interface CountingSubgraph {
  url: string;
  requests: number;
  close(): Promise<void>;
}

async function startCountingSubgraph(
  typeDefs: string,
  resolvers: GraphQLResolverMap<unknown>,
): Promise<CountingSubgraph> {
  const subgraph = { url: "", requests: 0, close: async () => {} };
  const http = await startTestSubgraph(typeDefs, resolvers, { onRequest: () => (subgraph.requests += 1) });
  subgraph.url = http.url;
  subgraph.close = http.close;
  return subgraph;
}

const tokensOf = (query: string) => {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count += 1;
  return count;
};

const tmp = mkdtempSync(join(tmpdir(), "nexus-limits-test-"));
const prefixes = {
  limits: testRedisPrefix("limits"),
  budget: testRedisPrefix("limits-budget"),
  rate: testRedisPrefix("limits-rate"),
};
let shop: CountingSubgraph;
let reviews: CountingSubgraph;
let auth: TestAuth;
let baseEnv: Record<string, string>;
const stops: (() => Promise<void>)[] = [];

/** What every gateway here shares; each test group overrides its own limits. */
const GENEROUS = {
  MAX_COST: "100000",
  COST_BUDGET_CAPACITY: "100000",
  COST_BUDGET_REFILL_PER_SECOND: "100000",
  RATE_LIMIT_PER_MINUTE: "100000",
};

async function gatewayWith(env: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startGateway(loadConfig({ ...baseEnv, ...GENEROUS, ...env }), logger);
  stops.push(gateway.stop);
  return gateway;
}

const subgraphRequests = () => shop.requests + reviews.requests;

beforeAll(async () => {
  auth = await createTestAuth();
  const jwks = await serveJwks(auth.jwks);
  shop = await startCountingSubgraph(SHOP_SDL, shopResolvers);
  reviews = await startCountingSubgraph(REVIEWS_SDL, reviewsResolvers);
  stops.push(jwks.close, shop.close, reviews.close);
  const supergraphPath = writeTestSupergraph(tmp, [
    { name: "shop", url: shop.url, sdl: SHOP_SDL },
    { name: "reviews", url: reviews.url, sdl: REVIEWS_SDL },
  ]);
  baseEnv = {
    HOST: "127.0.0.1",
    GATEWAY_PORT: "0",
    LOG_LEVEL: "silent",
    SUPERGRAPH_PATH: supergraphPath,
    REDIS_URL: TEST_REDIS_URL,
    JWKS_URL: jwks.url,
    JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
    JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
    // Clients are told apart by the address a trusted proxy puts in x-forwarded-for.
    TRUSTED_PROXY_HOPS: "1",
  };
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  const redis = await connectRedis(TEST_REDIS_URL);
  for (const prefix of Object.values(prefixes)) {
    await deleteRedisKeys(redis, [prefix]);
  }
  redis.disconnect();
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  shop.requests = 0;
  reviews.requests = 0;
});

describe("operation limits and the cost limit", () => {
  let gateway: RunningGateway;
  const LIMITS = { depth: 4, aliases: 2, directives: 2, tokens: 40, cost: 21 };

  beforeAll(async () => {
    gateway = await gatewayWith({
      GATEWAY_REDIS_PREFIX: prefixes.limits,
      MAX_DEPTH: String(LIMITS.depth),
      MAX_ALIASES: String(LIMITS.aliases),
      MAX_DIRECTIVES: String(LIMITS.directives),
      MAX_TOKENS: String(LIMITS.tokens),
      MAX_COST: String(LIMITS.cost),
    });
  });

  const idFields = (count: number) => Array.from({ length: count }, () => "id").join(" ");
  // `{ product(id: "p1") { ... } }` is 10 tokens around the fields.
  const atTokens = `{ product(id: "p1") { ${idFields(LIMITS.tokens - 10)} } }`;
  const overTokens = `{ product(id: "p1") { ${idFields(LIMITS.tokens - 9)} } }`;
  const products = "query ($first: Int!) { products(first: $first) { edges { node { id } } } }";

  const cases = [
    {
      limit: "depth",
      code: "MAX_DEPTH_LIMIT",
      at: { query: '{ product(id: "p1") { related { related { id } } } }' },
      // The fourth level sits in a fragment: fragments are followed.
      over: {
        query:
          '{ product(id: "p1") { ...Deep } } fragment Deep on Product { related { related { related { id } } } }',
      },
      message: "The operation is nested 5 fields deep, more than the limit of 4.",
      extensions: { limit: 4, actual: 5 },
    },
    {
      limit: "aliases",
      code: "MAX_ALIASES_LIMIT",
      at: {
        query:
          '{ product(id: "p1") { ...Label related { ...Label } } } fragment Label on Product { label: name }',
      },
      over: {
        query:
          '{ product(id: "p1") { ...Label related { ...Label } also: related { id } } } fragment Label on Product { label: name }',
      },
      message: "The operation has 3 aliases, more than the limit of 2.",
      extensions: { limit: 2, actual: 3 },
    },
    {
      limit: "directives",
      code: "MAX_DIRECTIVES_LIMIT",
      at: { query: '{ product(id: "p1") { id @include(if: true) name @skip(if: false) } }' },
      over: {
        query:
          '{ product(id: "p1") { id @include(if: true) name @skip(if: false) related @include(if: true) { id } } }',
      },
      message: "The operation has 3 directives, more than the limit of 2.",
      extensions: { limit: 2, actual: 3 },
    },
    {
      limit: "tokens",
      code: "MAX_TOKENS_LIMIT",
      at: { query: atTokens },
      over: { query: overTokens },
      message: "The operation has more than 40 tokens, the limit.",
      extensions: { limit: 40 },
    },
    {
      limit: "cost",
      code: "COST_ESTIMATED_TOO_EXPENSIVE",
      // products 1 + 10 × (edge 1 + product 1) = 21; with 11, 23
      at: { query: products, variables: { first: 10 } },
      over: { query: products, variables: { first: 11 } },
      message:
        "The operation's estimated cost is 23, more than the limit of 21. Ask for fewer items (a smaller first:) or fewer nested lists.",
      extensions: { limit: 21, actual: 23 },
    },
  ];

  it("builds the token cases exactly at and just over MAX_TOKENS", () => {
    expect([tokensOf(atTokens), tokensOf(overTokens)]).toEqual([LIMITS.tokens, LIMITS.tokens + 1]);
  });

  it.each(cases)("serves an operation exactly at the $limit limit", async ({ at }) => {
    const result = await post(gateway.url, at);
    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data).toBeTruthy();
    expect(shop.requests).toBe(1);
  });

  it.each(cases)(
    "refuses an operation just over the $limit limit with $code and HTTP 400, calling no subgraph",
    async ({ over, code, message, extensions }) => {
      const result = await post(gateway.url, over);
      expect(result.status).toBe(400);
      expect(result.body.errors).toEqual([{ message, extensions: { code, ...extensions } }]);
      expect(result.body.data).toBeUndefined();
      expect(subgraphRequests()).toBe(0);
    },
  );

  it("tells the cost of every costed response in extensions.cost, refused ones included", async () => {
    const served = await post(gateway.url, { query: products, variables: { first: 10 } });
    expect(served.body.extensions?.cost).toEqual({
      requestedQueryCost: 21,
      maximumAvailable: 100000,
      currentlyAvailable: expect.any(Number),
      restoreRate: 100000,
    });
    const refused = await post(gateway.url, { query: products, variables: { first: 11 } });
    expect(refused.body.extensions?.cost).toMatchObject({ requestedQueryCost: 23, maximumAvailable: 100000 });
  });

  it("counts the fields of a query served by two subgraphs", async () => {
    // product 1 + reviews 3 × 1 = 4: within every limit, both subgraphs asked once.
    const result = await post(gateway.url, {
      query: '{ product(id: "p1") { name reviews(first: 3) { body } } }',
    });
    expect(result.body).toMatchObject({
      data: { product: { name: "Product p1" } },
      extensions: { cost: { requestedQueryCost: 4 } },
    });
    expect([shop.requests, reviews.requests]).toEqual([1, 1]);
  });

  it("refuses a fragment cycle in validation, before any limit is measured", async () => {
    const result = await post(gateway.url, {
      query:
        '{ product(id: "p1") { ...A } } fragment A on Product { related { ...B } } fragment B on Product { related { ...A } }',
    });
    expect(result.status).toBe(400);
    expect(result.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(subgraphRequests()).toBe(0);
  });

  it("refuses a batch (a JSON array of operations) with HTTP 400, calling no subgraph", async () => {
    const one = { query: '{ product(id: "p1") { id } }' };
    const result = await post(gateway.url, [one, one]);
    expect(result.status).toBe(400);
    expect(result.body.errors).toEqual([
      { message: "Operation batching disabled.", extensions: { code: "BAD_REQUEST" } },
    ]);
    expect(subgraphRequests()).toBe(0);
  });

  it("counts each refusal at /metrics by limit", async () => {
    const metrics = await (await fetch(gateway.url.replace(/\/graphql$/, "/metrics"))).text();
    const refusals = Object.fromEntries(
      [...metrics.matchAll(/^nexus_gateway_limit_rejections_total\{limit="(\w+)"\} (\d+)$/gm)].map(
        ([, limit, count]) => [limit, Number(count)],
      ),
    );
    // One refusal per limit above, and the too-expensive operation of the extensions.cost test.
    expect(refusals).toEqual({ depth: 1, aliases: 1, directives: 1, tokens: 1, cost: 2 });
  });
});

describe("cost budgets", () => {
  let first: RunningGateway;
  let second: RunningGateway;
  // products 1 + 4 × 2 = 9 points; a bucket of 30 holds three, regaining 10 per second.
  const NINE = { query: "{ products(first: 4) { edges { node { id } } } }" };
  const from = (ip: string) => ({ "x-forwarded-for": ip });

  beforeAll(async () => {
    const env = {
      GATEWAY_REDIS_PREFIX: prefixes.budget,
      MAX_COST: "30",
      COST_BUDGET_CAPACITY: "30",
      COST_BUDGET_REFILL_PER_SECOND: "10",
    };
    // Two replicas sharing one Redis, as in production.
    first = await gatewayWith(env);
    second = await gatewayWith(env);
  });

  it("drains a client's budget, refuses with 429 and Retry-After, and serves again once refilled", async () => {
    const client = from("198.51.100.1");
    const left: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const result = await post(first.url, NINE, client);
      expect(result.status).toBe(200);
      expect(result.body.extensions?.cost).toMatchObject({
        requestedQueryCost: 9,
        maximumAvailable: 30,
        restoreRate: 10,
      });
      left.push(result.body.extensions?.cost?.currentlyAvailable ?? -1);
    }
    // 21, 12, 3, give or take what was regained while the requests ran.
    expect(left[0]).toBeGreaterThanOrEqual(21);
    expect(left[2]).toBeLessThan(9);
    shop.requests = 0;

    const refused = await post(first.url, NINE, client);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(refused.body.errors?.[0]?.extensions).toEqual({
      code: "COST_BUDGET_EXCEEDED",
      retryAfterSeconds: retryAfter,
    });
    expect(refused.body.extensions?.cost).toMatchObject({
      requestedQueryCost: 9,
      maximumAvailable: 30,
      restoreRate: 10,
    });
    expect(refused.body.extensions?.cost?.currentlyAvailable).toBeLessThan(9);
    expect(subgraphRequests()).toBe(0);

    // Another client is not affected.
    expect((await post(first.url, NINE, from("198.51.100.9"))).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    const again = await post(first.url, NINE, client);
    expect(again.status).toBe(200);
    expect(again.body.data).toBeTruthy();
  });

  it("is shared by every gateway replica", async () => {
    const client = from("198.51.100.2");
    for (let i = 0; i < 3; i += 1) expect((await post(first.url, NINE, client)).status).toBe(200);
    shop.requests = 0;
    const elsewhere = await post(second.url, NINE, client);
    expect(elsewhere.status).toBe(429);
    expect(elsewhere.body.errors?.[0]?.extensions?.code).toBe("COST_BUDGET_EXCEEDED");
    expect(subgraphRequests()).toBe(0);
  });

  it("charges nothing for an operation another limit refuses", async () => {
    const client = from("198.51.100.3");
    const tooExpensive = await post(
      first.url,
      { query: "{ products(first: 20) { edges { node { id } } } }" },
      client,
    );
    expect(tooExpensive.body.errors?.[0]?.extensions?.code).toBe("COST_ESTIMATED_TOO_EXPENSIVE");
    expect(tooExpensive.body.extensions?.cost).toMatchObject({
      requestedQueryCost: 41,
      currentlyAvailable: 30,
    });
    const invalid = await post(first.url, { query: "{ products(first: 4) { nope } }" }, client);
    expect(invalid.status).toBe(400);
    const served = await post(first.url, NINE, client);
    expect(served.body.extensions?.cost?.currentlyAvailable).toBe(21);
  });
});

describe("the request rate limit", () => {
  let gateway: RunningGateway;
  const ONE = { query: '{ product(id: "p1") { id } }' };

  beforeAll(async () => {
    gateway = await gatewayWith({ GATEWAY_REDIS_PREFIX: prefixes.rate, RATE_LIMIT_PER_MINUTE: "3" });
  });

  it("refuses the request after the limit with 429 RATE_LIMITED and Retry-After, per client", async () => {
    const client = { "x-forwarded-for": "198.51.100.4" };
    for (let i = 0; i < 3; i += 1) expect((await post(gateway.url, ONE, client)).status).toBe(200);
    shop.requests = 0;

    const refused = await post(gateway.url, ONE, client);
    expectRateLimited(refused, 3);
    expect(subgraphRequests()).toBe(0);

    // Another address, and a signed-in user at the same address, have limits of their own.
    expect((await post(gateway.url, ONE, { "x-forwarded-for": "198.51.100.5" })).status).toBe(200);
    const user = { ...client, authorization: await auth.bearer("u-rate") };
    expect((await post(gateway.url, ONE, user)).status).toBe(200);
  });
});
