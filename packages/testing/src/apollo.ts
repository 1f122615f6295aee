import type { ApolloServer, BaseContext } from "@apollo/server";

/** Runs one operation against a subgraph's server in-process, as the gateway would send it. */
export async function executeSingle<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  contextValue: TContext,
  query: string,
  variables: Record<string, unknown> = {},
) {
  const response = await server.executeOperation({ query, variables }, { contextValue });
  if (response.body.kind !== "single") throw new Error("expected a single result, not an incremental one");
  return response.body.singleResult;
}
