import { z } from "zod";
import { type ConfigOf, env } from "./config-schema.ts";
import type { LogLevel } from "./logger.ts";
import { SUBGRAPH_SECRET_MIN_LENGTH } from "./subgraph-auth.ts";

/**
 * Subgraphs listen on loopback unless told otherwise: only the gateway (and the other
 * subgraphs) should reach them, so exposing one is a decision (`HOST=0.0.0.0` in a container).
 */
export const SUBGRAPH_DEFAULT_HOST = "127.0.0.1";

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

/** What `DATABASE_MIGRATIONS` may say (see `databaseMigrations` below). */
export const DATABASE_MIGRATION_MODES = ["auto", "verify"] as const;

/** `SHUTDOWN_TIMEOUT_MS` unless set: a 30 s grace period less a 5 s preStop sleep, with margin. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000;

/** A secret long enough to sign with; the problem never repeats the value. */
const secret = (name: string) =>
  env.optionalString(name).superRefine((value, ctx) => {
    if (value !== undefined && value.length < SUBGRAPH_SECRET_MIN_LENGTH) {
      ctx.addIssue({
        code: "custom",
        message: `${name} must be at least ${SUBGRAPH_SECRET_MIN_LENGTH} characters long`,
      });
    }
  });

/**
 * `HOST`, `<NAME>_PORT`, `LOG_LEVEL`, `NODE_ENV`, the token settings and the subgraph secrets:
 * the settings every Nexus service reads the same way; a service extends this schema with its
 * own (`safeExtend`). Per-service variables carry the service's name so one `.env` can serve the
 * whole stack. SUBGRAPH_SECRET is required in production: a service without it could neither
 * prove who it is nor tell who calls it.
 */
export function serviceConfigSchema(
  name: string,
  defaultPort: number,
  defaultHost: string = SUBGRAPH_DEFAULT_HOST,
) {
  return z
    .object({
      production: env.string("NODE_ENV", "development").transform((mode) => mode === "production"),
      /**
       * The secret calls between Nexus services are signed with (`subgraph-auth.ts`); unset outside
       * production means the generated one under `.nexus/`. Never log it.
       */
      subgraphSecret: secret("SUBGRAPH_SECRET"),
      /** While rotating, the secret being replaced: still accepted (and signed with). */
      subgraphSecretPrevious: secret("SUBGRAPH_SECRET_PREVIOUS"),
      host: env.string("HOST", defaultHost),
      port: env.int(`${name.toUpperCase()}_PORT`, defaultPort, { min: 0, max: 65535 }),
      logLevel: env.oneOf("LOG_LEVEL", "info", LOG_LEVELS),
      /**
       * A subgraph with a database: `auto` brings its schema up to date at start (creates the
       * database, applies migrations, builds indexes); `verify` only checks that it is, and
       * refuses to start otherwise, for deployments that run the migrate command as a separate
       * step (the Kubernetes Job).
       */
      databaseMigrations: env.oneOf("DATABASE_MIGRATIONS", "auto", DATABASE_MIGRATION_MODES),
      /**
       * How long a stop on SIGTERM may take: in-flight requests, workers and stores get this long
       * to finish, then the process exits anyway (code 1). Keep it below the orchestrator's grace
       * period minus the preStop delay, or the process is killed mid-drain instead.
       */
      shutdownTimeoutMs: env.int("SHUTDOWN_TIMEOUT_MS", DEFAULT_SHUTDOWN_TIMEOUT_MS, {
        min: 100,
        max: 600_000,
      }),
      /** When set, `/metrics` answers only requests bearing it (`Authorization: Bearer <token>`). */
      metricsToken: env.optionalString("METRICS_TOKEN"),
      /** How access tokens are verified: who issues them, for whom, and where the public keys are. */
      auth: z.object({
        issuer: env.string("JWT_ISSUER", "nexus"),
        audience: env.string("JWT_AUDIENCE", "nexus"),
        jwksUrl: env.url("JWKS_URL", "http://127.0.0.1:4001/.well-known/jwks.json", ["http:", "https:"]),
      }),
    })
    .superRefine((config, ctx) => {
      if (config.production && config.subgraphSecret === undefined) {
        ctx.addIssue({
          code: "custom",
          message:
            "SUBGRAPH_SECRET is required when NODE_ENV=production (generate one: openssl rand -base64 32)",
        });
      }
      if (config.subgraphSecretPrevious !== undefined && config.subgraphSecret === undefined) {
        ctx.addIssue({ code: "custom", message: "SUBGRAPH_SECRET_PREVIOUS is set without SUBGRAPH_SECRET" });
      }
    });
}

/** Settings every Nexus service reads the same way. */
export type ServiceConfig = ConfigOf<ReturnType<typeof serviceConfigSchema>>;

/** PostgreSQL server URL shared by the subgraphs; each appends its own database name. */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
