import type { ApolloServer } from "@apollo/server";
import { createLogger } from "@nexus/core";
import {
  createTestAuth,
  createTestPostgres,
  startTestSubgraph,
  type TestAuth,
  type TestPostgres,
  type TestSubgraph,
  withRawIds,
} from "@nexus/testing";
import { sql } from "kysely";
import { type Context, createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { resolvers } from "./resolvers.ts";

/** The inventory subgraph in-process on a fresh database of its own, driven through executeOperation. */
export interface TestEnv {
  pg: TestPostgres<Database>;
  auth: TestAuth;
  deps: Deps;
  server: ApolloServer<Context>;
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
  /** Empties every table and forgets the queries logged so far. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function createTestEnv(name: string): Promise<TestEnv> {
  const pg = await createTestPostgres<Database>(name, migrations);
  try {
    const auth = await createTestAuth();
    const logger = createLogger(`${name}-test`, "silent");
    const deps: Deps = { db: pg.db, verify: auth.verify, logger, lowStockThreshold: 5 };
    const subgraph = await startTestSubgraph({ name: "inventory", resolvers, createContext, deps, logger });
    return {
      pg,
      auth,
      deps,
      server: subgraph.server,
      run: async (query, variables = {}, authorization) => {
        const result = await subgraph.run(query, variables, { authorization });
        return { ...result, data: withRawIds(result.data) };
      },
      runGlobal: (query, variables = {}, authorization) => subgraph.run(query, variables, { authorization }),
      async reset() {
        await sql`TRUNCATE stock_movements, reservations, order_reservations, stock_levels, outbox, processed_events`.execute(
          pg.db,
        );
        pg.queries.length = 0;
      },
      async close() {
        await subgraph.stop();
        await pg.drop();
      },
    };
  } catch (error) {
    await pg.drop();
    throw error;
  }
}
