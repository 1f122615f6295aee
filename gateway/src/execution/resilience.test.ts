/**
 * Subgraph fetch resilience through the gateway, over HTTP as a client sees it: deduplication
 * across client requests, errors at every path a failed subgraph leaves empty, per-subgraph
 * timeouts, mutations sent once, the circuit breaker and its metrics. The subgraphs are tiny
 * real ones built with @apollo/subgraph, plus raw HTTP servers that fail as a test scripts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GraphQLResolverMap } from "@apollo/subgraph";
import { createLogger, sendJson } from "@nexus/core";
import { createTestAuth, serveJwks, TEST_TOKEN_AUDIENCE, type TestAuth } from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../app.ts";
import { loadConfig } from "../config.ts";
import {
  closedPortUrl,
  type RawServer,
  startRawServer,
  startTestSubgraph,
  writeTestSupergraph,
} from "../test-harness.ts";

const logger = createLogger("resilience-test", "silent");
const FEDERATION = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])`;

const ACCOUNTS_SDL = `${FEDERATION}
type Query { me: User }
type User @key(fields: "id") { id: ID! name: String }
`;
const REVIEWS_SDL = `${FEDERATION}
type Query { reviews: [Review!]! }
type Review { id: ID! body: String! author: User! }
type User @key(fields: "id", resolvable: false) { id: ID! }
`;
const FLAKY_SDL = `${FEDERATION}
type Query { flaky: String }
type Mutation { poke: String }
`;
const SLOW_SDL = `${FEDERATION}
type Query { slow: String }
`;

const REVIEWS = Array.from({ length: 20 }, (_, i) => ({
  id: `r${i}`,
  body: `Review ${i}`,
  authorId: `u${i % 3}`,
}));

/** Holds `me` until released, so concurrent client requests are all in flight at once. */
function createGate() {
  let release = () => {};
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { opened, release };
}

let gate: ReturnType<typeof createGate> | null = null;
/** The authorization header of every request the accounts subgraph received. */
const accountsSeen: (string | undefined)[] = [];

const accountsResolvers: GraphQLResolverMap<unknown> = {
  Query: {
    me: async () => {
      await gate?.opened;
      return { id: "u0", name: "Ada" };
    },
  },
  User: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `User ${ref.id}` }),
  },
};
const reviewsResolvers: GraphQLResolverMap<unknown> = {
  Query: { reviews: () => REVIEWS },
  Review: { author: (review: { authorId: string }) => ({ __typename: "User", id: review.authorId }) },
};

function startSubgraph(typeDefs: string, resolvers: GraphQLResolverMap<unknown>) {
  return startTestSubgraph(typeDefs, resolvers, {
    onRequest: (req) => {
      if (typeDefs === ACCOUNTS_SDL) accountsSeen.push(req.headers.authorization);
    },
  });
}

const tmp = mkdtempSync(join(tmpdir(), "nexus-resilience-test-"));

function writeSupergraph(subgraphs: { name: string; url: string; sdl: string }[]): string {
  return writeTestSupergraph(tmp, subgraphs);
}

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

async function post(
  endpoint: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<GraphQLBody> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });
  // Every costed response carries extensions.cost (limits.test.ts covers it); these tests look at the rest.
  const { extensions: _cost, ...body } = (await response.json()) as GraphQLBody & { extensions?: unknown };
  return body;
}

/** One series of the gateway's `/metrics`, e.g. `metric(url, 'x_total{subgraph="a"}')`; 0 when absent. */
async function metric(graphqlUrl: string, series: string): Promise<number> {
  const text = await (await fetch(graphqlUrl.replace(/\/graphql$/, "/metrics"))).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let auth: TestAuth;
let gateway: RunningGateway;
let flaky: RawServer;
let slow: RawServer;
let baseEnv: Record<string, string>;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  auth = await createTestAuth();
  const jwks = await serveJwks(auth.jwks);
  const accounts = await startSubgraph(ACCOUNTS_SDL, accountsResolvers);
  const reviews = await startSubgraph(REVIEWS_SDL, reviewsResolvers);
  flaky = await startRawServer((_req, res) => sendJson(res, 503, { message: "no healthy upstream" }));
  slow = await startRawServer(() => {});
  stops.push(jwks.close, accounts.close, reviews.close, flaky.close, slow.close);

  baseEnv = {
    HOST: "127.0.0.1",
    GATEWAY_PORT: "0",
    LOG_LEVEL: "silent",
    JWKS_URL: jwks.url,
    JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
    JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
    SUPERGRAPH_PATH: writeSupergraph([
      { name: "accounts", url: accounts.url, sdl: ACCOUNTS_SDL },
      { name: "reviews", url: reviews.url, sdl: REVIEWS_SDL },
      { name: "flaky", url: flaky.url, sdl: FLAKY_SDL },
      { name: "slow", url: slow.url, sdl: SLOW_SDL },
    ]),
    SUBGRAPH_TIMEOUT_MS: "3000",
    SLOW_TIMEOUT_MS: "150",
    SUBGRAPH_RETRY_BACKOFF_MS: "20",
  };
  gateway = await startGateway(loadConfig(baseEnv), logger);
  stops.push(gateway.stop);
});

afterAll(async () => {
  gate?.release();
  for (const stop of stops.reverse()) await stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("identical concurrent client requests", () => {
  const DEDUPLICATED = 'nexus_gateway_subgraph_deduplicated_total{subgraph="accounts"}';

  /**
   * Sends 20 requests for `me` while the accounts subgraph holds its answers, and releases
   * it once every request has either reached the subgraph or joined a fetch in flight.
   */
  async function twentyConcurrent(tokens: string[]) {
    accountsSeen.length = 0;
    const deduplicatedBefore = await metric(gateway.url, DEDUPLICATED);
    const deduplicated = async () => (await metric(gateway.url, DEDUPLICATED)) - deduplicatedBefore;
    gate = createGate();
    const responses = Promise.all(
      tokens.map((authorization) => post(gateway.url, "{ me { id name } }", { authorization })),
    );
    await until(
      "all 20 requests to be in flight",
      async () => accountsSeen.length + (await deduplicated()) >= 20,
    );
    gate.release();
    gate = null;
    return { responses: await responses, deduplicated: await deduplicated() };
  }

  it("share one subgraph fetch when they carry the same token", async () => {
    const token = await auth.bearer("u0");
    const { responses, deduplicated } = await twentyConcurrent(Array.from({ length: 20 }, () => token));
    expect(accountsSeen).toHaveLength(1);
    expect(accountsSeen).toEqual([token]);
    expect(deduplicated).toBe(19);
    for (const response of responses) expect(response).toEqual({ data: { me: { id: "u0", name: "Ada" } } });
  });

  it("each send their own subgraph fetch when their tokens differ", async () => {
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => auth.bearer(`u${i}`)));
    const { responses, deduplicated } = await twentyConcurrent(tokens);
    expect(accountsSeen).toHaveLength(20);
    expect(accountsSeen.toSorted()).toEqual(tokens.toSorted());
    expect(deduplicated).toBe(0);
    for (const response of responses) expect(response).toEqual({ data: { me: { id: "u0", name: "Ada" } } });
  });
});

describe("a failing subgraph", () => {
  it("gets a mutation exactly once, and a query three times (SUBGRAPH_RETRIES=2)", async () => {
    const before = flaky.requests();
    const mutation = await post(gateway.url, "mutation { poke }");
    expect(mutation).toEqual({
      data: { poke: null },
      errors: [
        {
          message: 'Subgraph "flaky" answered HTTP 503.',
          path: ["poke"],
          extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: "flaky" },
        },
      ],
    });
    expect(flaky.requests()).toBe(before + 1);

    await post(gateway.url, "{ flaky }");
    expect(flaky.requests()).toBe(before + 1 + 3);
  });

  it("is given up on after its own <NAME>_TIMEOUT_MS, not SUBGRAPH_TIMEOUT_MS", async () => {
    const started = Date.now();
    const response = await post(gateway.url, "{ slow reviews { id } }");
    const elapsed = Date.now() - started;
    expect(response).toEqual({
      data: { slow: null, reviews: REVIEWS.map(({ id }) => ({ id })) },
      errors: [
        {
          message: 'Subgraph "slow" did not answer within 150 ms.',
          path: ["slow"],
          extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: "slow" },
        },
      ],
    });
    expect(slow.requests()).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(140);
    // SUBGRAPH_TIMEOUT_MS is 3000: anything near it means the override was not applied.
    expect(elapsed).toBeLessThan(150 + 1500);
  });
});

describe("a subgraph that is down", () => {
  let down: RunningGateway;
  const QUERY = "{ reviews { id body author { id name } } }";

  beforeAll(async () => {
    down = await startGateway(
      loadConfig({
        ...baseEnv,
        ACCOUNTS_URL: await closedPortUrl(),
        CIRCUIT_BREAKER_FAILURES: "2",
        CIRCUIT_BREAKER_COOLDOWN_MS: "60000",
      }),
      logger,
    );
    stops.push(down.stop);
  });

  const expectedFor = (message: string) => ({
    data: {
      reviews: REVIEWS.map(({ id, body, authorId }) => ({ id, body, author: { id: authorId, name: null } })),
    },
    errors: REVIEWS.map((_, i) => ({
      message,
      path: ["reviews", i, "author", "name"],
      extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: "accounts" },
    })),
  });

  it("leaves the other subgraphs' fields in place, with an error naming it at each missing path", async () => {
    const started = Date.now();
    expect(await post(down.url, QUERY)).toEqual(expectedFor('Subgraph "accounts" is unreachable.'));
    // Connection refused: retried twice with pauses of 10-20 and 20-40 ms, far from any timeout.
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("is no longer called once its circuit is open, and the errors still name it at each path", async () => {
    // The first test's fetch failed once; this one is the second failure, which opens the circuit.
    await post(down.url, QUERY);
    const series = 'nexus_gateway_subgraph_circuit_state{subgraph="accounts"}';
    expect(await metric(down.url, series)).toBe(2);
    const response = await post(down.url, QUERY);
    expect(response).toEqual(
      expectedFor('Subgraph "accounts" is unavailable: circuit open after 2 consecutive failures.'),
    );
    expect(
      await metric(
        down.url,
        'nexus_gateway_subgraph_fetch_duration_seconds_count{subgraph="accounts",outcome="circuit_open"}',
      ),
    ).toBe(1);
    expect(await metric(down.url, 'nexus_gateway_subgraph_circuit_state{subgraph="reviews"}')).toBe(0);
  });
});
