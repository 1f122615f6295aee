import type { IncomingMessage } from "node:http";
import type { ApolloServerPlugin } from "@apollo/server";
import { boundedLabel, type GraphQLResponseEvent } from "@nexus/core";
import { getOperationAST } from "graphql";
import type { GatewayContext } from "../edge/context.ts";
import type { GatewayMetrics } from "./metrics.ts";

/** Distinct operation names and client names kept as labels; later ones count as "other". */
const MAX_OPERATION_LABELS = 500;
const MAX_CLIENT_LABELS = 200;

/**
 * Request metrics and the access log's GraphQL fields. Counting happens where the HTTP
 * response is sent (`observe`), not in Apollo's `willSendResponse`, so requests refused before
 * an operation runs (bad token, rate limit, unknown persisted id, oversized body) are counted
 * too. The plugin (`useMetrics`) only contributes the name of the operation actually run,
 * which for a persisted id is known only after the id is resolved.
 */
export function createRequestMetrics(metrics: GatewayMetrics) {
  const contexts = new WeakMap<IncomingMessage, GatewayContext>();
  const operationLabel = boundedLabel(MAX_OPERATION_LABELS);
  const clientLabel = boundedLabel(MAX_CLIENT_LABELS);

  const useMetrics = (): ApolloServerPlugin<GatewayContext> => ({
    async requestDidStart() {
      return {
        // Once parsed, so that operations failing validation are counted under their name too.
        async validationDidStart({ contextValue, document, request }) {
          contextValue.observed.operationName =
            getOperationAST(document, request.operationName)?.name?.value ?? null;
        },
        // Documents seen before skip parsing and validation.
        async didResolveOperation({ contextValue, operationName }) {
          contextValue.observed.operationName = operationName;
        },
      };
    },
  });

  return {
    useMetrics,
    /** Remembers which context serves `req`, for `observe`. */
    remember(req: IncomingMessage, context: GatewayContext): GatewayContext {
      contexts.set(req, context);
      return context;
    },
    /** Counts one GraphQL response; returns the fields the access log line adds. */
    observe(event: GraphQLResponseEvent): Record<string, unknown> {
      const context = contexts.get(event.req);
      const operation =
        context?.observed.operationName ?? requestedOperationName(event.requestBody) ?? "anonymous";
      const client = context ? (context.client.name ?? context.client.kind) : "unknown";
      const labels = { operation: operationLabel(operation), client: clientLabel(client) };
      metrics.requests.inc({ ...labels, status: String(event.status) });
      metrics.requestDuration.observe(labels, event.durationSeconds);
      const codes = errorCodes(event.body);
      for (const code of codes) metrics.errors.inc({ code });
      return {
        operation,
        client,
        clientKind: context?.client.kind,
        ...(codes.length > 0 ? { errors: codes } : {}),
      };
    },
  };
}

/** The operation name a client sent (a GET's query string is not parsed: names come from POSTs). */
function requestedOperationName(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("operationName" in body)) return undefined;
  return typeof body.operationName === "string" && body.operationName !== "" ? body.operationName : undefined;
}

/** `extensions.code` of every error in a response body, "UNKNOWN" for errors without one. */
function errorCodes(body: string | undefined): string[] {
  // Most responses carry no errors: skip parsing their (possibly large) bodies.
  if (body === undefined || !body.includes('"errors"')) return [];
  try {
    const parsed = JSON.parse(body) as { errors?: { extensions?: { code?: unknown } }[] };
    return (parsed.errors ?? []).map((error) => {
      const code = error.extensions?.code;
      return typeof code === "string" ? code : "UNKNOWN";
    });
  } catch {
    return [];
  }
}
