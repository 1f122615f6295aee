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
