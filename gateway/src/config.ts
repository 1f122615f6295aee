import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  createEnvReader,
  DEFAULT_REDIS_URL,
  readServiceConfig,
  type ServiceConfig,
} from "@nexus/core";
import {
  listSubgraphs,
  type SubgraphEndpoint,
  subgraphTimeoutVariable,
  subgraphUrlVariable,
} from "./execution/supergraph.ts";

/** The checked-in supergraph, found from this file so the gateway starts from any directory. */
export const DEFAULT_SUPERGRAPH_PATH = fileURLToPath(
  new URL("../../schema/supergraph.graphql", import.meta.url),
);

/** The checked-in operations, one folder per client with its persisted query manifest. */
export const DEFAULT_PERSISTED_OPERATIONS_DIR = fileURLToPath(
  new URL("../../schema/operations", import.meta.url),
);

/**
 * What happens to a partner's operation that is not in its manifest: `enforce` refuses it,
 * `audit` runs it and logs it, so a partner can be moved to registered operations gradually.
 */
export const PERSISTED_OPERATIONS_MODES = ["enforce", "audit"] as const;
export type PersistedOperationsMode = (typeof PERSISTED_OPERATIONS_MODES)[number];
/**
 * Limits on what one operation and one client may ask of the supergraph. The defaults are
 * explained in the gateway README ("Limits"): each leaves room above the largest legitimate
 * operation in this repository.
 */
export interface LimitsConfig {
  /** Deepest field nesting of an operation (MAX_DEPTH). */
  maxDepth: number;
  /** Aliased fields in an operation, fragments followed (MAX_ALIASES). */
  maxAliases: number;
  /** Directive applications in an operation, fragments followed (MAX_DIRECTIVES). */
  maxDirectives: number;
  /** Lexical tokens of a document; the parser stops there (MAX_TOKENS). */
  maxTokens: number;
  /** Estimated cost of one operation (MAX_COST). */
  maxCost: number;
  /** A client's cost budget: the most it can spend at once (COST_BUDGET_CAPACITY). */
  costBudgetCapacity: number;
  /** Cost points a client's budget regains per second (COST_BUDGET_REFILL_PER_SECOND). */
  costBudgetRefillPerSecond: number;
  /** Requests one client may send per minute (RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute: number;
}

/**
 * How the gateway holds up past its capacity (gateway README, "Under overload"): requests it
 * sheds before any work, and the share of each per-client limit a replica enforces on its own
 * when Redis does not answer in time.
 */
export interface OverloadConfig {
  /** GraphQL requests served at once; past it new ones get 503 (MAX_IN_FLIGHT_REQUESTS, 0: no limit). */
  maxInFlight: number;
  /** Event-loop delay past which new requests get 503 (MAX_EVENT_LOOP_DELAY_MS, 0: not checked). */
  maxEventLoopDelayMs: number;
  /** Replicas sharing the traffic; without Redis each holds clients to 1/replicas of each limit (GATEWAY_REPLICAS). */
  replicas: number;
}

function readOverloadConfig(read: ReturnType<typeof createEnvReader>): OverloadConfig {
  return {
    maxInFlight: read.int("MAX_IN_FLIGHT_REQUESTS", 256, { min: 0, max: 100_000 }),
    maxEventLoopDelayMs: read.int("MAX_EVENT_LOOP_DELAY_MS", 1000, { min: 0, max: 60_000 }),
    replicas: read.int("GATEWAY_REPLICAS", 1, { min: 1, max: 1000 }),
  };
}

/**
 * One object from the environment to every data source: the six settings travel together, so
 * a new one is added in one place.
 */
export interface ResilienceConfig {
  /** Upper bound for one subgraph fetch, response body included: the default of every subgraph (SUBGRAPH_TIMEOUT_MS). */
  timeoutMs: number;
  /**
   * The bound each subgraph's fetches actually get: `<NAME>_TIMEOUT_MS`, else `timeoutMs`. It
   * covers a fetch's retries and the pauses between them too.
   */
  timeoutsMs: Readonly<Record<string, number>>;
  retries: {
    /** How many times a query fetch is sent again after a transient failure, never a mutation (SUBGRAPH_RETRIES). */
    attempts: number;
    /** The first pause before a retry; each further one doubles, with jitter (SUBGRAPH_RETRY_BACKOFF_MS). */
    backoffMs: number;
  };
  circuitBreaker: {
    /** Consecutive failed fetches of one subgraph that open its circuit; 0 turns the breaker off (CIRCUIT_BREAKER_FAILURES). */
    failures: number;
    /** How long an open circuit fails fast before it lets one trial fetch through (CIRCUIT_BREAKER_COOLDOWN_MS). */
    cooldownMs: number;
  };
}

export interface Config extends ServiceConfig {
  /** Absolute path of the supergraph SDL the gateway serves. */
  supergraphPath: string;
  /** Its content, read once at start-up: the gateway never polls or introspects subgraphs. */
  supergraphSdl: string;
  /** Where each subgraph of the supergraph is fetched: `<NAME>_URL`, else the composed URL. */
  subgraphUrls: Readonly<Record<string, string>>;
  /** How subgraph fetches (and the partner-key exchange) are bounded, retried and broken. */
  resilience: ResilienceConfig;
  /** Where partner API keys are exchanged for access tokens (the users subgraph). */
  partnerTokenUrl: string;
  /** How long an exchanged partner token is reused: the longest a revoked key keeps working. */
  partnerKeyCacheSeconds: number;
  /** Reverse proxies in front of the gateway whose `x-forwarded-for` entries are trusted. */
  trustedProxyHops: number;
  /** Redis shared by every gateway replica: persisted queries, budgets and rate limits. */
  redisUrl: string;
  /** Prefix of the gateway's Redis keys. */
  redisKeyPrefix: string;
  /** How long an automatic persisted query stays registered in Redis after it was last registered. */
  apqTtlSeconds: number;
  /** Absolute path of the folder with `<client>/persisted-query-manifest.json`. */
  persistedOperationsDir: string;
  /** The mode of partners without an entry in `persistedOperationsClientModes`. */
  persistedOperationsMode: PersistedOperationsMode;
  /** Per partner client name, a mode other than the default. */
  persistedOperationsClientModes: Readonly<Record<string, PersistedOperationsMode>>;
  /** Browser origins allowed to call the gateway cross-origin (CORS), exactly as sent. */
  corsOrigins: readonly string[];
  /** Largest request body accepted; larger ones are refused with 413 before being read. */
  maxBodyBytes: number;
  /** When set, `/metrics` answers only requests bearing it. */
  metricsToken: string | undefined;
  limits: Readonly<LimitsConfig>;
  overload: Readonly<OverloadConfig>;
  /** GraphiQL at `/graphiql`: not served, served to anyone, or served with sign-in for admins only. */
  graphiql: GraphiqlMode;
  /** Who may introspect the schema and get "Did you mean" suggestions in error messages. */
  introspection: IntrospectionMode;
}

export const GRAPHIQL_MODES = ["off", "on", "admin"] as const;
export type GraphiqlMode = (typeof GRAPHIQL_MODES)[number];
/** `on`: everyone; `admin`: viewers with role ADMIN; `off`: no one. */
export const INTROSPECTION_MODES = ["on", "admin", "off"] as const;
export type IntrospectionMode = (typeof INTROSPECTION_MODES)[number];

const TIMEOUT_RANGE = { min: 1, max: 600_000 };

/**
 * Reads the environment and the supergraph it points to. The per-subgraph variables come from
 * the supergraph itself (`users` -> `USERS_URL`, `USERS_TIMEOUT_MS`), so composing a new
 * subgraph is all it takes to make its URL and timeout configurable. Every problem is reported
 * at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const problems: string[] = [];
  // The gateway is the one service meant to be reached: it listens on every interface.
  const service = readServiceConfig(read, "gateway", 4000, "0.0.0.0");
  // A relative path is taken from the working directory, as a shell user expects.
  const supergraphPath = resolve(read.string("SUPERGRAPH_PATH", DEFAULT_SUPERGRAPH_PATH));
  const subgraphTimeoutMs = read.int("SUBGRAPH_TIMEOUT_MS", 10_000, TIMEOUT_RANGE);
  const subgraphRetries = read.int("SUBGRAPH_RETRIES", 2, { min: 0, max: 10 });
  const subgraphRetryBackoffMs = read.int("SUBGRAPH_RETRY_BACKOFF_MS", 100, { min: 0, max: 60_000 });
  const circuitBreakerFailures = read.int("CIRCUIT_BREAKER_FAILURES", 5, { min: 0, max: 1000 });
  const circuitBreakerCooldownMs = read.int("CIRCUIT_BREAKER_COOLDOWN_MS", 10_000, {
    min: 1,
    max: 3_600_000,
  });
  const partnerTokenUrl = read.url("PARTNER_TOKEN_URL", "http://127.0.0.1:4001/auth/partner-token", [
    "http:",
    "https:",
  ]);
  const partnerKeyCacheSeconds = read.int("PARTNER_KEY_CACHE_SECONDS", 30, { min: 0, max: 3600 });
  const trustedProxyHops = read.int("TRUSTED_PROXY_HOPS", 0, { min: 0, max: 10 });
  const redisUrl = read.url("REDIS_URL", DEFAULT_REDIS_URL, ["redis:", "rediss:"]);
  const redisKeyPrefix = read.string("GATEWAY_REDIS_PREFIX", "nexus:gateway");
  const apqTtlSeconds = read.int("APQ_TTL_SECONDS", 86_400, { min: 60, max: 30 * 86_400 });
  const persistedOperationsDir = resolve(
    read.string("PERSISTED_OPERATIONS_DIR", DEFAULT_PERSISTED_OPERATIONS_DIR),
  );
  const persistedOperationsMode = read.oneOf<PersistedOperationsMode>(
    "PERSISTED_OPERATIONS_MODE",
    "enforce",
    PERSISTED_OPERATIONS_MODES,
  );
  const clientModes = parseClientModes(read.optionalString("PERSISTED_OPERATIONS_CLIENT_MODES"));
  const corsOrigins = readOrigins(read.optionalString("CORS_ORIGINS"), problems);
  const maxBodyBytes = read.int("MAX_BODY_BYTES", 131_072, { min: 1024, max: 16_777_216 });
  const metricsToken = read.optionalString("METRICS_TOKEN");
  const limits: LimitsConfig = {
    maxDepth: read.int("MAX_DEPTH", 15, { min: 1 }),
    maxAliases: read.int("MAX_ALIASES", 30, { min: 0 }),
    maxDirectives: read.int("MAX_DIRECTIVES", 50, { min: 0 }),
    maxTokens: read.int("MAX_TOKENS", 5000, { min: 1 }),
    maxCost: read.int("MAX_COST", 1500, { min: 1 }),
    costBudgetCapacity: read.int("COST_BUDGET_CAPACITY", 3000, { min: 1 }),
    costBudgetRefillPerSecond: read.int("COST_BUDGET_REFILL_PER_SECOND", 100, { min: 1 }),
    rateLimitPerMinute: read.int("RATE_LIMIT_PER_MINUTE", 600, { min: 1 }),
  };
  const overload = readOverloadConfig(read);
  // Production keeps the schema to admins unless told otherwise: the operations clients send
  // are all they need, and a schema is a map of what to probe.
  const graphiql = read.oneOf<GraphiqlMode>("GRAPHIQL", service.production ? "off" : "on", GRAPHIQL_MODES);
  const introspection = read.oneOf<IntrospectionMode>(
    "INTROSPECTION",
    service.production || graphiql === "admin" ? "admin" : "on",
    INTROSPECTION_MODES,
  );
  problems.push(...graphiqlConflicts(graphiql, introspection));

  let supergraphSdl = "";
  const subgraphUrls: Record<string, string> = {};
  const subgraphTimeoutsMs: Record<string, number> = {};
  try {
    const supergraph = readSupergraph(supergraphPath);
    supergraphSdl = supergraph.sdl;
    for (const { name, url } of supergraph.subgraphs) {
      subgraphUrls[name] = read.url(subgraphUrlVariable(name), url, ["http:", "https:"]);
      subgraphTimeoutsMs[name] = read.int(subgraphTimeoutVariable(name), subgraphTimeoutMs, TIMEOUT_RANGE);
    }
  } catch (error) {
    problems.push(`SUPERGRAPH_PATH: ${error instanceof Error ? error.message : String(error)}`);
  }
  problems.push(...clientModes.problems);
  try {
    read.done();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.unshift(...error.problems);
  }
  if (limits.costBudgetCapacity < limits.maxCost) {
    problems.push(
      `COST_BUDGET_CAPACITY (${limits.costBudgetCapacity}) must be at least MAX_COST (${limits.maxCost}), or an operation within MAX_COST could never be afforded`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    ...service,
    supergraphPath,
    supergraphSdl,
    subgraphUrls: Object.freeze(subgraphUrls),
    resilience: Object.freeze({
      timeoutMs: subgraphTimeoutMs,
      timeoutsMs: Object.freeze(subgraphTimeoutsMs),
      retries: Object.freeze({ attempts: subgraphRetries, backoffMs: subgraphRetryBackoffMs }),
      circuitBreaker: Object.freeze({
        failures: circuitBreakerFailures,
        cooldownMs: circuitBreakerCooldownMs,
      }),
    }),
    partnerTokenUrl,
    partnerKeyCacheSeconds,
    trustedProxyHops,
    redisUrl,
    redisKeyPrefix,
    apqTtlSeconds,
    persistedOperationsDir,
    persistedOperationsMode,
    persistedOperationsClientModes: Object.freeze(clientModes.modes),
    corsOrigins: Object.freeze(corsOrigins),
    maxBodyBytes,
    metricsToken,
    limits: Object.freeze(limits),
    overload: Object.freeze(overload),
    graphiql,
    introspection,
  });
}

/** Combinations that would not do what they say. */
function graphiqlConflicts(graphiql: GraphiqlMode, introspection: IntrospectionMode): string[] {
  if (graphiql === "admin" && introspection === "on") {
    return [
      "INTROSPECTION=on contradicts GRAPHIQL=admin, which keeps the schema to admins: use INTROSPECTION=admin",
    ];
  }
  if (graphiql !== "off" && introspection === "off") {
    return [`GRAPHIQL=${graphiql} needs the schema: use INTROSPECTION=admin (or on), or GRAPHIQL=off`];
  }
  return [];
}

/** `acme=audit,other=enforce`: a mode per partner client name, each name at most once. */
function parseClientModes(value: string | undefined): {
  modes: Record<string, PersistedOperationsMode>;
  problems: string[];
} {
  const modes = new Map<string, PersistedOperationsMode>();
  const problems: string[] = [];
  const name = "PERSISTED_OPERATIONS_CLIENT_MODES";
  for (const entry of (value ?? "").split(",").map((part) => part.trim())) {
    if (entry === "") continue;
    const [client = "", mode = "", ...rest] = entry.split("=").map((part) => part.trim());
    if (
      client === "" ||
      rest.length > 0 ||
      !(PERSISTED_OPERATIONS_MODES as readonly string[]).includes(mode)
    ) {
      problems.push(
        `${name} must be a comma-separated list of <client>=${PERSISTED_OPERATIONS_MODES.join("|")}, got "${entry}"`,
      );
    } else if (modes.has(client)) {
      problems.push(`${name} names "${client}" twice`);
    } else {
      modes.set(client, mode as PersistedOperationsMode);
    }
  }
  // fromEntries defines own properties, so no client name can reach Object.prototype.
  return { modes: Object.fromEntries(modes), problems };
}

/**
 * `CORS_ORIGINS`: comma-separated origins such as `https://shop.example.com`. Each must be an
 * origin (scheme, host, optional port; no path) because browsers send exactly that, and a
 * wildcard is refused: the allowlist is the point.
 */
function readOrigins(value: string | undefined, problems: string[]): string[] {
  const origins: string[] = [];
  for (const entry of (value ?? "").split(",").map((part) => part.trim())) {
    if (entry === "") continue;
    let origin: string | undefined;
    try {
      origin = new URL(entry).origin;
    } catch {
      origin = undefined;
    }
    if (origin === undefined || origin === "null" || origin !== entry.replace(/\/$/, "")) {
      problems.push(`CORS_ORIGINS: "${entry}" is not an origin like https://shop.example.com`);
      continue;
    }
    origins.push(origin);
  }
  return origins;
}

function readSupergraph(path: string): { sdl: string; subgraphs: SubgraphEndpoint[] } {
  let sdl: string;
  try {
    sdl = readFileSync(path, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "unreadable";
    throw new Error(`cannot read ${path} (${code}); \`pnpm compose\` writes it`);
  }
  try {
    return { sdl, subgraphs: listSubgraphs(sdl) };
  } catch (error) {
    throw new Error(`${path} is not a supergraph: ${error instanceof Error ? error.message : String(error)}`);
  }
}
