import { AsyncLocalStorage } from "node:async_hooks";
import { type GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from "@apollo/gateway";
import type { GatewayGraphQLResponse } from "@apollo/server-gateway-interface";
import {
  type CircuitStateName,
  createResiliencePolicy,
  isCircuitOpen,
  type Logger,
  type ResiliencePolicy,
  SUBGRAPH_AUTH_CHALLENGE,
  type SubgraphSecrets,
  subgraphAuthHeaders,
  traceHeaders,
} from "@nexus/core";
import { GraphQLError, getOperationAST, parse } from "graphql";
import type { ResilienceConfig } from "../config.ts";
import type { GatewayContext } from "../edge/context.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";
import { type Answer, createHttpClient } from "./http-request.ts";
import { missingPaths } from "./missing-paths.ts";

type SubgraphResponse = Parameters<RemoteGraphQLDataSource["errorFromResponse"]>[0];
type SendOptions = Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>["willSendRequest"]>>[0];
type FetcherInit = NonNullable<Parameters<RemoteGraphQLDataSource["fetcher"]>[1]>;

/** Code of the errors the gateway itself reports when a subgraph gives no usable answer. */
export const SUBGRAPH_UNAVAILABLE = "SUBGRAPH_UNAVAILABLE";

/** The instruments of `metrics.ts` a data source records into. */
export type SubgraphFetchMetrics = Pick<
  GatewayMetrics,
  "subgraphFetchDuration" | "subgraphRetries" | "subgraphDeduplicated" | "circuitState"
>;

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  /**
   * The gateway's resilience settings. This subgraph's timeout (`timeoutsMs[name]`, else
   * `timeoutMs`) bounds one fetch as the gateway sees it: from connecting to the end of the
   * body, every retry and every pause before one included. Retries are for queries only.
   */
  resilience: ResilienceConfig;
  /** What every fetch is signed with (`subgraph-auth.ts`): the subgraph answers no one else. */
  secrets: SubgraphSecrets;
  metrics: SubgraphFetchMetrics;
  logger: Logger;
}

/** What one fetch may do: decided in `process`, which sees the operations, for the fetcher, which sees bytes. */
interface FetchPolicy {
  /** A query: sending it again cannot change anything in the subgraph. */
  retry: boolean;
  /** A query planned for a client query: it may share an identical fetch already in flight. */
  share: boolean;
}

const SEND_ONCE: FetchPolicy = { retry: false, share: false };

const CIRCUIT_GAUGE: Record<CircuitStateName, number> = { closed: 0, "half-open": 1, open: 2 };

/**
 * One subgraph as the gateway calls it. Forwards the request's identity headers, and makes
 * every fetch resilient:
 *
 * - **Timeout.** A fetch has `timeoutMs` in all, from connecting to the end of the body,
 *   retries and pauses included, so a client waits at most that long for a subgraph however
 *   many attempts are made. An attempt that times out is therefore never retried: the budget
 *   is spent.
 * - **Retries.** A query (never a mutation) is sent again after a transient failure (refused
 *   or reset connection, HTTP 502/503/504), after an exponential pause with jitter, as long as
 *   the pause ends before the deadline.
 * - **Circuit breaker.** After `circuitBreaker.failures` consecutive failed fetches the subgraph
 *   is not called for `circuitBreaker.cooldownMs`: fetches fail at once with
 *   SUBGRAPH_UNAVAILABLE, and then one trial fetch decides whether it closes again.
 * - **Deduplication.** A query fetch identical to one in flight (same body and same
 *   `authorization`), from the same or another client request, waits for that one's answer
 *   instead of sending its own. Only the bytes are shared; each caller parses its own copy,
 *   because the gateway mutates the objects it merges into its result. Not for the fetches of
 *   a client mutation: they must see what the mutation wrote.
 * - **Errors at their paths.** A failed fetch becomes one error per missing field, at its
 *   path in the client's response, naming the subgraph (see `missing-paths.ts`).
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly name: string;
  readonly timeoutMs: number;
  readonly circuitBreakerFailures: number;
  /** Timeout, retries and breaker: cockatiel's, as `@nexus/core`'s createResiliencePolicy puts them together. */
  readonly resilience: ResiliencePolicy;
  readonly metrics: SubgraphFetchMetrics;
  readonly logger: Logger;
  private readonly secrets: SubgraphSecrets;
  private readonly policy = new AsyncLocalStorage<FetchPolicy>();
  /** Deduplicated fetches share one answer; each caller gets its own response to read. */
  private readonly inFlight = new Map<string, Promise<Answer>>();
  private readonly http: ReturnType<typeof createHttpClient>;

  constructor(options: SubgraphDataSourceOptions) {
    super({ url: options.url });
    this.name = options.name;
    const { resilience } = options;
    this.timeoutMs = resilience.timeoutsMs[options.name] ?? resilience.timeoutMs;
    this.circuitBreakerFailures = resilience.circuitBreaker.failures;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.secrets = options.secrets;
    this.http = createHttpClient();
    this.resilience = createResiliencePolicy(
      { timeoutMs: this.timeoutMs, retries: resilience.retries, circuitBreaker: resilience.circuitBreaker },
      {
        onCircuitStateChange: (state, previous) =>
          this.circuitChanged(state, previous, resilience.circuitBreaker.cooldownMs),
        onRetry: (retry, delay) => {
          this.metrics.subgraphRetries.inc({ subgraph: this.name });
          this.logger.debug("retrying subgraph fetch", {
            subgraph: this.name,
            retry,
            delayMs: Math.round(delay),
          });
        },
      },
    );
    this.metrics.circuitState.set({ subgraph: this.name }, CIRCUIT_GAUGE.closed);
    // RemoteGraphQLDataSource builds the request and reads the answer around this; everything
    // between the first byte sent and the last byte received happens in fetchShared.
    this.fetcher = (url, init) => this.fetchShared(url, init ?? {});
  }

  override async process(
    options: GraphQLDataSourceProcessOptions<GatewayContext>,
  ): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    if (!("incomingRequestContext" in options) || request.query === undefined) return super.process(options);
    // createGateway has the query planner hand over each fetch's parsed operation.
    const document = options.document ?? parse(request.query);
    const fetchOperation = getOperationAST(document, request.operationName)?.operation;
    const clientOperation = options.incomingRequestContext.operation?.operation;
    const policy: FetchPolicy = {
      retry: fetchOperation === "query",
      share: fetchOperation === "query" && clientOperation === "query",
    };
    try {
      return await this.policy.run(policy, () => super.process(options));
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      // Answering with errors at paths instead of throwing: the gateway then moves each error
      // to its place in the client's response; a thrown error would have no path at all.
      const paths = missingPaths(document, request.operationName, request.variables);
      if (paths.length === 0) throw error;
      return {
        errors: paths.map((path) => ({ message: error.message, path, extensions: error.extensions })),
      };
    }
  }

  /**
   * Forwards the client's identity headers. The gateway's own credential, a signature over the
   * body, is added to each attempt in `fetchOnce`: only there are the body's bytes known, and a
   * retry needs a fresh timestamp.
   */
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
    if (response.headers.get("www-authenticate") === SUBGRAPH_AUTH_CHALLENGE) {
      // Not the token (that comes back as a GraphQL error): the subgraph refused the gateway.
      this.logger.error("subgraph refused the gateway's signature: SUBGRAPH_SECRET differs", {
        subgraph: this.name,
      });
    }
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

  /**
   * Joins an identical query fetch in flight, or starts one that later identical ones may join.
   * Hand-written: cockatiel has no such policy, and `@apollo/gateway` shares nothing across
   * client requests; sharing must be keyed by `authorization` and skip a client mutation's fetches.
   */
  private async fetchShared(url: string, init: FetcherInit): Promise<FetcherResponse> {
    const policy = this.policy.getStore() ?? SEND_ONCE;
    if (!policy.share) return toResponse(await this.fetchGuarded(url, init, policy), url);
    // The URL is this subgraph's; the body holds the query, variables and operation name.
    const key = `${init.headers?.authorization ?? ""}\n${String(init.body)}`;
    const inFlight = this.inFlight.get(key);
    if (inFlight) {
      this.metrics.subgraphDeduplicated.inc({ subgraph: this.name });
      return toResponse(await inFlight, url);
    }
    const answer = this.fetchGuarded(url, init, policy);
    this.inFlight.set(key, answer);
    const forget = () => this.inFlight.delete(key);
    answer.then(forget, forget);
    return toResponse(await answer, url);
  }

  /** One fetch through the circuit breaker, with its retries, recorded in the metrics. */
  private async fetchGuarded(url: string, init: FetcherInit, policy: FetchPolicy): Promise<Answer> {
    const started = performance.now();
    let outcome = "ok";
    try {
      const answer = await this.resilience.execute((signal) => this.fetchOnce(url, init, signal), {
        retry: policy.retry,
      });
      if (answer.status < 200 || answer.status > 299) outcome = "error";
      return answer;
    } catch (error) {
      if (isCircuitOpen(error)) {
        outcome = "circuit_open";
        throw this.unavailable(
          `Subgraph "${this.name}" is unavailable: circuit open after ${this.circuitBreakerFailures} consecutive failures.`,
        );
      }
      outcome = error instanceof Error && error.name === "TimeoutError" ? "timeout" : "unreachable";
      throw error;
    } finally {
      // A fetch the open circuit refused took no time: it never left the gateway.
      const seconds = outcome === "circuit_open" ? 0 : (performance.now() - started) / 1000;
      this.metrics.subgraphFetchDuration.observe({ subgraph: this.name, outcome }, seconds);
    }
  }

  /** One attempt, signed afresh: the signature carries a timestamp. */
  private async fetchOnce(url: string, init: FetcherInit, signal: AbortSignal): Promise<Answer> {
    // One signal for connecting, waiting and reading the body, the fetch's deadline: a subgraph
    // that accepts the connection and then stalls, before or during its answer, cannot outlast it.
    const payload = typeof init.body === "string" ? init.body : init.body && new Uint8Array(init.body);
    return this.http.send(url, {
      method: init.method,
      headers: { ...init.headers, ...subgraphAuthHeaders(this.secrets, payload ?? "") },
      body: payload ?? undefined,
      signal,
    });
  }

  private circuitChanged(state: CircuitStateName, previous: CircuitStateName, cooldownMs: number): void {
    this.metrics.circuitState.set({ subgraph: this.name }, CIRCUIT_GAUGE[state]);
    const fields = { subgraph: this.name, from: previous, to: state };
    if (state === "open") this.logger.warn("subgraph circuit open", { ...fields, cooldownMs });
    else this.logger.info(`subgraph circuit ${state}`, fields);
  }

  private unavailable(message: string): GraphQLError {
    return new GraphQLError(message, { extensions: { code: SUBGRAPH_UNAVAILABLE, serviceName: this.name } });
  }
}

type FetcherResponse = Awaited<ReturnType<RemoteGraphQLDataSource["fetcher"]>>;

/**
 * The answer as `RemoteGraphQLDataSource` reads it. Not a `Response`: the body is already a
 * string, and wrapping it in a stream only for the data source to read it back into bytes and
 * decode them again cost CPU on every fetch.
 */
function toResponse(answer: Answer, url: string): FetcherResponse {
  let bodyUsed = false;
  const read = () => {
    bodyUsed = true;
    return answer.body;
  };
  return {
    get bodyUsed() {
      return bodyUsed;
    },
    url,
    redirected: false,
    status: answer.status,
    ok: answer.status >= 200 && answer.status <= 299,
    statusText: answer.statusText,
    headers: new Headers(answer.headers),
    text: async () => read(),
    // Invalid JSON rejects with a SyntaxError, as Response.json() does.
    json: async () => JSON.parse(read()),
    arrayBuffer: async () => {
      const bytes = Buffer.from(read());
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
    clone: () => toResponse(answer, url),
  };
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
