import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ConfigError } from "@nexus/core";
import { TEST_SUBGRAPH_SECRET } from "@nexus/testing";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_PERSISTED_OPERATIONS_DIR, DEFAULT_SUPERGRAPH_PATH, loadConfig } from "./config.ts";
import { listSubgraphs, subgraphTimeoutVariable, subgraphUrlVariable } from "./execution/supergraph.ts";

const dir = mkdtempSync(join(tmpdir(), "nexus-gateway-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TWO_SUBGRAPHS = `
enum join__Graph {
  ACCOUNTS @join__graph(name: "accounts", url: "http://localhost:5001/graphql")
  ORDER_HISTORY @join__graph(name: "order-history", url: "http://localhost:5002/graphql")
}
type Query { ok: Boolean }
`;

function supergraphFile(name: string, sdl: string): string {
  const path = join(dir, name);
  writeFileSync(path, sdl);
  return path;
}

function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("serves the checked-in supergraph at the URLs composed into it by default", () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.host).toBe("0.0.0.0");
    expect(config.production).toBe(false);
    expect(config.supergraphPath).toBe(DEFAULT_SUPERGRAPH_PATH);
    expect(config.supergraphSdl).toContain("enum join__Graph");
    expect(config.resilience.timeoutMs).toBe(10_000);
    expect(config.auth).toEqual({
      issuer: "nexus",
      audience: "nexus",
      jwksUrl: "http://127.0.0.1:4001/.well-known/jwks.json",
    });
    expect(config.subgraphUrls).toEqual({
      catalog: "http://localhost:4002/graphql",
      insights: "http://localhost:4005/graphql",
      inventory: "http://localhost:4004/graphql",
      notifications: "http://localhost:4006/graphql",
      orders: "http://localhost:4003/graphql",
      users: "http://localhost:4001/graphql",
    });
    expect(config.resilience).toEqual({
      timeoutMs: 10_000,
      timeoutsMs: {
        catalog: 10_000,
        insights: 10_000,
        inventory: 10_000,
        notifications: 10_000,
        orders: 10_000,
        users: 10_000,
      },
      retries: { attempts: 2, backoffMs: 100 },
      circuitBreaker: { failures: 5, cooldownMs: 10_000 },
    });
    expect(config.graphiql).toBe("on");
    expect(config.introspection).toBe("on");
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.subgraphUrls)).toBe(true);
    expect(Object.isFrozen(config.resilience)).toBe(true);
    expect(Object.isFrozen(config.resilience.timeoutsMs)).toBe(true);
  });

  it("takes <NAME>_TIMEOUT_MS over SUBGRAPH_TIMEOUT_MS for each subgraph, and the retry and breaker settings", () => {
    const config = loadConfig({
      SUPERGRAPH_PATH: supergraphFile("timeouts.graphql", TWO_SUBGRAPHS),
      SUBGRAPH_TIMEOUT_MS: "3000",
      ORDER_HISTORY_TIMEOUT_MS: "800",
      SUBGRAPH_RETRIES: "0",
      SUBGRAPH_RETRY_BACKOFF_MS: "25",
      CIRCUIT_BREAKER_FAILURES: "0",
      CIRCUIT_BREAKER_COOLDOWN_MS: "500",
    });
    expect(config.resilience).toEqual({
      timeoutMs: 3000,
      timeoutsMs: { accounts: 3000, "order-history": 800 },
      retries: { attempts: 0, backoffMs: 25 },
      circuitBreaker: { failures: 0, cooldownMs: 500 },
    });
  });

  it("takes <NAME>_URL for each subgraph of the supergraph, and the other settings", () => {
    const path = supergraphFile("two.graphql", TWO_SUBGRAPHS);
    const config = loadConfig({
      SUPERGRAPH_PATH: path,
      ORDER_HISTORY_URL: "https://history.internal/graphql",
      USERS_URL: "http://ignored.internal/graphql",
      GATEWAY_PORT: "4100",
      SUBGRAPH_TIMEOUT_MS: "2500",
      NODE_ENV: "production",
      SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
    });
    expect(config.supergraphPath).toBe(path);
    expect(config.supergraphSdl).toBe(TWO_SUBGRAPHS);
    expect(config.subgraphUrls).toEqual({
      accounts: "http://localhost:5001/graphql",
      "order-history": "https://history.internal/graphql",
    });
    expect(config.port).toBe(4100);
    expect(config.resilience.timeoutMs).toBe(2500);
    expect(config.production).toBe(true);
  });

  it("runs one worker outside production and one per CPU in production, unless GATEWAY_WORKERS says", () => {
    expect(loadConfig({}).workers).toBe(1);
    const production = { NODE_ENV: "production", SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET };
    expect(loadConfig(production).workers).toBe(availableParallelism());
    expect(loadConfig({ ...production, GATEWAY_WORKERS: "1" }).workers).toBe(1);
    expect(loadConfig({ GATEWAY_WORKERS: "3" }).workers).toBe(3);
    for (const bad of ["0", "65", "two", "1.5"]) {
      expect(problemsOf(() => loadConfig({ GATEWAY_WORKERS: bad }))).toEqual([
        `GATEWAY_WORKERS must be an integer between 1 and 64, got "${bad}"`,
      ]);
    }
  });

  it("resolves a relative SUPERGRAPH_PATH from the working directory", () => {
    const path = supergraphFile("relative.graphql", TWO_SUBGRAPHS);
    expect(loadConfig({ SUPERGRAPH_PATH: relative(process.cwd(), path) }).supergraphPath).toBe(path);
  });

  it("reports every bad value at once", () => {
    const path = supergraphFile("bad-values.graphql", TWO_SUBGRAPHS);
    expect(
      problemsOf(() =>
        loadConfig({
          SUPERGRAPH_PATH: path,
          SUBGRAPH_TIMEOUT_MS: "0",
          SUBGRAPH_RETRIES: "-1",
          SUBGRAPH_RETRY_BACKOFF_MS: "soon",
          CIRCUIT_BREAKER_FAILURES: "2.5",
          CIRCUIT_BREAKER_COOLDOWN_MS: "0",
          ACCOUNTS_URL: "ftp://accounts.internal/graphql",
          ORDER_HISTORY_URL: "not a url",
          ORDER_HISTORY_TIMEOUT_MS: "600001",
        }),
      ),
    ).toEqual([
      'SUBGRAPH_TIMEOUT_MS must be an integer between 1 and 600000, got "0"',
      'SUBGRAPH_RETRIES must be an integer between 0 and 10, got "-1"',
      'SUBGRAPH_RETRY_BACKOFF_MS must be an integer between 0 and 60000, got "soon"',
      'CIRCUIT_BREAKER_FAILURES must be an integer between 0 and 1000, got "2.5"',
      'CIRCUIT_BREAKER_COOLDOWN_MS must be an integer between 1 and 3600000, got "0"',
      'ACCOUNTS_URL must use http: or https:, got "ftp:"',
      'ORDER_HISTORY_URL must be a URL, got "not a url"',
      'ORDER_HISTORY_TIMEOUT_MS must be an integer between 1 and 600000, got "600001"',
    ]);
  });

  it("refuses a missing supergraph file or one that declares no subgraph", () => {
    const missing = join(dir, "missing.graphql");
    expect(problemsOf(() => loadConfig({ SUPERGRAPH_PATH: missing, GATEWAY_PORT: "x" }))).toEqual([
      'GATEWAY_PORT must be an integer between 0 and 65535, got "x"',
      `SUPERGRAPH_PATH: cannot read ${missing} (ENOENT); \`pnpm compose\` writes it`,
    ]);
    const empty = supergraphFile("empty.graphql", "type Query { ok: Boolean }");
    expect(problemsOf(() => loadConfig({ SUPERGRAPH_PATH: empty }))).toEqual([
      `SUPERGRAPH_PATH: ${empty} is not a supergraph: it declares no subgraph (no @join__graph values)`,
    ]);
    const broken = supergraphFile("broken.graphql", "enum join__Graph {");
    expect(problemsOf(() => loadConfig({ SUPERGRAPH_PATH: broken }))).toEqual([
      `SUPERGRAPH_PATH: ${broken} is not a supergraph: Syntax Error: Expected Name, found <EOF>.`,
    ]);
  });
});

describe("loadConfig: limits", () => {
  it("has defaults that let every operation in this repository and the introspection query through", () => {
    expect(loadConfig({}).limits).toEqual({
      maxDepth: 15,
      maxAliases: 30,
      maxDirectives: 50,
      maxTokens: 5000,
      maxCost: 1500,
      costBudgetCapacity: 3000,
      costBudgetRefillPerSecond: 100,
      rateLimitPerMinute: 600,
    });
    expect(Object.isFrozen(loadConfig({}).limits)).toBe(true);
  });

  it("takes each limit from its variable", () => {
    expect(
      loadConfig({
        MAX_DEPTH: "8",
        MAX_ALIASES: "0",
        MAX_DIRECTIVES: "0",
        MAX_TOKENS: "800",
        MAX_COST: "500",
        COST_BUDGET_CAPACITY: "500",
        COST_BUDGET_REFILL_PER_SECOND: "5",
        RATE_LIMIT_PER_MINUTE: "60",
      }).limits,
    ).toEqual({
      maxDepth: 8,
      maxAliases: 0,
      maxDirectives: 0,
      maxTokens: 800,
      maxCost: 500,
      costBudgetCapacity: 500,
      costBudgetRefillPerSecond: 5,
      rateLimitPerMinute: 60,
    });
  });

  it("refuses limits that are not positive integers (aliases and directives may be 0)", () => {
    expect(
      problemsOf(() =>
        loadConfig({
          MAX_DEPTH: "0",
          MAX_ALIASES: "-1",
          MAX_TOKENS: "many",
          MAX_COST: "1.5",
          COST_BUDGET_REFILL_PER_SECOND: "0",
          RATE_LIMIT_PER_MINUTE: "0",
        }),
      ),
    ).toEqual([
      `MAX_DEPTH must be an integer between 1 and ${Number.MAX_SAFE_INTEGER}, got "0"`,
      `MAX_ALIASES must be an integer between 0 and ${Number.MAX_SAFE_INTEGER}, got "-1"`,
      `MAX_TOKENS must be an integer between 1 and ${Number.MAX_SAFE_INTEGER}, got "many"`,
      `MAX_COST must be an integer between 1 and ${Number.MAX_SAFE_INTEGER}, got "1.5"`,
      `COST_BUDGET_REFILL_PER_SECOND must be an integer between 1 and ${Number.MAX_SAFE_INTEGER}, got "0"`,
      `RATE_LIMIT_PER_MINUTE must be an integer between 1 and ${Number.MAX_SAFE_INTEGER}, got "0"`,
    ]);
  });

  it("refuses a budget smaller than the cost one operation may have", () => {
    expect(problemsOf(() => loadConfig({ MAX_COST: "4000" }))).toEqual([
      "COST_BUDGET_CAPACITY (3000) must be at least MAX_COST (4000), or an operation within MAX_COST could never be afforded",
    ]);
  });
});

describe("SUBGRAPH_SECRET", () => {
  it("is required in production, where the gateway could otherwise reach no subgraph", () => {
    expect(problemsOf(() => loadConfig({ NODE_ENV: "production" }))).toEqual([
      "SUBGRAPH_SECRET is required when NODE_ENV=production (generate one: openssl rand -base64 32)",
    ]);
    const config = loadConfig({
      NODE_ENV: "production",
      SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
      SUBGRAPH_SECRET_PREVIOUS: `${TEST_SUBGRAPH_SECRET}-old`,
    });
    expect(config.subgraphSecret).toBe(TEST_SUBGRAPH_SECRET);
    expect(config.subgraphSecretPrevious).toBe(`${TEST_SUBGRAPH_SECRET}-old`);
  });

  it("is optional elsewhere (a generated one is used) but never short", () => {
    expect(loadConfig({}).subgraphSecret).toBeUndefined();
    expect(problemsOf(() => loadConfig({ SUBGRAPH_SECRET: "password" }))).toEqual([
      "SUBGRAPH_SECRET must be at least 32 characters long",
    ]);
  });
});

describe("GRAPHIQL and INTROSPECTION", () => {
  const modes = (env: Record<string, string>) => {
    const { graphiql, introspection } = loadConfig({ SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET, ...env });
    return { graphiql, introspection };
  };

  it("serve GraphiQL and the schema to everyone outside production", () => {
    expect(modes({})).toEqual({ graphiql: "on", introspection: "on" });
    expect(modes({ NODE_ENV: "test" })).toEqual({ graphiql: "on", introspection: "on" });
  });

  it("keep the schema to admins and GraphiQL off in production", () => {
    expect(modes({ NODE_ENV: "production" })).toEqual({ graphiql: "off", introspection: "admin" });
  });

  it("keep the schema to admins when GraphiQL is for admins, in any environment", () => {
    expect(modes({ GRAPHIQL: "admin" })).toEqual({ graphiql: "admin", introspection: "admin" });
    expect(modes({ NODE_ENV: "production", GRAPHIQL: "admin" })).toEqual({
      graphiql: "admin",
      introspection: "admin",
    });
  });

  it("take explicit values", () => {
    expect(modes({ NODE_ENV: "production", GRAPHIQL: "on" })).toEqual({
      graphiql: "on",
      introspection: "admin",
    });
    expect(modes({ NODE_ENV: "production", INTROSPECTION: "on" })).toEqual({
      graphiql: "off",
      introspection: "on",
    });
    expect(modes({ GRAPHIQL: "off", INTROSPECTION: "off" })).toEqual({
      graphiql: "off",
      introspection: "off",
    });
    expect(modes({ INTROSPECTION: "admin" })).toEqual({ graphiql: "on", introspection: "admin" });
  });

  it("refuse unknown values and combinations that contradict each other", () => {
    expect(problemsOf(() => loadConfig({ GRAPHIQL: "yes", INTROSPECTION: "admins" }))).toEqual([
      'GRAPHIQL must be one of off, on, admin, got "yes"',
      'INTROSPECTION must be one of on, admin, off, got "admins"',
    ]);
    expect(problemsOf(() => loadConfig({ GRAPHIQL: "admin", INTROSPECTION: "on" }))).toEqual([
      "INTROSPECTION=on contradicts GRAPHIQL=admin, which keeps the schema to admins: use INTROSPECTION=admin",
    ]);
    expect(
      problemsOf(() =>
        loadConfig({
          NODE_ENV: "production",
          SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET,
          GRAPHIQL: "on",
          INTROSPECTION: "off",
        }),
      ),
    ).toEqual(["GRAPHIQL=on needs the schema: use INTROSPECTION=admin (or on), or GRAPHIQL=off"]);
    expect(problemsOf(() => loadConfig({ INTROSPECTION: "off" }))).toEqual([
      "GRAPHIQL=on needs the schema: use INTROSPECTION=admin (or on), or GRAPHIQL=off",
    ]);
  });
});

describe("listSubgraphs", () => {
  it("reads the subgraphs in the order the supergraph declares them", () => {
    expect(listSubgraphs(TWO_SUBGRAPHS)).toEqual([
      { name: "accounts", url: "http://localhost:5001/graphql" },
      { name: "order-history", url: "http://localhost:5002/graphql" },
    ]);
  });

  it("names each subgraph's URL and timeout variables after it", () => {
    expect(subgraphUrlVariable("users")).toBe("USERS_URL");
    expect(subgraphUrlVariable("order-history")).toBe("ORDER_HISTORY_URL");
    expect(subgraphTimeoutVariable("order-history")).toBe("ORDER_HISTORY_TIMEOUT_MS");
  });
});

describe("persisted operations settings", () => {
  it("default to a day of APQ, the checked-in operations and enforce for every partner", () => {
    const config = loadConfig({});
    expect(config.apqTtlSeconds).toBe(86_400);
    expect(config.persistedOperationsDir).toBe(DEFAULT_PERSISTED_OPERATIONS_DIR);
    expect(
      existsSync(join(config.persistedOperationsDir, "demo-partner", "persisted-query-manifest.json")),
    ).toBe(true);
    expect(config.persistedOperationsMode).toBe("enforce");
    expect(config.persistedOperationsClientModes).toEqual({});
    expect(Object.isFrozen(config.persistedOperationsClientModes)).toBe(true);
  });

  it("take a default mode, per-client modes, a TTL and a folder", () => {
    const config = loadConfig({
      APQ_TTL_SECONDS: "3600",
      PERSISTED_OPERATIONS_DIR: dir,
      PERSISTED_OPERATIONS_MODE: "audit",
      PERSISTED_OPERATIONS_CLIENT_MODES: " acme=enforce , other-partner=audit,",
    });
    expect(config.apqTtlSeconds).toBe(3600);
    expect(config.persistedOperationsDir).toBe(dir);
    expect(config.persistedOperationsMode).toBe("audit");
    expect(config.persistedOperationsClientModes).toEqual({ acme: "enforce", "other-partner": "audit" });
  });

  it("report every bad value at once", () => {
    expect(
      problemsOf(() =>
        loadConfig({
          APQ_TTL_SECONDS: "5",
          PERSISTED_OPERATIONS_MODE: "off",
          PERSISTED_OPERATIONS_CLIENT_MODES:
            "acme=audit,acme=enforce,=audit,beta=strict,gamma,__proto__=audit=x",
        }),
      ),
    ).toEqual([
      'APQ_TTL_SECONDS must be an integer between 60 and 2592000, got "5"',
      'PERSISTED_OPERATIONS_MODE must be one of enforce, audit, got "off"',
      'PERSISTED_OPERATIONS_CLIENT_MODES names "acme" twice',
      'PERSISTED_OPERATIONS_CLIENT_MODES must be a comma-separated list of <client>=enforce|audit, got "=audit"',
      'PERSISTED_OPERATIONS_CLIENT_MODES must be a comma-separated list of <client>=enforce|audit, got "beta=strict"',
      'PERSISTED_OPERATIONS_CLIENT_MODES must be a comma-separated list of <client>=enforce|audit, got "gamma"',
      'PERSISTED_OPERATIONS_CLIENT_MODES must be a comma-separated list of <client>=enforce|audit, got "__proto__=audit=x"',
    ]);
  });

  it("keep a client named like an Object property an ordinary entry", () => {
    const config = loadConfig({ PERSISTED_OPERATIONS_CLIENT_MODES: "__proto__=audit,constructor=enforce" });
    expect(Object.keys(config.persistedOperationsClientModes)).toEqual(["__proto__", "constructor"]);
    expect(Object.getPrototypeOf(config.persistedOperationsClientModes)).toBe(Object.prototype);
  });
});

describe("loadConfig: the HTTP edge", () => {
  it("allows no cross-origin caller and 128 KiB bodies by default", () => {
    const config = loadConfig({});
    expect(config.corsOrigins).toEqual([]);
    expect(config.maxBodyBytes).toBe(131_072);
  });

  it("allows pages on this machine outside production only", () => {
    expect(loadConfig({}).corsLocalOrigins).toBe(true);
    expect(loadConfig({ NODE_ENV: "test" }).corsLocalOrigins).toBe(true);
    expect(
      loadConfig({ NODE_ENV: "production", SUBGRAPH_SECRET: TEST_SUBGRAPH_SECRET }).corsLocalOrigins,
    ).toBe(false);
  });

  it("reads the CORS allowlist and the body limit", () => {
    const config = loadConfig({
      CORS_ORIGINS: "https://shop.example.com, http://localhost:3000/ ,",
      MAX_BODY_BYTES: "4096",
    });
    expect(config.corsOrigins).toEqual(["https://shop.example.com", "http://localhost:3000"]);
    expect(config.maxBodyBytes).toBe(4096);
  });

  it("refuses wildcards, paths and non-URLs in CORS_ORIGINS", () => {
    expect(
      problemsOf(() =>
        loadConfig({
          CORS_ORIGINS: "*, https://shop.example.com/app, shop.example.com",
          MAX_BODY_BYTES: "10",
        }),
      ),
    ).toEqual([
      'MAX_BODY_BYTES must be an integer between 1024 and 16777216, got "10"',
      'CORS_ORIGINS: "*" is not an origin like https://shop.example.com',
      'CORS_ORIGINS: "https://shop.example.com/app" is not an origin like https://shop.example.com',
      'CORS_ORIGINS: "shop.example.com" is not an origin like https://shop.example.com',
    ]);
  });
});
