import { ApolloServer } from "@apollo/server";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";
import { subgraphServerOptions } from "./subgraph.ts";

const server = new ApolloServer({
  typeDefs: "type Query { unexpected: Int, deliberate: Int, denied: Int }",
  resolvers: {
    Query: {
      unexpected: () => {
        throw new Error('relation "orders" does not exist');
      },
      deliberate: () => {
        throw new GraphQLError("The catalog is unavailable; nothing was ordered.", {
          extensions: { code: "INTERNAL_SERVER_ERROR" },
        });
      },
      denied: () => {
        throw new GraphQLError("No.", { extensions: { code: "FORBIDDEN" } });
      },
    },
  },
  ...subgraphServerOptions(createLogger("test", "silent")),
});

async function errorOf(field: string) {
  const response = await server.executeOperation({ query: `{ ${field} }` });
  if (response.body.kind !== "single") throw new Error("expected a single result");
  return response.body.singleResult.errors?.[0];
}

describe("subgraph error formatting", () => {
  it("masks an unexpected error so no internals reach the client", async () => {
    expect(await errorOf("unexpected")).toMatchObject({
      message: "Internal server error.",
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
  });

  it("keeps the message of an error a resolver raised on purpose", async () => {
    expect((await errorOf("deliberate"))?.message).toBe("The catalog is unavailable; nothing was ordered.");
    expect(await errorOf("denied")).toMatchObject({ message: "No.", extensions: { code: "FORBIDDEN" } });
  });
});
