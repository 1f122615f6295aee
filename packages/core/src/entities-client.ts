import {
  createResiliencePolicy,
  isCircuitOpen,
  type ResilienceHooks,
  type ResilienceSettings,
} from "./resilience.ts";
import { type SubgraphSecrets, subgraphAuthHeaders } from "./subgraph-auth.ts";
import { traceHeaders } from "./telemetry.ts";

/** One entity asked of another subgraph: its type and key fields, as the gateway sends them. */
export type EntityRepresentation = { __typename: string } & Record<string, unknown>;

/** What one call forwards of the request it serves. */
export interface EntitiesRequest {
  /** Ties the other subgraph's logs to this request. */
  requestId?: string | undefined;
  /**
   * The user's own `authorization` header, for a read the other subgraph must decide on that
   * user's rights; left out, the other subgraph answers as it does to an anonymous caller.
   */
  authorization?: string | undefined;
}

export interface EntitiesCallerOptions {
  /**
   * The other subgraph as a sentence names it ("the catalog", "the users service"): every
   * error message starts with it.
   */
  service: string;
  /** The other subgraph's GraphQL endpoint. */
  url: string;
  /** Subgraphs serve only callers that sign with the subgraph secret, as the gateway does. */
  secrets: SubgraphSecrets;
  /** The deadline, retries and breaker of this one dependency, as seen from this caller. */
  resilience: ResilienceSettings;
  hooks?: ResilienceHooks;
  /** The caller's own "unavailable" error, so its callers keep telling its failures apart. */
  unavailable: (message: string, options: { cause?: unknown }) => Error;
}

/**
 * Sends `query`, which selects `_entities(representations: $representations)`, and returns the
 * entities in the order of the representations: one each, null where the other subgraph has
 * none. Their fields are unchecked: each caller reads what it asked for. Throws the caller's
 * `unavailable` error when no complete GraphQL answer came back.
 */
export type EntitiesCaller = (
  query: string,
  representations: readonly EntityRepresentation[],
  request?: EntitiesRequest,
) => Promise<unknown[]>;

/** What one attempt gave: read to its end inside the deadline. */
interface Answer {
  status: number;
  body: { json: unknown } | { unreadable: unknown };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A server-to-server read of another subgraph's own federation entry point, the one the gateway
 * uses to resolve references, so no subgraph needs a private API for another. `_entities` is a
 * query, so every call is retried on transient failures within its deadline.
 */
export function createEntitiesCaller(options: EntitiesCallerOptions): EntitiesCaller {
  const resilience = createResiliencePolicy(options.resilience, options.hooks);
  const service = options.service.charAt(0).toUpperCase() + options.service.slice(1);
  const fail = (message: string, cause?: unknown): Error =>
    options.unavailable(message, cause === undefined ? {} : { cause });

  return async (query, representations, request = {}) => {
    if (representations.length === 0) return [];
    const body = JSON.stringify({ query, variables: { representations } });
    const headers: Record<string, string> = { "content-type": "application/json", ...traceHeaders() };
    if (request.authorization) headers.authorization = request.authorization;
    if (request.requestId) headers["x-request-id"] = request.requestId;
    let answer: Answer;
    try {
      answer = await resilience.execute(
        async (signal): Promise<Answer> => {
          // A fresh signature per attempt: it carries a timestamp.
          const response = await fetch(options.url, {
            method: "POST",
            headers: { ...headers, ...subgraphAuthHeaders(options.secrets, body) },
            body,
            signal,
          });
          // Read here, within the deadline, which ends when this returns.
          const text = await response.text();
          try {
            return { status: response.status, body: { json: JSON.parse(text) } };
          } catch (error) {
            return { status: response.status, body: { unreadable: error } };
          }
        },
        { retry: true },
      );
    } catch (error) {
      const reason = isCircuitOpen(error) ? "is not called for now: it kept failing" : "did not answer";
      throw fail(`${service} at ${options.url} ${reason}.`, error);
    }
    if ("unreadable" in answer.body) {
      throw fail(`${service} answered HTTP ${answer.status} without JSON.`, answer.body.unreadable);
    }
    const json = answer.body.json;
    // Apollo answers a GraphQL request it could not execute with 4xx and the reason in `errors`.
    if (answer.status < 200 || answer.status > 299) {
      throw fail(`${service} answered HTTP ${answer.status}.`, json);
    }
    if (!isRecord(json)) throw fail(`${service}'s answer is not a GraphQL response.`, json);
    if (Array.isArray(json.errors) && json.errors.length > 0) {
      throw fail(`${service} answered with errors.`, json.errors);
    }
    const entities = isRecord(json.data) ? json.data._entities : undefined;
    if (!Array.isArray(entities) || entities.length !== representations.length) {
      const got = Array.isArray(entities) ? `${entities.length}` : "no list";
      throw fail(
        `${service}'s answer does not hold one entity per representation: ${representations.length} asked, ${got} returned.`,
        json,
      );
    }
    return entities as unknown[];
  };
}
