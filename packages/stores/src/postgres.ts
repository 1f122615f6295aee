import { DEFAULT_DATABASE_URL, env } from "@nexus/core";
import { Kysely, type LogEvent, PostgresDialect } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import pg from "pg";
import { redactUrl, StoreUnavailableError } from "./errors.ts";

// BIGINT and NUMERIC stay strings in pg by default; Nexus keeps money and counts in INTEGER.
// TIMESTAMPTZ comes back as Date, which the DateTime scalar serializes to ISO-8601.

/** The URL of `database` on the server that `serverUrl` points at. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A subgraph's database, as a config schema field: `<SERVICE>_DATABASE_URL`, else database
 * `<service>` on the server `DATABASE_URL` points at, so one variable serves every subgraph on
 * one server.
 */
export function databaseUrlField(service: string) {
  return env.url(
    `${service.toUpperCase()}_DATABASE_URL`,
    (read) => databaseUrl(read("DATABASE_URL") ?? DEFAULT_DATABASE_URL, service),
    ["postgres:", "postgresql:"],
  );
}

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

async function withAdminClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: databaseUrl(url, "postgres"),
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
  } catch (error) {
    throw new StoreUnavailableError(
      "PostgreSQL",
      redactUrl(databaseUrl(url, "postgres")),
      "Start PostgreSQL (e.g. `pg_ctlcluster 15 main start` or `docker compose up postgres`) or set DATABASE_URL.",
      { cause: error },
    );
  }
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Creates the database named in `url` when it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  await withAdminClient(url, async (client) => {
    const existing = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (existing.rowCount) return;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } catch (error) {
      // Two processes may race to create it; losing that race is fine.
      if (!(error instanceof Error && "code" in error && error.code === "42P04")) throw error;
    }
  });
}

/** Drops the database named in `url`, closing its other connections first (tests use this). */
export async function dropDatabase(url: string): Promise<void> {
  await withAdminClient(url, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName(url))} WITH (FORCE)`),
  );
}

export interface PostgresOptions {
  maxConnections?: number;
  /** Called for every query; tests count queries with it. */
  onQuery?: (sql: string) => void;
}

/** The pool behind each database `createPostgresDb` made, for its metrics. */
const pools = new WeakMap<Kysely<never>, pg.Pool>();

/** The connection pool of a database made by `createPostgresDb` (for its usage gauges). */
export function poolOf<DB>(db: Kysely<DB>): pg.Pool | undefined {
  return pools.get(db as unknown as Kysely<never>);
}

export function createPostgresDb<DB>(url: string, options: PostgresOptions = {}): Kysely<DB> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle connection the server drops (restart, failover, DROP DATABASE ... FORCE) is emitted
  // here after the pool has discarded it; unhandled, that 'error' would crash the process.
  // The next query simply opens a new connection, and fails loudly if the server is really gone.
  pool.on("error", () => {});
  const { onQuery } = options;
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    log: onQuery
      ? (event: LogEvent) => {
          if (event.level === "query") onQuery(event.query.sql);
        }
      : undefined,
  });
  pools.set(db as unknown as Kysely<never>, pool);
  return db;
}

/** Applies pending migrations in name order; fails with the migration's own error. */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  migrations: Record<string, Migration>,
): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === "Error");
  if (error) {
    throw new Error(`Migration ${failed?.migrationName ?? "(unknown)"} failed: ${String(error)}`, {
      cause: error,
    });
  }
}

/**
 * A subgraph's database ready for use: created when missing, connected, migrated to the latest
 * version. The pool is closed again when migrating fails, so a failed start leaves nothing open.
 */
export async function openPostgres<DB>(
  url: string,
  migrations: Record<string, Migration>,
  options: PostgresOptions = {},
): Promise<Kysely<DB>> {
  await ensureDatabase(url);
  const db = createPostgresDb<DB>(url, options);
  try {
    await migrateToLatest(db, migrations);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}
