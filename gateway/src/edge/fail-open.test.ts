/**
 * Limits decide without Redis when it fails or does not answer, and say so once: this
 * replica's own window and bucket then hold each client to its share of the limits.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import { TEST_REDIS_URL } from "@nexus/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayMetrics } from "../observability/metrics.ts";
import { createCostBudget } from "../operation/cost/cost-budget.ts";
import { type PrivateRedis, startPrivateRedis } from "../test-redis.ts";
import { clientKey } from "./context.ts";
import { createFailOpen } from "./fail-open.ts";
import { createClientLimits } from "./rate-limit.ts";

function recordingLogger() {
  const warnings: string[] = [];
  const ignore = () => {};
  const logger: Logger = {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (message) => {
      warnings.push(message);
    },
    child: () => logger,
  };
  return { logger, warnings };
}

describe("createFailOpen", () => {
  it("passes a result through", async () => {
    const { logger, warnings } = recordingLogger();
    const failOpen = createFailOpen({ timeoutMs: 50, logger, what: "test" });
    expect(await failOpen(Promise.resolve(7))).toBe(7);
    expect(warnings).toEqual([]);
  });

  it("gives null for a failure or an answer that does not come in time, warning at most once per interval", async () => {
    const { logger, warnings } = recordingLogger();
    const failOpen = createFailOpen({ timeoutMs: 50, logger, what: "test", warnEveryMs: 60_000 });
    expect(await failOpen(Promise.reject(new Error("READONLY")))).toBeNull();
    const started = Date.now();
    expect(await failOpen(new Promise(() => {}))).toBeNull();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(warnings).toEqual(["test skipped: Redis failed"]);
  });
});

describe("limits on a Redis that does not answer", () => {
  let redis: Redis;

  beforeAll(async () => {
    // A port nothing listens on: ioredis keeps reconnecting and queues every command.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    redis = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: null });
    redis.on("error", () => {}); // each refused reconnection; the limits' own warning is what counts
  });
  afterAll(() => redis.disconnect());

  it("holds a client to the rate limit with this replica's window, refusing it before parsing once it is over", async () => {
    const { logger, warnings } = recordingLogger();
    const limits = createClientLimits({
      budget: createCostBudget(redis, { prefix: "unreachable", capacity: 10, refillPerSecond: 1 }),
      window: { prefix: "unreachable-rate", limit: 1, windowSeconds: 60 },
      capacity: 10,
      refillPerSecond: 1,
      replicas: 1,
      metrics: createGatewayMetrics(),
      logger,
    });
    const client = { viewer: null, client: { name: null, kind: "anonymous" as const, ip: "198.51.100.1" } };
    const key = clientKey(client);
    // Within its limit: let through, as before.
    expect(limits.refuseKnownOverRate(client)).toBeUndefined();
    expect((await limits.charge(key, 0)).refusedBy).toBeNull();
    // Over it: refused from memory, no Redis needed.
    expect(() => limits.refuseKnownOverRate(client)).toThrow(
      expect.objectContaining({
        extensions: expect.objectContaining({ code: "RATE_LIMITED", retryAfterSeconds: 60 }),
      }),
    );
    expect((await limits.charge(key, 0)).refusedBy).toBe("rate");
    // Another client has a window of its own.
    expect((await limits.charge("ip:198.51.100.2", 0)).refusedBy).toBeNull();
    expect(warnings).toEqual([
      "rate limit and cost budget enforced by this replica alone: Redis did not answer within 250 ms",
    ]);
  });

  it("cannot charge a budget, which the caller then skips", async () => {
    const { logger } = recordingLogger();
    const budget = createCostBudget(redis, { prefix: "unreachable", capacity: 10, refillPerSecond: 1 });
    const failOpen = createFailOpen({ timeoutMs: 100, logger, what: "cost budget" });
    expect(await failOpen(budget.charge("a", 5))).toBeNull();
  });
});

describe("limits on a Redis that accepts commands and never answers", () => {
  let redis: Redis;
  let paused: PrivateRedis;

  beforeAll(async () => {
    // Connected and ready, then paused: commands are written and never answered. A Redis
    // that hangs, not one that is down.
    paused = await startPrivateRedis();
    redis = await connectRedis(paused.url);
    await paused.pause();
  });
  afterAll(async () => {
    redis.disconnect();
    await paused.stop();
  });

  const limitsWith = (replicas: number) =>
    createClientLimits({
      budget: createCostBudget(redis, { prefix: "silent", capacity: 100, refillPerSecond: 1 }),
      window: { prefix: "silent-rate", limit: 4, windowSeconds: 60 },
      capacity: 100,
      refillPerSecond: 1,
      replicas,
      metrics: createGatewayMetrics(),
      logger: recordingLogger().logger,
      timeoutMs: 20,
    });

  it("refuses a client past its share of the rate limit", async () => {
    const limits = limitsWith(2);
    const decisions = [];
    for (let i = 0; i < 4; i += 1) decisions.push((await limits.charge("a", 1)).refusedBy);
    // Two replicas expected: this one lets 4 / 2 through.
    expect(decisions).toEqual([null, null, "rate", "rate"]);
  });

  it("charges this replica's share of the cost budget", async () => {
    const limits = limitsWith(2);
    const first = await limits.charge("b", 30);
    expect(first).toMatchObject({ refusedBy: null, budget: { allowed: true, maximumAvailable: 50 } });
    expect(first.budget.currentlyAvailable).toBeGreaterThanOrEqual(20);
    const second = await limits.charge("b", 30);
    expect(second).toMatchObject({ refusedBy: "budget", budget: { allowed: false, maximumAvailable: 50 } });
    expect(second.budget.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });
});

describe("a Redis answer that arrives while the event loop is busy", () => {
  it("is read before the timeout is declared", async () => {
    const redis = await connectRedis(TEST_REDIS_URL);
    try {
      const failOpen = createFailOpen({ timeoutMs: 10, logger: recordingLogger().logger, what: "test" });
      // The command is written now; Redis answers within the busy stretch below, but the
      // answer is only read once the loop polls, after the 10 ms timer is due.
      const answer = failOpen(redis.ping());
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // Busy, as a saturated gateway is.
      }
      expect(await answer).toBe("PONG");
    } finally {
      redis.disconnect();
    }
  });
});
