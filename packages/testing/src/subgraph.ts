import type { ApolloServer, BaseContext } from "@apollo/server";
import { createLogger, createSubgraphServer, type Logger, type RequestMeta } from "@nexus/core";
import { executeSingle } from "./apollo.ts";

export interface TestSubgraph<TContext extends BaseContext> {
  server: ApolloServer<TContext>;
  /** Runs an operation as the gateway would send it, with the request's token, id and address. */
  run(
    query: string,
    variables?: Record<string, unknown>,
    request?: RequestMeta,
  ): ReturnType<typeof executeSingle<TContext>>;
  stop(): Promise<void>;
}

/**
 * A subgraph's own ApolloServer (the kit's `createSubgraphServer`) started in-process over the
 * deps a test built, each operation getting a context from the subgraph's `createContext`.
 */
export async function startTestSubgraph<D, TContext extends BaseContext>(options: {
  name: string;
  resolvers: object;
  createContext(deps: D, request: RequestMeta): Promise<TContext>;
  deps: D;
  /** Silent unless a test asserts what was logged. */
  logger?: Logger;
}): Promise<TestSubgraph<TContext>> {
  const server = createSubgraphServer<TContext>(
    options.name,
    options.resolvers,
    options.logger ?? createLogger(`${options.name}-test`, "silent"),
  );
  await server.start();
  return {
    server,
    run: async (query, variables = {}, request = {}) =>
      executeSingle(server, await options.createContext(options.deps, request), query, variables),
    stop: () => server.stop(),
  };
}
