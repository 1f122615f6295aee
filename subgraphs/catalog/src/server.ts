import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { enforceAccess, type Logger, readSubgraphSchema, subgraphServerOptions } from "@nexus/core";
import { parse } from "graphql";
import type { Context } from "./context.ts";
import { resolvers } from "./resolvers.ts";

export function createServer(logger: Logger): ApolloServer<Context> {
  const typeDefs = parse(readSubgraphSchema("catalog"));
  return new ApolloServer<Context>({
    schema: enforceAccess(buildSubgraphSchema([{ typeDefs, resolvers }]), typeDefs),
    ...subgraphServerOptions(logger),
  });
}
