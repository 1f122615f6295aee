import { type DATABASE_MIGRATION_MODES, DEFAULT_DATABASE_URL, env } from "@nexus/core";
import { Kysely, type LogEvent, PostgresDialect, sql } from "kysely";
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
      // Two processes may race to create it; losing that race is fine. The loser sees
      // "already exists" (42P04), or a unique violation on pg_database (23505) when both got
      // past the check above at the same moment.
      if (!(errorCode(error) === "42P04" || errorCode(error) === "23505")) throw error;
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

function errorCode(error: unknown): unknown {
  return error instanceof Error && "code" in error ? error.code : undefined;
}

/**
 * The advisory lock every migrator of a Nexus database holds while it migrates. Advisory locks
 * belong to one database, so the subgraphs' databases on one server do not wait for each other.
 */
const MIGRATION_LOCK_KEY = 7_245_110_398_465_001;

/**
 * How a service treats its database schema at start: `auto` creates the database and applies
 * pending migrations (a single process, docker-compose, tests); `verify` changes nothing and
 * refuses to start unless every migration the code knows has been applied, because a separate
 * migrate command (a Kubernetes Job) does that before the new version rolls out.
 */
export type MigrationMode = (typeof DATABASE_MIGRATION_MODES)[number];

/**
 * Applies pending migrations in name order and returns the names it applied (none when the
 * database was up to date); fails with the migration's own error, leaving the schema as it was
 * (each run is one transaction). The whole run, including Kysely's creation of its bookkeeping
 * tables, holds a session advisory lock, so two processes migrating one database at once take
 * turns: the second waits, then finds nothing left to do.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  migrations: Record<string, Migration>,
): Promise<string[]> {
  return db.connection().execute(async (session) => {
    await sql`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(session);
    try {
      const migrator = new Migrator({ db: session, provider: { getMigrations: async () => migrations } });
      const { error, results = [] } = await migrator.migrateToLatest();
      if (error) {
        const failed = results.find((result) => result.status === "Error");
        throw new Error(`Migration ${failed?.migrationName ?? "(unknown)"} failed: ${String(error)}`, {
          cause: error,
        });
      }
      return results.filter((result) => result.status === "Success").map((result) => result.migrationName);
    } finally {
      await sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(session);
    }
  });
}

/**
 * Brings the database at `url` up to date and disconnects: created when missing, pending
 * migrations applied. Returns what it applied. What a service's migrate command runs.
 */
export async function migrateDatabase(url: string, migrations: Record<string, Migration>): Promise<string[]> {
  await ensureDatabase(url);
  const db = createPostgresDb(url, { maxConnections: 1 });
  try {
    return await migrateToLatest(db, migrations);
  } finally {
    await db.destroy();
  }
}

/** The migrations the code knows that the database has not applied yet, in name order. */
export async function pendingMigrations<DB>(
  db: Kysely<DB>,
  migrations: Record<string, Migration>,
): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const known = await migrator.getMigrations();
  return known.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
}

/** Raised in `verify` mode when the database lags behind the code. */
export class MigrationsPendingError extends Error {
  readonly pending: readonly string[];
  constructor(database: string, pending: readonly string[]) {
    super(
      `database ${database} is missing migration${pending.length === 1 ? "" : "s"} ${pending.join(", ")}: ` +
        "run the service's migrate command (src/bin/migrate.ts, the migrate Job on Kubernetes) first, " +
        "or set DATABASE_MIGRATIONS=auto to migrate at start",
    );
    this.name = "MigrationsPendingError";
    this.pending = pending;
  }
}

export interface OpenPostgresOptions extends PostgresOptions {
  /** `auto` (the default) creates and migrates; `verify` only checks (see `MigrationMode`). */
  migrationMode?: MigrationMode;
  /** Told which migrations were applied, when some were. */
  onMigrated?: (applied: string[]) => void;
}

/**
 * A subgraph's database ready for use. In `auto` mode: created when missing, connected, migrated
 * to the latest version. In `verify` mode: connected, and refused with `MigrationsPendingError`
 * when a migration the code knows is missing (or the database does not exist), so a service
 * never serves a schema older than its code. The pool is closed again on failure, so a failed
 * start leaves nothing open.
 */
export async function openPostgres<DB>(
  url: string,
  migrations: Record<string, Migration>,
  options: OpenPostgresOptions = {},
): Promise<Kysely<DB>> {
  const { migrationMode = "auto", onMigrated, ...postgresOptions } = options;
  if (migrationMode === "auto") await ensureDatabase(url);
  const db = createPostgresDb<DB>(url, postgresOptions);
  try {
    if (migrationMode === "auto") {
      const applied = await migrateToLatest(db, migrations);
      if (applied.length > 0) onMigrated?.(applied);
    } else {
      const pending = await pendingMigrations(db, migrations).catch((error: unknown) => {
        // 3D000: the database itself is missing, which is every migration missing.
        if (errorCode(error) === "3D000") return Object.keys(migrations).sort();
        // A system error (ECONNREFUSED, ENOTFOUND ...): the server is not there, as in auto mode.
        if (String(errorCode(error)).startsWith("E")) {
          throw new StoreUnavailableError(
            "PostgreSQL",
            redactUrl(url),
            "Start PostgreSQL (e.g. `pg_ctlcluster 15 main start` or `docker compose up postgres`) or set DATABASE_URL.",
            { cause: error },
          );
        }
        throw error;
      });
      if (pending.length > 0) throw new MigrationsPendingError(databaseName(url), pending);
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}
