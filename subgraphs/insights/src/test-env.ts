import { randomUUID } from "node:crypto";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import {
  createLogger,
  createShutdownStack,
  createSubgraphAuthenticator,
  type Logger,
  type RunningHttpServer,
  readSubgraphSchema,
  startHttpServer,
  useGlobalIds,
} from "@nexus/core";
import {
  applyEventOnce,
  createFailedEvents,
  type EventEnvelope,
  type EventPayloads,
  type EventType,
  type FailedEvents,
} from "@nexus/events";
import { connectRedis } from "@nexus/stores";
import {
  createTestAuth,
  createTestPostgres,
  deleteRedisKeys,
  startTestSubgraph,
  TEST_REDIS_URL,
  TEST_SUBGRAPH_SECRET,
  type TestAuth,
  type TestPostgres,
  type TestSubgraph,
  testRedisPrefix,
  withRawIds,
} from "@nexus/testing";
import { parse } from "graphql";
import { type Kysely, sql } from "kysely";
import { runChurnFit } from "./churn/churn-fit.runner.ts";
import { trainChurnModel } from "./churn/churn-training.service.ts";
import { type ChurnTraining, startChurnTraining } from "./churn/churn-training.sweeper.ts";
import { type Context, createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { insightsHandlers } from "./events/insights.consumer.ts";
import { createCatalogClient } from "./recommendations/catalog.client.ts";
import { refreshRecommendations } from "./recommendations/recommendations.service.ts";
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
  /**
   * A catalog built from catalog's own SDL that answers `_entities` from memory: every product is
   * ACTIVE unless `catalogStatus` says otherwise (null: the catalog has none or hides it;
   * BROKEN: resolving it fails, so the answer carries an error).
   */
  catalogHttp: RunningHttpServer;
  catalogStatus: Map<string, "ACTIVE" | "DRAFT" | "ARCHIVED" | "BROKEN" | null>;
  /** The representations of every request the fake catalog received. */
  catalogRequests: unknown[][];
  /** Runs an operation as the gateway would send it, optionally with an Authorization header. */
  /**
   * Runs an operation and reads the answer in raw ids, the terms of the seed and the database;
   * `runGlobal` keeps the global ids clients see, for the tests of that encoding.
   */
  run(
    query: string,
    variables?: Record<string, unknown>,
    authorization?: string,
  ): ReturnType<TestSubgraph<Context>["run"]>;
  runGlobal(
    query: string,
    variables?: Record<string, unknown>,
    authorization?: string,
  ): ReturnType<TestSubgraph<Context>["run"]>;
  /**
   * Applies events one after the other as the consumer does (the handler and the event id in
   * one transaction; an id seen before is skipped), then forgets the queries they logged.
   */
  deliver(...events: EventEnvelope[]): Promise<void>;
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
      await deleteRedisKeys(redis, [prefix]);
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
    const catalogStatus: TestEnv["catalogStatus"] = new Map();
    const catalogRequests: unknown[][] = [];
    const catalogHttp = await startFakeCatalog(catalogStatus, catalogRequests, logger);
    shutdown.defer(() => catalogHttp.close());
    // No cache: each test sets the statuses it needs. The cache has its own test.
    const catalog = createCatalogClient({
      url: catalogHttp.url,
      secrets: { current: TEST_SUBGRAPH_SECRET },
      logger,
      cacheTtlMs: 0,
    });
    const deps: Deps = {
      db: pg.db,
      verify: auth.verify,
      logger,
      failedEvents,
      storeCurrency: "USD",
      churnTraining,
      catalog,
      // Tests of the job itself start the real scheduler; here a request refreshes at once.
      recommendationsRefresh: { requestNow: () => refreshRecommendations(pg.db).then(() => undefined) },
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
      catalogHttp,
      catalogStatus,
      catalogRequests,
      run: async (query, variables = {}, authorization) => {
        const result = await subgraph.run(query, variables, { authorization });
        return { ...result, data: withRawIds(result.data) };
      },
      runGlobal: (query, variables = {}, authorization) => subgraph.run(query, variables, { authorization }),
      async deliver(...events) {
        for (const event of events) await applyEvent(pg.db, event);
        pg.queries.length = 0;
      },
      async reset() {
        await sql`TRUNCATE order_facts, order_line_facts, order_outcomes, refund_facts, refund_line_facts,
          cart_facts, daily_sales, daily_product_sales, daily_category_sales, customer_sales, processed_events`.execute(
          pg.db,
        );
        pg.queries.length = 0;
        catalogStatus.clear();
        catalogRequests.length = 0;
      },
      close: shutdown.stopAll,
    };
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
}

/** An event as orders would publish it; `occurredAt` is when it happened (default now). */
export function envelope<T extends EventType>(
  type: T,
  payload: EventPayloads[T],
  occurredAt: Date | string = new Date(),
): EventEnvelope<T> {
  const at = typeof occurredAt === "string" ? new Date(occurredAt) : occurredAt;
  const aggregateId = (payload as { orderId?: string | null; customerId?: string | null }).orderId;
  return {
    id: randomUUID(),
    type,
    aggregateId: aggregateId ?? randomUUID(),
    occurredAt: at.toISOString(),
    payload,
  };
}

/** What startEventConsumer does with one job, without BullMQ: effect and event id commit together. */
export const applyEvent = (db: Kysely<Database>, event: EventEnvelope): Promise<boolean> =>
  applyEventOnce(db, insightsHandlers, event);

/** A real GraphQL subgraph from catalog's SDL, signed like the real one, answering `_entities` only. */
async function startFakeCatalog(
  statuses: TestEnv["catalogStatus"],
  requests: unknown[][],
  logger: Logger,
): Promise<RunningHttpServer> {
  const apollo = new ApolloServer({
    // Global ids at its edge, as the subgraph kit gives the real one.
    schema: useGlobalIds(
      buildSubgraphSchema([
        {
          typeDefs: parse(readSubgraphSchema("catalog")),
          resolvers: {
            Product: {
              __resolveReference: (ref: { id: string }) => {
                const status = statuses.has(ref.id) ? statuses.get(ref.id) : "ACTIVE";
                if (status === "BROKEN") throw new Error("catalog storage failed");
                return status ? { id: ref.id, status } : null;
              },
            },
          },
        },
      ]),
      parse(readSubgraphSchema("catalog")),
    ),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart({ request }) {
          const representations = request.variables?.representations;
          requests.push(Array.isArray(representations) ? representations : []);
        },
      },
    ],
  });
  return startHttpServer({
    apollo,
    host: "127.0.0.1",
    port: 0,
    logger,
    authenticate: createSubgraphAuthenticator({ current: TEST_SUBGRAPH_SECRET }),
    context: async () => ({}),
  });
}
