import type { EnvReader } from "./env.ts";
import type { LogLevel } from "./logger.ts";

/** Settings every Nexus service reads the same way. */
export interface ServiceConfig {
  host: string;
  port: number;
  logLevel: LogLevel;
  production: boolean;
  /** How access tokens are verified: who issues them, for whom, and where the public keys are. */
  auth: { issuer: string; audience: string; jwksUrl: string };
}

/**
 * Reads `HOST`, `<NAME>_PORT`, `LOG_LEVEL`, `NODE_ENV` and the token settings.
 * Per-service variables carry the service's name so one `.env` can serve the whole stack.
 */
export function readServiceConfig(env: EnvReader, name: string, defaultPort: number): ServiceConfig {
  const prefix = name.toUpperCase();
  return {
    host: env.string("HOST", "0.0.0.0"),
    port: env.int(`${prefix}_PORT`, defaultPort, { min: 0, max: 65535 }),
    logLevel: env.oneOf<LogLevel>("LOG_LEVEL", "info", ["debug", "info", "warn", "error", "silent"]),
    production: env.string("NODE_ENV", "development") === "production",
    auth: {
      issuer: env.string("JWT_ISSUER", "nexus"),
      audience: env.string("JWT_AUDIENCE", "nexus"),
      jwksUrl: env.url("JWKS_URL", "http://127.0.0.1:4001/.well-known/jwks.json", ["http:", "https:"]),
    },
  };
}

/** PostgreSQL server URL shared by the subgraphs; each appends its own database name. */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
