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
import { listSubgraphs, type SubgraphEndpoint, subgraphUrlVariable } from "./supergraph.ts";

/** The checked-in supergraph, found from this file so the gateway starts from any directory. */
export const DEFAULT_SUPERGRAPH_PATH = fileURLToPath(
  new URL("../../schema/supergraph.graphql", import.meta.url),
);

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

export interface Config extends ServiceConfig {
  /** Absolute path of the supergraph SDL the gateway serves. */
  supergraphPath: string;
  /** Its content, read once at start-up: the gateway never polls or introspects subgraphs. */
  supergraphSdl: string;
  /** Where each subgraph of the supergraph is fetched: `<NAME>_URL`, else the composed URL. */
  subgraphUrls: Readonly<Record<string, string>>;
  /** Upper bound for one subgraph fetch, response body included. */
  subgraphTimeoutMs: number;
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
  limits: Readonly<LimitsConfig>;
}

/**
 * Reads the environment and the supergraph it points to. The subgraph URL variables come
 * from the supergraph itself (`users` -> `USERS_URL`), so composing a new subgraph is all it
 * takes to make its URL configurable. Every problem is reported at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const read = createEnvReader(env);
  const problems: string[] = [];
  const service = readServiceConfig(read, "gateway", 4000);
  // A relative path is taken from the working directory, as a shell user expects.
  const supergraphPath = resolve(read.string("SUPERGRAPH_PATH", DEFAULT_SUPERGRAPH_PATH));
  const subgraphTimeoutMs = read.int("SUBGRAPH_TIMEOUT_MS", 10_000, { min: 1, max: 600_000 });
  const partnerTokenUrl = read.url("PARTNER_TOKEN_URL", "http://127.0.0.1:4001/auth/partner-token", [
    "http:",
    "https:",
  ]);
  const partnerKeyCacheSeconds = read.int("PARTNER_KEY_CACHE_SECONDS", 30, { min: 0, max: 3600 });
  const trustedProxyHops = read.int("TRUSTED_PROXY_HOPS", 0, { min: 0, max: 10 });
  const redisUrl = read.url("REDIS_URL", DEFAULT_REDIS_URL, ["redis:", "rediss:"]);
  const redisKeyPrefix = read.string("GATEWAY_REDIS_PREFIX", "nexus:gateway");
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

  let supergraphSdl = "";
  const subgraphUrls: Record<string, string> = {};
  try {
    const supergraph = readSupergraph(supergraphPath);
    supergraphSdl = supergraph.sdl;
    for (const { name, url } of supergraph.subgraphs) {
      subgraphUrls[name] = read.url(subgraphUrlVariable(name), url, ["http:", "https:"]);
    }
  } catch (error) {
    problems.push(`SUPERGRAPH_PATH: ${error instanceof Error ? error.message : String(error)}`);
  }
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
    subgraphTimeoutMs,
    partnerTokenUrl,
    partnerKeyCacheSeconds,
    trustedProxyHops,
    redisUrl,
    redisKeyPrefix,
    limits: Object.freeze(limits),
  });
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
