import { RemoteGraphQLDataSource } from "@apollo/gateway";
import { type Logger, traceHeaders } from "@nexus/core";
import { GraphQLError } from "graphql";
import type { GatewayContext } from "./context.ts";

type SubgraphResponse = Parameters<RemoteGraphQLDataSource["errorFromResponse"]>[0];
type SendOptions = Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>["willSendRequest"]>>[0];

/** Code of the errors the gateway itself reports when a subgraph gives no usable answer. */
export const SUBGRAPH_UNAVAILABLE = "SUBGRAPH_UNAVAILABLE";

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  timeoutMs: number;
  logger: Logger;
}

/**
 * One subgraph as the gateway calls it: forwards the request's identity headers, bounds every
 * fetch with a timeout, and turns transport failures into errors a client can read.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly name: string;
  readonly timeoutMs: number;
  readonly logger: Logger;

  constructor(options: SubgraphDataSourceOptions) {
    super({ url: options.url });
    this.name = options.name;
    this.timeoutMs = options.timeoutMs;
    this.logger = options.logger;
    // Node's fetch with an abort signal: the timeout covers connecting, waiting and reading
    // the body, so a subgraph that accepts the connection and never answers cannot hang a request.
    this.fetcher = (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
  }

  override willSendRequest(options: SendOptions): void {
    // Only client operations carry headers to forward; health checks and schema loading,
    // which this gateway never runs, would come with an empty context.
    if (!("incomingRequestContext" in options)) return;
    const { forwardedHeaders } = options.incomingRequestContext.context;
    // traceparent: the subgraph's spans join this request's trace (a no-op without tracing).
    for (const [name, value] of Object.entries({ ...forwardedHeaders, ...traceHeaders() })) {
      options.request.http?.headers.set(name, value);
    }
  }

  /**
   * A non-2xx answer: keep the subgraph's own GraphQL error (a 401 from a subgraph stays
   * UNAUTHENTICATED with its message) instead of Apollo's generic one, which would also expose
   * the subgraph's URL and raw body to the client.
   */
  override async errorFromResponse(response: SubgraphResponse): Promise<GraphQLError> {
    const body = await this.parseBody(response).catch(() => undefined);
    const first = firstGraphQLError(body);
    if (first) {
      return new GraphQLError(first.message, {
        extensions: { code: first.code ?? SUBGRAPH_UNAVAILABLE, serviceName: this.name },
      });
    }
    return this.unavailable(`Subgraph "${this.name}" answered HTTP ${response.status}.`);
  }

  override didEncounterError(
    error: Error,
    _request: unknown,
    response?: unknown,
    context?: Partial<GatewayContext>,
  ): never {
    if (error instanceof GraphQLError) throw error;
    const timedOut = error.name === "TimeoutError";
    const reason = timedOut
      ? `did not answer within ${this.timeoutMs} ms`
      : response === undefined
        ? "is unreachable"
        : "did not answer with a GraphQL response";
    this.logger.warn("subgraph fetch failed", {
      subgraph: this.name,
      url: this.url,
      requestId: context?.requestId,
      reason,
      // Node's fetch reports "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND ...).
      cause: error.cause instanceof Error ? error.cause.message : undefined,
      error,
    });
    throw this.unavailable(`Subgraph "${this.name}" ${reason}.`);
  }

  private unavailable(message: string): GraphQLError {
    return new GraphQLError(message, { extensions: { code: SUBGRAPH_UNAVAILABLE, serviceName: this.name } });
  }
}

function firstGraphQLError(body: unknown): { message: string; code: string | undefined } | undefined {
  if (typeof body !== "object" || body === null || !("errors" in body) || !Array.isArray(body.errors)) {
    return undefined;
  }
  const [first] = body.errors as unknown[];
  if (typeof first !== "object" || first === null || !("message" in first)) return undefined;
  if (typeof first.message !== "string") return undefined;
  const extensions = "extensions" in first ? first.extensions : undefined;
  const code =
    typeof extensions === "object" && extensions !== null && "code" in extensions
      ? extensions.code
      : undefined;
  return { message: first.message, code: typeof code === "string" ? code : undefined };
}
