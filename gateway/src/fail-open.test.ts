/** Limits let requests through when Redis fails or does not answer, and say so once. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@nexus/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCostBudget } from "./cost-budget.ts";
import { createFailOpen } from "./fail-open.ts";
import { createGatewayMetrics } from "./metrics.ts";
import { createRateLimit } from "./rate-limit.ts";

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

  it("lets the request through the rate limit", async () => {
    const { logger, warnings } = recordingLogger();
    const rateLimit = createRateLimit(redis, {
      prefix: "unreachable",
      limit: 1,
      windowSeconds: 60,
      metrics: createGatewayMetrics(),
      logger,
    });
    const client = { viewer: null, client: { name: null, kind: "anonymous" as const, ip: "198.51.100.1" } };
    await expect(rateLimit(client)).resolves.toBeUndefined();
    await expect(rateLimit(client)).resolves.toBeUndefined();
    expect(warnings).toEqual(["rate limit skipped: Redis did not answer within 250 ms"]);
  });

  it("cannot charge a budget, which the caller then skips", async () => {
    const { logger } = recordingLogger();
    const budget = createCostBudget(redis, { prefix: "unreachable", capacity: 10, refillPerSecond: 1 });
    const failOpen = createFailOpen({ timeoutMs: 100, logger, what: "cost budget" });
    expect(await failOpen(budget.charge("a", 5))).toBeNull();
  });
});
