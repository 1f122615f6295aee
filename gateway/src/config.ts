import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ConfigOf,
  DEFAULT_REDIS_URL,
  env,
  loadConfigFrom,
  type ReadVariable,
  serviceConfigSchema,
  type VariableRule,
  variable,
} from "@nexus/core";
import { z } from "zod";
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

export const GRAPHIQL_MODES = ["off", "on", "admin"] as const;
export type GraphiqlMode = (typeof GRAPHIQL_MODES)[number];
/** `on`: everyone; `admin`: viewers with role ADMIN; `off`: no one. */
export const INTROSPECTION_MODES = ["on", "admin", "off"] as const;
export type IntrospectionMode = (typeof INTROSPECTION_MODES)[number];

const TIMEOUT_RANGE = { min: 1, max: 600_000 };

/** Upper bound for one subgraph fetch, response body included: the default of every subgraph. */
const subgraphTimeoutMs = variable.int("SUBGRAPH_TIMEOUT_MS", 10_000, TIMEOUT_RANGE);

/** A relative path is taken from the working directory, as a shell user expects. */
const path = (rule: VariableRule<string>) =>
  env.field<string>((read, problem) => resolve(rule(read, problem)));

// Production keeps the schema to admins unless told otherwise: the operations clients send
// are all they need, and a schema is a map of what to probe.
const production = (read: ReadVariable) => read("NODE_ENV") === "production";
const graphiqlMode = variable.oneOf("GRAPHIQL", (read) => (production(read) ? "off" : "on"), GRAPHIQL_MODES);

const configSchema = serviceConfigSchema("gateway", 4000, "0.0.0.0")
  .safeExtend({
    /**
     * How subgraph fetches (and the partner-key exchange) are bounded, retried and broken: one
     * object from the environment to every data source, so a new setting is added in one place.
     */
    resilience: z.object({
      timeoutMs: env.field(subgraphTimeoutMs),
      retries: z.object({
        /** How many times a query fetch is sent again after a transient failure, never a mutation. */
        attempts: env.int("SUBGRAPH_RETRIES", 2, { min: 0, max: 10 }),
        /** The first pause before a retry; each further one doubles, with jitter. */
        backoffMs: env.int("SUBGRAPH_RETRY_BACKOFF_MS", 100, { min: 0, max: 60_000 }),
      }),
      circuitBreaker: z.object({
        /** Consecutive failed fetches of one subgraph that open its circuit; 0 turns the breaker off. */
        failures: env.int("CIRCUIT_BREAKER_FAILURES", 5, { min: 0, max: 1000 }),
        /** How long an open circuit fails fast before it lets one trial fetch through. */
        cooldownMs: env.int("CIRCUIT_BREAKER_COOLDOWN_MS", 10_000, { min: 1, max: 3_600_000 }),
      }),
    }),
    /** Where partner API keys are exchanged for access tokens (the users subgraph). */
    partnerTokenUrl: env.url("PARTNER_TOKEN_URL", "http://127.0.0.1:4001/auth/partner-token", [
      "http:",
      "https:",
    ]),
    /** How long an exchanged partner token is reused: the longest a revoked key keeps working. */
    partnerKeyCacheSeconds: env.int("PARTNER_KEY_CACHE_SECONDS", 30, { min: 0, max: 3600 }),
    /**
     * How often partners' operation counts are sent to the users subgraph (`/partner-usage` on
     * PARTNER_TOKEN_URL's host): how late `partnerManifest` may show usage.
     */
    partnerUsageFlushMs: env.int("PARTNER_USAGE_FLUSH_MS", 10_000, { min: 100, max: 300_000 }),
    /** Reverse proxies in front of the gateway whose `x-forwarded-for` entries are trusted. */
    trustedProxyHops: env.int("TRUSTED_PROXY_HOPS", 0, { min: 0, max: 10 }),
    /** Redis shared by every gateway replica: persisted queries, budgets and rate limits. */
    redisUrl: env.url("REDIS_URL", DEFAULT_REDIS_URL, ["redis:", "rediss:"]),
    /** Prefix of the gateway's Redis keys. */
    redisKeyPrefix: env.string("GATEWAY_REDIS_PREFIX", "nexus:gateway"),
    /** The response cache (gateway/README.md, "Response cache"): whole answers to cacheable queries. */
    responseCache: z.object({
      /** RESPONSE_CACHE=off serves every query from the subgraphs (the `Cache-Control` headers stay). */
      mode: env.oneOf("RESPONSE_CACHE", "on", ["on", "off"] as const),
      /** Entries each replica also keeps in memory, in front of Redis; 0 keeps them in Redis only. */
      localEntries: env.int("RESPONSE_CACHE_LOCAL_ENTRIES", 1000, { min: 0, max: 1_000_000 }),
      /** Largest response body stored, in bytes; larger answers are served but not cached. */
      maxEntryBytes: env.int("RESPONSE_CACHE_MAX_ENTRY_BYTES", 262_144, { min: 1024, max: 16_777_216 }),
      /**
       * The longest `max-age` told to browsers and CDNs: the gateway's copy is invalidated when the
       * data changes, theirs is not. 1 s keeps the promise that a changed price shows within a second.
       */
      httpMaxAgeSeconds: env.int("RESPONSE_CACHE_HTTP_MAX_AGE", 1, { min: 0, max: 86_400 }),
      /** EVENTS_PREFIX of the subgraphs: their change notices arrive on `<prefix>:catalog:search` and `<prefix>:cache:invalidate`. */
      eventsPrefix: env.string("EVENTS_PREFIX", "nexus"),
    }),
    /** How long an automatic persisted query stays registered in Redis after it was last registered. */
    apqTtlSeconds: env.int("APQ_TTL_SECONDS", 86_400, { min: 60, max: 30 * 86_400 }),
    /** Absolute path of the folder with `<client>/persisted-query-manifest.json`. */
    persistedOperationsDir: path(
      variable.string("PERSISTED_OPERATIONS_DIR", DEFAULT_PERSISTED_OPERATIONS_DIR),
    ),
    /** The mode of partners without an entry in `persistedOperationsClientModes`. */
    persistedOperationsMode: env.oneOf("PERSISTED_OPERATIONS_MODE", "enforce", PERSISTED_OPERATIONS_MODES),
    /** Per partner client name, a mode other than the default. */
    persistedOperationsClientModes: env.field((read, problem) =>
      parseClientModes(read("PERSISTED_OPERATIONS_CLIENT_MODES"), problem),
    ),
    /** Largest request body accepted; larger ones are refused with 413 before being read. */
    maxBodyBytes: env.int("MAX_BODY_BYTES", 131_072, { min: 1024, max: 16_777_216 }),
    /** Browser origins allowed to call the gateway cross-origin (CORS), exactly as sent. */
    corsOrigins: env.field((read, problem) => readOrigins(read("CORS_ORIGINS"), problem)),
    /**
     * Outside production, pages on the developer's machine (`http://localhost:<port>`,
     * `http://127.0.0.1:<port>`) are allowed as well, so an app's dev server needs no
     * CORS_ORIGINS; production allows `corsOrigins` only.
     */
    corsLocalOrigins: env.field((read) => !production(read)),
    /** When set, `/metrics` answers only requests bearing it. */
    metricsToken: env.optionalString("METRICS_TOKEN"),
    /** NODE_ENV=production: an open `/metrics` is warned about at start, as on every subgraph. */
    production: env.field(production),
    /**
     * Worker processes serving one port (`node gateway/src/index.ts`): one per CPU in
     * production, else 1. They share every limit, budget and cache through Redis as replicas do.
     */
    workers: env.field((read, problem) =>
      variable.int("GATEWAY_WORKERS", production(read) ? availableParallelism() : 1, { min: 1, max: 64 })(
        read,
        problem,
      ),
    ),
    /**
     * Limits on what one operation and one client may ask of the supergraph. The defaults are
     * explained in the gateway README ("Limits"): each leaves room above the largest legitimate
     * operation in this repository.
     */
    limits: z.object({
      /** Deepest field nesting of an operation. */
      maxDepth: env.int("MAX_DEPTH", 15, { min: 1 }),
      /** Aliased fields in an operation, fragments followed. */
      maxAliases: env.int("MAX_ALIASES", 30, { min: 0 }),
      /** Directive applications in an operation, fragments followed. */
      maxDirectives: env.int("MAX_DIRECTIVES", 50, { min: 0 }),
      /** Lexical tokens of a document; the parser stops there. */
      maxTokens: env.int("MAX_TOKENS", 5000, { min: 1 }),
      /** Estimated cost of one operation. */
      maxCost: env.int("MAX_COST", 1500, { min: 1 }),
      /** A client's cost budget: the most it can spend at once. */
      costBudgetCapacity: env.int("COST_BUDGET_CAPACITY", 3000, { min: 1 }),
      /** Cost points a client's budget regains per second. */
      costBudgetRefillPerSecond: env.int("COST_BUDGET_REFILL_PER_SECOND", 100, { min: 1 }),
      /** Requests one client may send per minute. */
      rateLimitPerMinute: env.int("RATE_LIMIT_PER_MINUTE", 600, { min: 1 }),
    }),
    /**
     * How the gateway holds up past its capacity (gateway README, "Under overload"): requests it
     * sheds before any work, and the share of each per-client limit a replica enforces on its own
     * when Redis does not answer in time.
     */
    overload: z.object({
      /** GraphQL requests served at once; past it new ones get 503 (0: no limit). */
      maxInFlight: env.int("MAX_IN_FLIGHT_REQUESTS", 256, { min: 0, max: 100_000 }),
      /** Event-loop delay past which new requests get 503 (0: not checked). */
      maxEventLoopDelayMs: env.int("MAX_EVENT_LOOP_DELAY_MS", 1000, { min: 0, max: 60_000 }),
      /** Replicas sharing the traffic; without Redis each holds clients to 1/replicas of each limit. */
      replicas: env.int("GATEWAY_REPLICAS", 1, { min: 1, max: 1000 }),
    }),
    /**
     * Live order tracking (gateway README, "Subscriptions"): orders announces status changes on
     * `<EVENTS_PREFIX>:orders:updates`, so the gateway needs the deployment's events prefix.
     */
    subscriptions: z.object({
      eventsPrefix: env.string("EVENTS_PREFIX", "nexus"),
      /** Subscriptions one client (clientKey) may hold open on one gateway process. */
      maxPerClient: env.int("MAX_SUBSCRIPTIONS_PER_CLIENT", 20, { min: 1, max: 10_000 }),
    }),
    /** GraphiQL at `/graphiql`: not served, served to anyone, or served with sign-in for admins only. */
    graphiql: env.field(graphiqlMode),
    /** Who may introspect the schema and get "Did you mean" suggestions in error messages. */
    introspection: env.oneOf(
      "INTROSPECTION",
      // The GRAPHIQL field reports a bad value; here it only picks the default.
      (read) => (production(read) || graphiqlMode(read, () => {}) === "admin" ? "admin" : "on"),
      INTROSPECTION_MODES,
    ),
    /**
     * The supergraph and, per subgraph it declares, `<NAME>_URL` and `<NAME>_TIMEOUT_MS`: the
     * per-subgraph variables come from the supergraph itself (`users` -> `USERS_URL`), so
     * composing a new subgraph is all it takes to make its URL and timeout configurable.
     */
    supergraph: env.field((read, problem) => readSupergraphSettings(read, problem)),
  })
  .superRefine((config, ctx) => {
    for (const message of graphiqlConflicts(config.graphiql, config.introspection)) {
      ctx.addIssue({ code: "custom", message });
    }
    const { costBudgetCapacity, maxCost } = config.limits;
    if (costBudgetCapacity < maxCost) {
      ctx.addIssue({
        code: "custom",
        message: `COST_BUDGET_CAPACITY (${costBudgetCapacity}) must be at least MAX_COST (${maxCost}), or an operation within MAX_COST could never be afforded`,
      });
    }
  })
  // The supergraph is read once and feeds four settings: its path, its SDL, the subgraphs' URLs
  // and, with the other resilience settings, their timeouts.
  .transform(({ supergraph, resilience, ...config }) => ({
    ...config,
    /** Absolute path of the supergraph SDL the gateway serves. */
    supergraphPath: supergraph.path,
    /** Its content, read once at start-up: the gateway never polls or introspects subgraphs. */
    supergraphSdl: supergraph.sdl,
    /** Where each subgraph of the supergraph is fetched: `<NAME>_URL`, else the composed URL. */
    subgraphUrls: supergraph.urls,
    resilience: {
      ...resilience,
      /**
       * The bound each subgraph's fetches actually get: `<NAME>_TIMEOUT_MS`, else `timeoutMs`. It
       * covers a fetch's retries and the pauses between them too.
       */
      timeoutsMs: supergraph.timeoutsMs,
    },
  }));

export type Config = ConfigOf<typeof configSchema>;
export type ResilienceConfig = Config["resilience"];
export type LimitsConfig = Config["limits"];
export type OverloadConfig = Config["overload"];

/** Reads the environment and the supergraph it points to. Every problem is reported at once. */
export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigFrom(configSchema, processEnv);
}

function readSupergraphSettings(read: ReadVariable, problem: (message: string) => void) {
  const path = resolve(variable.string("SUPERGRAPH_PATH", DEFAULT_SUPERGRAPH_PATH)(read, problem));
  // Its own field reports a bad SUBGRAPH_TIMEOUT_MS; here it is only each subgraph's default.
  const defaultTimeoutMs = subgraphTimeoutMs(read, () => {});
  const urls: Record<string, string> = {};
  const timeoutsMs: Record<string, number> = {};
  let sdl = "";
  try {
    const supergraph = readSupergraph(path);
    sdl = supergraph.sdl;
    for (const { name, url } of supergraph.subgraphs) {
      urls[name] = variable.url(subgraphUrlVariable(name), url, ["http:", "https:"])(read, problem);
      timeoutsMs[name] = variable.int(
        subgraphTimeoutVariable(name),
        defaultTimeoutMs,
        TIMEOUT_RANGE,
      )(read, problem);
    }
  } catch (error) {
    problem(`SUPERGRAPH_PATH: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { path, sdl, urls, timeoutsMs };
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
function parseClientModes(
  value: string | undefined,
  problem: (message: string) => void,
): Record<string, PersistedOperationsMode> {
  const modes = new Map<string, PersistedOperationsMode>();
  const name = "PERSISTED_OPERATIONS_CLIENT_MODES";
  for (const entry of (value ?? "").split(",").map((part) => part.trim())) {
    if (entry === "") continue;
    const [client = "", mode = "", ...rest] = entry.split("=").map((part) => part.trim());
    if (
      client === "" ||
      rest.length > 0 ||
      !(PERSISTED_OPERATIONS_MODES as readonly string[]).includes(mode)
    ) {
      problem(
        `${name} must be a comma-separated list of <client>=${PERSISTED_OPERATIONS_MODES.join("|")}, got "${entry}"`,
      );
    } else if (modes.has(client)) {
      problem(`${name} names "${client}" twice`);
    } else {
      modes.set(client, mode as PersistedOperationsMode);
    }
  }
  // fromEntries defines own properties, so no client name can reach Object.prototype.
  return Object.fromEntries(modes);
}

/**
 * `CORS_ORIGINS`: comma-separated origins such as `https://shop.example.com`. Each must be an
 * origin (scheme, host, optional port; no path) because browsers send exactly that, and a
 * wildcard is refused: the allowlist is the point.
 */
function readOrigins(value: string | undefined, problem: (message: string) => void): string[] {
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
      problem(`CORS_ORIGINS: "${entry}" is not an origin like https://shop.example.com`);
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
