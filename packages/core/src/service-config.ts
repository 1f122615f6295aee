import type { EnvReader } from "./env.ts";
import type { LogLevel } from "./logger.ts";
import { SUBGRAPH_SECRET_MIN_LENGTH } from "./subgraph-auth.ts";

/** Settings every Nexus service reads the same way. */
export interface ServiceConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  production: boolean;
  /** How access tokens are verified: who issues them, for whom, and where the public keys are. */
  auth: { issuer: string; audience: string; jwksUrl: string };
  /**
   * The secret calls between Nexus services are signed with (`subgraph-auth.ts`); unset outside
   * production means the generated one under `.nexus/`. Never log it.
   */
  subgraphSecret: string | undefined;
  /** While rotating, the secret being replaced: still accepted (and signed with). */
  subgraphSecretPrevious: string | undefined;
}

/**
 * Subgraphs listen on loopback unless told otherwise: only the gateway (and the other
 * subgraphs) should reach them, so exposing one is a decision (`HOST=0.0.0.0` in a container).
 */
export const SUBGRAPH_DEFAULT_HOST = "127.0.0.1";

/**
 * Reads `HOST`, `<NAME>_PORT`, `LOG_LEVEL`, `NODE_ENV`, the token settings and the subgraph
 * secrets. Per-service variables carry the service's name so one `.env` can serve the whole
 * stack. SUBGRAPH_SECRET is required in production: a service without it could neither prove
 * who it is nor tell who calls it.
 */
export function readServiceConfig(
  env: EnvReader,
  name: string,
  defaultPort: number,
  defaultHost: string = SUBGRAPH_DEFAULT_HOST,
): ServiceConfig {
  const prefix = name.toUpperCase();
  const production = env.string("NODE_ENV", "development") === "production";
  const subgraphSecret = readSecret(env, "SUBGRAPH_SECRET");
  const subgraphSecretPrevious = readSecret(env, "SUBGRAPH_SECRET_PREVIOUS");
  if (production && subgraphSecret === undefined) {
    env.problem(
      "SUBGRAPH_SECRET is required when NODE_ENV=production (generate one: openssl rand -base64 32)",
    );
  }
  if (subgraphSecretPrevious !== undefined && subgraphSecret === undefined) {
    env.problem("SUBGRAPH_SECRET_PREVIOUS is set without SUBGRAPH_SECRET");
  }
  return {
    host: env.string("HOST", defaultHost),
    port: env.int(`${prefix}_PORT`, defaultPort, { min: 0, max: 65535 }),
    logLevel: env.oneOf<LogLevel>("LOG_LEVEL", "info", ["debug", "info", "warn", "error", "silent"]),
    production,
    auth: {
      issuer: env.string("JWT_ISSUER", "nexus"),
      audience: env.string("JWT_AUDIENCE", "nexus"),
      jwksUrl: env.url("JWKS_URL", "http://127.0.0.1:4001/.well-known/jwks.json", ["http:", "https:"]),
    },
    subgraphSecret,
    subgraphSecretPrevious,
  };
}

/** A secret long enough to sign with; the message never repeats the value. */
function readSecret(env: EnvReader, name: string): string | undefined {
  const value = env.optionalString(name);
  if (value !== undefined && value.length < SUBGRAPH_SECRET_MIN_LENGTH) {
    env.problem(`${name} must be at least ${SUBGRAPH_SECRET_MIN_LENGTH} characters long`);
  }
  return value;
}

/** PostgreSQL server URL shared by the subgraphs; each appends its own database name. */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
