import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { type Logger, readSubgraphSchema, subgraphServerOptions } from "@nexus/core";
import { parse } from "graphql";
import type { Context } from "./context.ts";
import { resolvers } from "./resolvers.ts";

export function createServer(logger: Logger): ApolloServer<Context> {
  return new ApolloServer<Context>({
    schema: buildSubgraphSchema([{ typeDefs: parse(readSubgraphSchema("insights")), resolvers }]),
    ...subgraphServerOptions(logger),
  });
}
