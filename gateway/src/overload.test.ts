/**
 * The per-client limits when they matter: gateways in front of one tiny
 * real subgraph, with a Redis of their own so it can be paused and its commands counted.
 * Nothing here depends on how fast the machine is: requests are made one at a time.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@nexus/core";
import { createTestAuth, serveJwks, TEST_TOKEN_AUDIENCE } from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "./app.ts";
import { loadConfig } from "./config.ts";
import { startTestSubgraph, writeTestSupergraph } from "./test-harness.ts";
import { type PrivateRedis, startPrivateRedis } from "./test-redis.ts";

const logger = createLogger("overload-test", "silent");
const SHOP_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])
type Query {
  product(id: ID!): Product
}
type Product @key(fields: "id") { id: ID! name: String! }
`;
const ONE = { query: '{ product(id: "p1") { id name } }' };

let requests = 0;

const tmp = mkdtempSync(join(tmpdir(), "nexus-overload-test-"));
const stops: (() => Promise<void>)[] = [];
let baseEnv: Record<string, string>;

async function gatewayWith(redis: PrivateRedis, env: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startGateway(
    loadConfig({
      ...baseEnv,
      REDIS_URL: redis.url,
      GATEWAY_REDIS_PREFIX: "overload",
      ...env,
    }),
    logger,
  );
  stops.push(gateway.stop);
  return gateway;
}

async function post(endpoint: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] },
  };
}

beforeAll(async () => {
  const auth = await createTestAuth();
  const jwks = await serveJwks(auth.jwks);
  const shop = await startTestSubgraph(
    SHOP_SDL,
    {
      Query: {
        product: (_: unknown, { id }: { id: string }) => ({ id, name: `Product ${id}` }),
      },
    },
    { onRequest: () => (requests += 1) },
  );
  stops.push(jwks.close, shop.close);
  baseEnv = {
    HOST: "127.0.0.1",
    GATEWAY_PORT: "0",
    LOG_LEVEL: "silent",
    SUPERGRAPH_PATH: writeTestSupergraph(tmp, [{ name: "shop", url: shop.url, sdl: SHOP_SDL }]),
    JWKS_URL: jwks.url,
    JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
    JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
    TRUSTED_PROXY_HOPS: "1",
  };
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("Redis round trips", () => {
  let redis: PrivateRedis;
  let gateway: RunningGateway;
  /** Commands the gateway sent (not those its scripts ran), each as its words. */
  const commands: string[][] = [];
  let marker = 0;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    stops.push(redis.stop);
    gateway = await gatewayWith(redis, { RATE_LIMIT_PER_MINUTE: "3" });
    const monitor = await redis.admin.monitor();
    stops.push(async () => monitor.disconnect());
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      if (source !== "lua") commands.push(args);
    });
  });

  /** The commands sent while `work` ran: Redis feeds MONITOR in the order it runs commands, so a marker sent afterwards closes the list. */
  async function commandsOf(work: () => Promise<unknown>): Promise<string[][]> {
    const start = commands.length;
    await work();
    marker += 1;
    const label = `marker-${marker}`;
    await redis.admin.echo(label);
    while (!commands.some((args) => args[0]?.toLowerCase() === "echo" && args[1] === label)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return commands.slice(start).filter((args) => args[0]?.toLowerCase() !== "echo");
  }

  it("counts the request and charges its budget in one command, and refuses a client known to be over its limit with none", async () => {
    const client = { "x-forwarded-for": "198.51.100.20" };
    // The first use of a script may take a second command to load it into Redis.
    await post(gateway.url, ONE, { "x-forwarded-for": "198.51.100.21" });

    const served = await commandsOf(async () =>
      expect((await post(gateway.url, ONE, client)).status).toBe(200),
    );
    expect(served).toHaveLength(1);
    expect(served[0]?.[0]?.toLowerCase()).toBe("evalsha");
    expect(served[0]).toEqual(
      expect.arrayContaining(["overload:budget:ip:198.51.100.20", "overload:rate:ip:198.51.100.20"]),
    );

    // A request refused by validation is counted too, in one command.
    const invalid = await commandsOf(async () =>
      expect((await post(gateway.url, { query: "{ nope }" }, client)).status).toBe(400),
    );
    expect(invalid).toHaveLength(1);

    expect(await commandsOf(() => post(gateway.url, ONE, client))).toHaveLength(1);
    const refused = await commandsOf(async () => {
      const result = await post(gateway.url, ONE, client);
      expect(result.status).toBe(429);
      expect(result.body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    });
    expect(refused).toEqual([]);
  });
});

describe("a Redis that does not answer", () => {
  it("still holds each client to its rate limit, with this replica's window", async () => {
    const redis = await startPrivateRedis();
    stops.push(redis.stop);
    const gateway = await gatewayWith(redis, { RATE_LIMIT_PER_MINUTE: "3" });
    await redis.pause();
    const client = { "x-forwarded-for": "198.51.100.30" };
    for (let i = 0; i < 3; i += 1) expect((await post(gateway.url, ONE, client)).status).toBe(200);
    requests = 0;

    const refused = await post(gateway.url, ONE, client);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(refused.body.errors?.[0]?.extensions).toEqual({
      code: "RATE_LIMITED",
      limit: 3,
      windowSeconds: 60,
      retryAfterSeconds: 60,
    });
    expect(requests).toBe(0);
    // Another client is within its own limit.
    expect((await post(gateway.url, ONE, { "x-forwarded-for": "198.51.100.31" })).status).toBe(200);
  });
});
