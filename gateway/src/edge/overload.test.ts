/**
 * The per-client limits and load shedding when they matter: gateways in front of one tiny
 * real subgraph, with a Redis of their own so it can be paused and its commands counted.
 * Nothing here depends on how fast the machine is: requests are made one at a time, the
 * subgraph holds a request until the test lets it go, and the event loop is blocked on purpose.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@nexus/core";
import { createTestAuth, serveJwks, TEST_TOKEN_AUDIENCE } from "@nexus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../app.ts";
import { loadConfig } from "../config.ts";
import { expectRateLimited, post, startTestSubgraph, writeTestSupergraph } from "../test-harness.ts";
import { type PrivateRedis, startPrivateRedis } from "../test-redis.ts";

const logger = createLogger("overload-test", "silent");
const SHOP_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])
type Query {
  product(id: ID!): Product
  "Answers once the test calls release()."
  slowProduct(id: ID!): Product
}
type Product @key(fields: "id") { id: ID! name: String! }
`;
const ONE = { query: '{ product(id: "p1") { id name } }' };

let requests = 0;

interface Hold {
  /** Resolves once the subgraph is running the held `slowProduct`. */
  arrived: Promise<void>;
  arrive(): void;
  released: Promise<void>;
  release(): void;
}
/** The next `slowProduct` waits for `release()`. */
let pending: Hold | null = null;

function holdNextSlowProduct(): Hold {
  const hold: Partial<Hold> = {};
  hold.arrived = new Promise<void>((resolve) => {
    hold.arrive = resolve;
  });
  hold.released = new Promise<void>((resolve) => {
    hold.release = resolve;
  });
  pending = hold as Hold;
  return pending;
}

const tmp = mkdtempSync(join(tmpdir(), "nexus-overload-test-"));
const stops: (() => Promise<void>)[] = [];
let baseEnv: Record<string, string>;

async function gatewayWith(redis: PrivateRedis, env: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startGateway(
    loadConfig({
      ...baseEnv,
      REDIS_URL: redis.url,
      GATEWAY_REDIS_PREFIX: "overload",
      MAX_IN_FLIGHT_REQUESTS: "0",
      MAX_EVENT_LOOP_DELAY_MS: "0",
      ...env,
    }),
    logger,
  );
  stops.push(gateway.stop);
  return gateway;
}

beforeAll(async () => {
  const auth = await createTestAuth();
  const jwks = await serveJwks(auth.jwks);
  const shop = await startTestSubgraph(
    SHOP_SDL,
    {
      Query: {
        product: (_: unknown, { id }: { id: string }) => ({ id, name: `Product ${id}` }),
        slowProduct: async (_: unknown, { id }: { id: string }) => {
          const hold = pending;
          pending = null;
          if (hold) {
            hold.arrive();
            await hold.released;
          }
          return { id, name: `Product ${id}` };
        },
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

describe("the rate limit across replicas", () => {
  it("is refused by a replica that never saw the client, from Redis's count, with the same 429", async () => {
    const redis = await startPrivateRedis();
    stops.push(redis.stop);
    const first = await gatewayWith(redis, { RATE_LIMIT_PER_MINUTE: "2" });
    const second = await gatewayWith(redis, { RATE_LIMIT_PER_MINUTE: "2" });
    const client = { "x-forwarded-for": "198.51.100.40" };
    for (let i = 0; i < 2; i += 1) expect((await post(first.url, ONE, client)).status).toBe(200);
    requests = 0;

    const refused = await post(second.url, ONE, client);
    expectRateLimited(refused, 2);
    expect(requests).toBe(0);
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

describe("load shedding", () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    stops.push(redis.stop);
  });

  it("refuses a request past MAX_IN_FLIGHT_REQUESTS with 503 SERVER_OVERLOADED and Retry-After, before any work", async () => {
    const gateway = await gatewayWith(redis, { MAX_IN_FLIGHT_REQUESTS: "1" });
    const hold = holdNextSlowProduct();
    const first = post(gateway.url, { query: '{ slowProduct(id: "p1") { id } }' });
    await hold.arrived;
    requests = 0;

    const shed = await post(gateway.url, ONE);
    expect(shed.status).toBe(503);
    expect(shed.headers.get("retry-after")).toBe("1");
    expect(shed.body).toEqual({
      errors: [
        {
          message: "The gateway is overloaded. Retry after 1 s.",
          extensions: { code: "SERVER_OVERLOADED", retryAfterSeconds: 1 },
        },
      ],
    });
    expect(requests).toBe(0);
    // Probes are never shed.
    expect((await fetch(gateway.url.replace(/\/graphql$/, "/health"))).status).toBe(200);

    hold.release();
    expect((await first).status).toBe(200);
    // The finished request left room for the next.
    expect((await post(gateway.url, ONE)).status).toBe(200);
    const metrics = await (await fetch(gateway.url.replace(/\/graphql$/, "/metrics"))).text();
    expect(metrics).toMatch(/^nexus_gateway_shed_requests_total\{reason="in_flight"\} 1$/m);
  });

  it("refuses a request that arrives while the event loop runs later than MAX_EVENT_LOOP_DELAY_MS", async () => {
    const gateway = await gatewayWith(redis, { MAX_EVENT_LOOP_DELAY_MS: "50" });
    const { port } = new URL(gateway.url);
    // One connection, accepted by the gateway before the loop is blocked.
    const socket = await new Promise<Socket>((resolve) => {
      const opened = connect(Number(port), "127.0.0.1", () => resolve(opened));
    });
    const responses = responsesOf(socket);
    socket.write("GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n");
    expect(await responses.next()).toMatch(/^HTTP\/1\.1 200/);

    const body = JSON.stringify(ONE);
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    // The request waits in the socket while the loop is busy, as under overload; when the loop
    // gets to it, the delay sampler has already seen how late it runs.
    const until = performance.now() + 300;
    while (performance.now() < until) {
      // Busy.
    }
    const shed = await responses.next();
    expect(shed).toMatch(/^HTTP\/1\.1 503/);
    expect(shed).toContain("SERVER_OVERLOADED");
    socket.destroy();
  });
});

/** Reads whole HTTP responses (headers and a Content-Length body) off one socket, in order. */
function responsesOf(socket: Socket) {
  let buffered = "";
  const waiting: ((response: string) => void)[] = [];
  const take = () => {
    const headerEnd = buffered.indexOf("\r\n\r\n");
    if (headerEnd < 0) return;
    const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, headerEnd))?.[1] ?? 0);
    const end = headerEnd + 4 + length;
    if (buffered.length < end || waiting.length === 0) return;
    const response = buffered.slice(0, end);
    buffered = buffered.slice(end);
    waiting.shift()?.(response);
    take();
  };
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    take();
  });
  return {
    next: () =>
      new Promise<string>((resolve) => {
        waiting.push(resolve);
        take();
      }),
  };
}
