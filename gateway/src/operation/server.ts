import { ApolloServer, type ApolloServerPlugin, type PersistedQueryOptions } from "@apollo/server";
import type { GatewayInterface } from "@apollo/server-gateway-interface";
import { type Logger, servedOperationTypesRule } from "@nexus/core";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { GatewayContext } from "../edge/context.ts";
import { describeTokenLimit } from "./operation-limits.ts";

export interface CreateServerOptions {
  gateway: GatewayInterface;
  logger: Logger;
  /**
   * Apollo's switch for introspection, for everyone at once. On unless no one may introspect:
   * who may is decided per request by `useIntrospectionPolicy`.
   */
  introspection: boolean;
  /** Every plugin, in the order their hooks should run: `pipeline.ts` lists them. */
  plugins: ApolloServerPlugin<GatewayContext>[];
  /** Automatic persisted queries: where they are kept and for how long. Apollo's in-memory default when absent. */
  persistedQueries?: PersistedQueryOptions;
  /** Lexical tokens a document may have: the parser stops there (MAX_TOKENS_LIMIT). */
  maxTokens?: number;
}

export function createServer({
  gateway,
  logger,
  introspection,
  plugins,
  persistedQueries,
  maxTokens,
}: CreateServerOptions): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    gateway,
    ...(persistedQueries ? { persistedQueries } : {}),
    introspection,
    plugins,
    // A subscription is HTTP 400 while the supergraph has no subscription root type.
    validationRules: [servedOperationTypesRule],
    // Stack traces of gateway code tell a client nothing; unexpected errors are logged instead.
    // Subgraphs' traces are removed in maskGatewayError.
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
 * Extensions that carry a stack trace: `stacktrace` (Apollo Server 4 and later, outside
 * production) and `exception` (Apollo Server 2 and 3). A subgraph run with NODE_ENV unset adds
 * them to every error, and @apollo/gateway copies a subgraph error's extensions as they are.
 */
const TRACE_EXTENSIONS = ["stacktrace", "exception"];

/**
 * The HTTP status of an error Apollo Server (or a plugin) raised on purpose about the request,
 * when that status is a 4xx; undefined for anything else. Apollo Server raises some of those
 * without a code, "provided sha does not match query" and "Unsupported persisted query
 * version" among them, and then gives them INTERNAL_SERVER_ERROR.
 */
function clientErrorStatus(error: unknown): number | undefined {
  if (!(error instanceof GraphQLError)) return undefined;
  if (error.originalError && !(error.originalError instanceof GraphQLError)) return undefined;
  const http: unknown = error.extensions.http;
  const status = http && typeof http === "object" && "status" in http ? http.status : undefined;
  return typeof status === "number" && status >= 400 && status < 500 ? status : undefined;
}

/**
 * Subgraph errors (they carry `serviceName`) keep their message and code: the subgraph has
 * already masked its own internal errors. Whatever their origin, errors lose any stack trace.
 * A request error raised on purpose with a 4xx status and no code of its own keeps its message
 * and gets Apollo Server's BAD_REQUEST. An unexpected error raised in the gateway itself is
 * logged and its message, which may describe internals, replaced.
 */
function maskGatewayError(
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Logger,
): GraphQLFormattedError {
  const extensions = formatted.extensions ?? {};
  if (extensions.code === "INTERNAL_SERVER_ERROR" && clientErrorStatus(error) !== undefined) {
    return { message: formatted.message, extensions: { code: "BAD_REQUEST" } };
  }
  if (extensions.code !== "INTERNAL_SERVER_ERROR" || "serviceName" in extensions) {
    if (!TRACE_EXTENSIONS.some((name) => name in extensions)) return formatted;
    const kept = Object.fromEntries(
      Object.entries(extensions).filter(([name]) => !TRACE_EXTENSIONS.includes(name)),
    );
    return { ...formatted, extensions: kept };
  }
  logger.error("unexpected gateway error", { error, path: formatted.path });
  return { ...formatted, message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } };
}
