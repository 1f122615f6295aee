import { GraphQLScalarType } from "graphql";
import { describe, expect, it } from "vitest";
import { createLogger, type Logger } from "./logger.ts";
import { boundedLabel } from "./metrics.ts";
import type { ServiceConfig } from "./service-config.ts";
import { generateSubgraphSecret, subgraphAuthHeaders } from "./subgraph-auth.ts";
import { mergeResolvers, type SubgraphStore, startSubgraph } from "./subgraph-kit.ts";

describe("mergeResolvers", () => {
  it("merges the fields one type gets from several modules", () => {
    const order = { Query: { order: () => 1 }, Order: { lines: () => [] } };
    const cart = { Query: { cart: () => 2 }, Mutation: { addToCart: () => 3 } };
    const merged = mergeResolvers<Record<string, Record<string, unknown>>>([order, cart]);
    expect(Object.keys(merged)).toEqual(["Query", "Order", "Mutation"]);
    expect(Object.keys(merged.Query ?? {})).toEqual(["order", "cart"]);
    expect(merged.Order?.lines).toBe(order.Order.lines);
  });

  it("throws on a Type.field two modules define, instead of dropping one", () => {
    expect(() =>
      mergeResolvers<object>([
        { User: { orders: () => [] } },
        { User: { cart: () => null, orders: () => [] } },
      ]),
    ).toThrow("resolvers: User.orders is defined by two modules");
  });

  it("keeps a scalar whole and refuses a second one of the same name", () => {
    const scalar = new GraphQLScalarType({ name: "DateTime" });
    expect(mergeResolvers<object>([{ DateTime: scalar }, { Query: {} }])).toEqual({
      DateTime: scalar,
      Query: {},
    });
    expect(() => mergeResolvers<object>([{ DateTime: scalar }, { DateTime: scalar }])).toThrow(
      "resolvers: DateTime is defined by two modules",
    );
  });
});

describe("startSubgraph", () => {
  const secret = generateSubgraphSecret();
  const config: ServiceConfig = {
    host: "127.0.0.1",
    port: 0,
    logLevel: "silent",
    production: false,
    auth: { issuer: "nexus", audience: "nexus", jwksUrl: "http://127.0.0.1:1/jwks.json" },
    subgraphSecret: secret,
    subgraphSecretPrevious: undefined,
    metricsToken: undefined,
    databaseMigrations: "verify",
    shutdownTimeoutMs: 1000,
  };
  const logger = createLogger("kit-test", "silent");

  /** A store that only records what the kit does with it, so the order can be asserted. */
  function recordingStore(name: string, events: string[], health: { up: boolean }): SubgraphStore<string> {
    return {
      async open(_logger, schema) {
        // The kit hands every store the service's DATABASE_MIGRATIONS.
        events.push(`open ${name} (${schema.migrations})`);
        return name;
      },
      async check() {
        if (!health.up) throw new Error(`${name} is down`);
      },
      async close() {
        events.push(`close ${name}`);
      },
    };
  }

  it("opens stores in order, checks each on /health and /ready and stops everything newest first", async () => {
    const events: string[] = [];
    const health = { up: true };
    const app = await startSubgraph({
      name: "insights",
      config,
      logger,
      stores: { db: recordingStore("db", events, health), redis: recordingStore("redis", events, health) },
      resolvers: {},
      createContext: async () => ({ viewer: null }),
      async start({ stores, defer }) {
        events.push(`start with ${stores.db} and ${stores.redis}`);
        defer(() => events.push("stop worker"));
        return { deps: {}, expose: { extra: 42 } };
      },
    });
    expect(app.db).toBe("db");
    expect(app.extra).toBe(42);
    const healthUrl = app.url.replace("/graphql", "/health");
    const readyUrl = app.url.replace("/graphql", "/ready");
    expect((await fetch(healthUrl)).status).toBe(200);
    // /ready is open to probes, like /health: no signature needed.
    const ready = await fetch(readyUrl);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok" });
    health.up = false;
    const down = await fetch(healthUrl);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ reason: "db is down" });
    const notReady = await fetch(readyUrl);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: "unavailable", reason: "db is down" });
    // A signer whose signature fails is told so on /ready too.
    expect(
      (await fetch(readyUrl, { headers: subgraphAuthHeaders({ current: generateSubgraphSecret() }) })).status,
    ).toBe(401);
    health.up = true;

    const body = JSON.stringify({ query: "{ __typename }" });
    const signed = await fetch(app.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...subgraphAuthHeaders({ current: secret }, body) },
      body,
    });
    expect(await signed.json()).toEqual({ data: { __typename: "Query" } });
    const unsigned = await fetch(app.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(unsigned.status).toBe(401);

    await app.stop();
    expect(events).toEqual([
      "open db (verify)",
      "open redis (verify)",
      "start with db and redis",
      "stop worker",
      "close redis",
      "close db",
    ]);
  });

  it("closes what was opened when start-up fails part-way", async () => {
    const events: string[] = [];
    const health = { up: true };
    await expect(
      startSubgraph({
        name: "insights",
        config,
        logger,
        stores: { db: recordingStore("db", events, health) },
        resolvers: {},
        createContext: async () => ({ viewer: null }),
        async start({ defer }) {
          defer(() => events.push("stop worker"));
          throw new Error("consumer could not start");
        },
      }),
    ).rejects.toThrow("consumer could not start");
    expect(events).toEqual(["open db (verify)", "stop worker", "close db"]);
  });

  it("serves /metrics to anyone without METRICS_TOKEN, and warns in production that it does", async () => {
    const warnings: string[] = [];
    const capturing: Logger = {
      debug() {},
      info() {},
      warn: (message) => warnings.push(message),
      error() {},
      child: () => capturing,
    };
    const start = (production: boolean) =>
      startSubgraph({
        name: "insights",
        config: { ...config, production },
        logger: capturing,
        stores: {},
        resolvers: {},
        createContext: async () => ({ viewer: null }),
        start: async () => ({ deps: {} }),
      });
    const development = await start(false);
    expect(warnings).toEqual([]);
    const scraped = await fetch(development.url.replace("/graphql", "/metrics"));
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("nexus_insights_process_cpu_seconds_total");
    await development.stop();

    const production = await start(true);
    expect(warnings).toEqual([expect.stringContaining("METRICS_TOKEN is not set")]);
    await production.stop();
  });
});

describe("boundedLabel", () => {
  it("keeps the first distinct values and folds later ones into other", () => {
    const label = boundedLabel(2);
    expect(["A", "B", "C", "A", "D", "B"].map(label)).toEqual(["A", "B", "other", "A", "other", "B"]);
  });
});
