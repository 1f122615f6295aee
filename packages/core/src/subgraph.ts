import { readFileSync } from "node:fs";
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from "@apollo/server/plugin/disabled";
import { GraphQLError, type GraphQLFormattedError, type ValidationRule } from "graphql";
import { useTextInputRule } from "./input-text.ts";
import type { Logger } from "./logger.ts";
import { subgraphOperationTypesRule } from "./operation-types.ts";

/** A subgraph's SDL, read from schema/<name>.graphql: the single source of its contract. */
export function readSubgraphSchema(name: string): string {
  return readFileSync(new URL(`../../../schema/${name}.graphql`, import.meta.url), "utf8");
}

/**
 * Keeps errors a resolver raised on purpose (GraphQLErrors) as they are and hides the message
 * of unexpected ones, which may carry SQL or stack details, behind INTERNAL_SERVER_ERROR.
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    if (formatted.extensions?.code !== "INTERNAL_SERVER_ERROR") return formatted;
    if (unwrapResolverError(error) instanceof GraphQLError) return formatted;
    logger.error("unexpected resolver error", { error, path: formatted.path });
    return { ...formatted, message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}

/**
 * Options every subgraph's ApolloServer shares: no landing page, no federated traces (they
 * feed Apollo's hosted studio, which Nexus does not use), the text rule on every argument
 * (input-text.ts), no subscriptions (operation-types.ts), masked internal errors, no stack
 * traces in any error whatever NODE_ENV says (Apollo adds them unless NODE_ENV is production
 * or test; they name the files and lines of the code, and the gateway passes subgraph errors
 * on), and no signal handlers of Apollo's own: `onShutdown` stops the whole app (HTTP, queues,
 * stores) in order, which Apollo's handler would cut short by re-raising the signal.
 */
export function subgraphServerOptions(logger: Logger): {
  plugins: ApolloServerPlugin<BaseContext>[];
  validationRules: ValidationRule[];
  formatError: ReturnType<typeof createFormatError>;
  includeStacktraceInErrorResponses: false;
  stopOnTerminationSignals: false;
} {
  return {
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      useTextInputRule(),
    ],
    validationRules: [subgraphOperationTypesRule],
    formatError: createFormatError(logger),
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
  };
}
