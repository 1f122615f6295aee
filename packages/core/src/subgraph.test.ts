import { ApolloServer } from "@apollo/server";
import { GraphQLError } from "graphql";
import { afterEach, describe, expect, it, vi } from "vitest";
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

describe("subgraph errors and NODE_ENV", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("carry no stack trace when NODE_ENV is unset, as on a machine nobody configured", async () => {
    // Apollo decides when the server is built: without NODE_ENV it would add `stacktrace`.
    vi.stubEnv("NODE_ENV", undefined);
    const unconfigured = new ApolloServer({
      typeDefs: "type Query { denied: Int }",
      resolvers: {
        Query: {
          denied: () => {
            throw new GraphQLError("No.", { extensions: { code: "FORBIDDEN" } });
          },
        },
      },
      ...subgraphServerOptions(createLogger("test", "silent")),
    });
    for (const query of ["{ denied }", "{ missing }"]) {
      const response = await unconfigured.executeOperation({ query });
      if (response.body.kind !== "single") throw new Error("expected a single result");
      const [error] = response.body.singleResult.errors ?? [];
      expect(error?.extensions?.code).toBeDefined();
      expect(error?.extensions).not.toHaveProperty("stacktrace");
    }
  });
});
