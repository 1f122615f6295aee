import { ApolloServer, type ApolloServerPlugin, type PersistedQueryOptions } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import type { GatewayInterface } from "@apollo/server-gateway-interface";
import type { Logger } from "@nexus/core";
import type { GraphQLFormattedError } from "graphql";
import type { GatewayContext } from "./context.ts";
import { describeTokenLimit } from "./plugins/operation-limits.ts";

export interface CreateServerOptions {
  gateway: GatewayInterface;
  logger: Logger;
  production: boolean;
  /** The edge policies (`useX`), in the order their hooks should run. */
  plugins?: ApolloServerPlugin<GatewayContext>[];
  /** Automatic persisted queries: where they are kept and for how long. Apollo's in-memory default when absent. */
  persistedQueries?: PersistedQueryOptions;
  /** Lexical tokens a document may have: the parser stops there (MAX_TOKENS_LIMIT). */
  maxTokens?: number;
}

export function createServer({
  gateway,
  logger,
  production,
  plugins = [],
  persistedQueries,
  maxTokens,
}: CreateServerOptions): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    gateway,
    ...(persistedQueries ? { persistedQueries } : {}),
    introspection: !production,
    // Apollo's landing page loads from a CDN, which these machines cannot reach.
    plugins: [ApolloServerPluginLandingPageDisabled(), ...plugins],
    // Stack traces of gateway code tell a client nothing; unexpected errors are logged instead.
    includeStacktraceInErrorResponses: false,
    // One operation per request: a JSON array of operations (Apollo's HTTP batching) would
    // let one request carry any number of operations past the per-request limits. This is
    // Apollo Server's default; stated here so that it stays so.
    allowBatchedHttpRequests: false,
    // Parsing stops at the limit, so a huge document costs no more than that to refuse.
    parseOptions: maxTokens === undefined ? {} : { maxTokens },
    // index.ts drains and exits through onShutdown; Apollo's own handlers would re-raise the
    // signal mid-drain and end the process with 143 instead of 0.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => maskGatewayError(describeTokenLimit(formatted), error, logger),
  });
}

/**
 * Subgraph errors (they carry `serviceName`) pass through unchanged: the subgraph has already
 * masked its own internal errors. An unexpected error raised in the gateway itself is logged
 * and its message, which may describe internals, replaced.
 */
function maskGatewayError(
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Logger,
): GraphQLFormattedError {
  const extensions = formatted.extensions ?? {};
  if (extensions.code !== "INTERNAL_SERVER_ERROR" || "serviceName" in extensions) return formatted;
  logger.error("unexpected gateway error", { error, path: formatted.path });
  return { ...formatted, message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } };
}
