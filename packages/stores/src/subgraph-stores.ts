import type { SubgraphStore } from "@nexus/core";
import type { Redis } from "ioredis";
import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import type { CommandStartedEvent } from "mongodb";
import { connectMongo, type MongoConnection, type MongoConnectOptions } from "./mongo.ts";
import { openPostgres, type PostgresOptions, poolOf } from "./postgres.ts";
import { assertRedisReady, connectRedis } from "./redis.ts";

/**
 * A subgraph's PostgreSQL database for the kit: created when missing and migrated on open, or,
 * with DATABASE_MIGRATIONS=verify, refused when a migration has not been applied yet.
 */
export function postgresStore<DB>(
  url: string,
  migrations: Record<string, Migration>,
  options: PostgresOptions = {},
): SubgraphStore<Kysely<DB>> {
  return {
    open: (logger, schema) =>
      openPostgres<DB>(url, migrations, {
        ...options,
        migrationMode: schema.migrations,
        onMigrated: (applied) => logger.info("database migrated", { applied }),
      }),
    async check(db) {
      await sql`SELECT 1`.execute(db);
    },
    close: (db) => db.destroy(),
    instrument(db, metrics, key) {
      const pool = poolOf(db);
      if (pool) metrics.addPool(key, () => pool);
    },
  };
}

/**
 * A subgraph's MongoDB database for the kit. `onCommand` receives every command the client
 * sends (end-to-end tests count queries with it); monitoring costs an event per command, so it
 * is on only for a caller that listens.
 */
export function mongoStore(
  options: MongoConnectOptions & { onCommand?: ((event: CommandStartedEvent) => void) | undefined },
): SubgraphStore<MongoConnection> {
  const { onCommand, ...connect } = options;
  return {
    async open(logger) {
      const mongo = await connectMongo({
        ...connect,
        clientOptions: { ...connect.clientOptions, ...(onCommand ? { monitorCommands: true } : {}) },
      });
      if (onCommand) mongo.client.on("commandStarted", onCommand);
      if (mongo.embedded) {
        logger.warn("using the embedded in-memory MongoDB: data is lost when the process stops", {
          url: mongo.url,
        });
      }
      return mongo;
    },
    async check(mongo) {
      await mongo.db.command({ ping: 1 });
    },
    // An embedded server is a child process: closing the connection stops it too.
    close: (mongo) => mongo.close(),
  };
}

/** A Redis connection for the kit, shared by BullMQ, caches and limiters. */
export function redisStore(url: string): SubgraphStore<Redis> {
  return {
    open: () => connectRedis(url),
    async check(redis) {
      assertRedisReady(redis);
    },
    async close(redis) {
      await redis.quit();
    },
  };
}
