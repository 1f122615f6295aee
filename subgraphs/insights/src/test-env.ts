import type { ApolloServer } from "@apollo/server";
import { createLogger, createShutdownStack, type Logger } from "@nexus/core";
import { createFailedEvents, type FailedEvents } from "@nexus/events";
import { connectRedis } from "@nexus/stores";
import {
  createTestAuth,
  createTestPostgres,
  startTestSubgraph,
  TEST_REDIS_URL,
  type TestAuth,
  type TestPostgres,
  type TestSubgraph,
  testRedisPrefix,
} from "@nexus/testing";
import { sql } from "kysely";
import { runChurnFit } from "./churn/churn-fit.runner.ts";
import { trainChurnModel } from "./churn/churn-training.service.ts";
import { type ChurnTraining, startChurnTraining } from "./churn/churn-training.sweeper.ts";
import { type Context, createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { resolvers } from "./resolvers.ts";

/**
 * The insights subgraph in-process on a fresh database and a Redis prefix of its own (the
 * failed sets `failedEvents` reads live there), driven through executeOperation.
 */
export interface TestEnv {
  pg: TestPostgres<Database>;
  redis: Awaited<ReturnType<typeof connectRedis>>;
  prefix: string;
  failedEvents: FailedEvents;
  /** The churn training queue and its worker, with no schedule; trainings store their models. */
  churnTraining: ChurnTraining;
  auth: TestAuth;
  logger: Logger;
  deps: Deps;
  server: ApolloServer<Context>;
  /** Runs an operation as the gateway would send it, optionally with an Authorization header. */
  run(
    query: string,
    variables?: Record<string, unknown>,
    authorization?: string,
  ): ReturnType<TestSubgraph<Context>["run"]>;
  /** Empties the tables and forgets the queries logged so far. */
  reset(): Promise<void>;
  /** Stops and drops everything, newest first (the Redis prefix's keys too). */
  close(): Promise<void>;
}

export async function createTestEnv(name: string): Promise<TestEnv> {
  const shutdown = createShutdownStack(`${name} test env`);
  try {
    const pg = await createTestPostgres<Database>(name, migrations);
    shutdown.defer(() => pg.drop());
    const redis = await connectRedis(TEST_REDIS_URL);
    const prefix = testRedisPrefix(name);
    shutdown.defer(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });
    const failedEvents = createFailedEvents({ redis, prefix });
    shutdown.defer(() => failedEvents.close());
    const auth = await createTestAuth();
    const logger = createLogger(`${name}-test`, "silent");
    const churnTraining = await startChurnTraining({
      redis,
      prefix,
      logger,
      cron: null,
      horizonDays: 90,
      train: async (request) => {
        await trainChurnModel({ db: pg.db, currencyCode: "USD", logger, fit: runChurnFit }, request);
      },
    });
    shutdown.defer(() => churnTraining.stop());
    const deps: Deps = {
      db: pg.db,
      verify: auth.verify,
      logger,
      failedEvents,
      storeCurrency: "USD",
      churnTraining,
    };
    const subgraph = await startTestSubgraph({ name: "insights", resolvers, createContext, deps, logger });
    shutdown.defer(() => subgraph.stop());
    return {
      pg,
      redis,
      prefix,
      failedEvents,
      churnTraining,
      auth,
      logger,
      deps,
      server: subgraph.server,
      run: (query, variables = {}, authorization) => subgraph.run(query, variables, { authorization }),
      async reset() {
        await sql`TRUNCATE sales_facts, order_outcomes, processed_events`.execute(pg.db);
        pg.queries.length = 0;
      },
      close: shutdown.stopAll,
    };
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
}
