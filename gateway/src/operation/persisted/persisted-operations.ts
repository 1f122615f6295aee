import { createHash } from "node:crypto";
import { type ApolloServerPlugin, type GraphQLRequest, HeaderMap } from "@apollo/server";
import type { Logger, PersistedManifests, PersistedOperation } from "@nexus/core";
import { GraphQLError, Kind, parse } from "graphql";
import type { PersistedOperationsMode } from "../../config.ts";
import type { Client, GatewayContext } from "../../edge/context.ts";
import type { GatewayMetrics } from "../../observability/metrics.ts";
import type { PartnerUsageReporter } from "./partner-usage.ts";

export interface PersistedOperationsOptions {
  /** Every client's registered operations by id (`loadPersistedManifests`). */
  manifests: PersistedManifests;
  /** The mode of a partner without its own entry in `clientModes`. */
  mode: PersistedOperationsMode;
  clientModes: Readonly<Record<string, PersistedOperationsMode>>;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Counts each partner's registered operations for `partnerManifest` (partner-usage.ts). */
  usage?: Pick<PartnerUsageReporter, "record">;
}

type Refusal = "PERSISTED_QUERY_NOT_IN_LIST" | "PERSISTED_QUERY_ID_REQUIRED" | "QUERY_NOT_IN_SAFELIST";

/** Apollo Router's statuses for the same refusals (apollo-router, persisted_queries layer). */
const STATUS: Record<Refusal, number> = {
  PERSISTED_QUERY_NOT_IN_LIST: 404,
  PERSISTED_QUERY_ID_REQUIRED: 400,
  QUERY_NOT_IN_SAFELIST: 403,
};

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

function refusal(code: Refusal, message: string): GraphQLError {
  // Like the router, a refusal that a new manifest could lift is never cached on the way back.
  const headers =
    code === "PERSISTED_QUERY_ID_REQUIRED"
      ? new HeaderMap()
      : new HeaderMap([["cache-control", "private, no-cache, must-revalidate"]]);
  return new GraphQLError(message, { extensions: { code, http: { status: STATUS[code], headers } } });
}

/** The name of the operation a freeform query would run, for the audit log; null when unknown. */
function operationNameOf(request: GraphQLRequest): string | null {
  if (request.operationName) return request.operationName;
  try {
    const document = parse(request.query ?? "", { noLocation: true });
    const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    return operations.length === 1 ? (operations[0]?.name?.value ?? null) : null;
  } catch {
    return null;
  }
}

/**
 * Stands in for a refused request until `didResolveOperation` refuses it. Apollo Server turns
 * anything thrown from `requestDidStart` into an opaque HTTP 500 ("Unexpected error processing
 * request"), while an error thrown from `didResolveOperation` is answered with its own code
 * and `extensions.http` status, through `formatError`, `didEncounterErrors` and
 * `willSendResponse` like any refusal. This text is parsed and validated, never executed, and
 * replaces the client's so that neither APQ nor any later hook sees it.
 */
const REFUSED = "{ __typename }";

function refuse(request: GraphQLRequest): void {
  const { persistedQuery: _id, ...extensions } = request.extensions ?? {};
  request.query = REFUSED;
  request.operationName = undefined;
  request.variables = {};
  request.extensions = extensions;
}

/** Runs the registered operation: its body replaces the id, so Apollo's APQ never sees the id. */
function substitute(request: GraphQLRequest, operation: PersistedOperation): void {
  const { persistedQuery: _id, ...extensions } = request.extensions ?? {};
  request.query = operation.body;
  request.extensions = extensions;
}

/**
 * Trusted documents for partners, persisted ids for everyone who has a manifest.
 *
 * A partner (`client.kind === "partner"`) may run only the operations of its own client's
 * manifest, sent by id as Apollo clients send them (`extensions.persistedQuery.sha256Hash`, no
 * `query`). In `enforce` mode anything else is refused before planning, so no subgraph is
 * called: an id not in its manifest (404 PERSISTED_QUERY_NOT_IN_LIST, also for another
 * client's id), a registered operation sent as text (400 PERSISTED_QUERY_ID_REQUIRED), any
 * other text, APQ registrations included (403 QUERY_NOT_IN_SAFELIST). In `audit` mode those
 * requests run (an unknown id through APQ) and each is logged with the client, operation name
 * and hash, and counted.
 *
 * Other clients keep freeform operations and APQ; one whose `apollographql-client-name` has a
 * manifest can also send that manifest's ids. That header is not authenticated, which is
 * harmless here: an id only stands for a registered text anyone could send, and the
 * operation's fields are authorized as usual.
 *
 * Decides in `requestDidStart`, before Apollo Server's own APQ handling reads the request;
 * a refusal is answered from `didResolveOperation` (see REFUSED). Each registered operation a
 * partner runs is counted in `usage` when its response is sent, errors apart.
 */
export function usePersistedOperations(
  options: PersistedOperationsOptions,
): ApolloServerPlugin<GatewayContext> {
  const { manifests, metrics, logger } = options;
  const count = (client: string, result: string) => metrics.persistedOperations.inc({ client, result });

  /** What to refuse the partner's request with, or undefined when it may run. */
  const partner = (request: GraphQLRequest, client: Client & { name: string }): GraphQLError | undefined => {
    const manifest = manifests.get(client.name);
    const mode = options.clientModes[client.name] ?? options.mode;
    const id = request.extensions?.persistedQuery?.sha256Hash;
    const registered = manifest
      ? `the ${manifest.size} operation(s) registered for client "${client.name}"`
      : `no operation: none is registered for client "${client.name}"`;

    let code: Refusal;
    let hash: string;
    let message: string;
    if (request.query === undefined) {
      if (typeof id !== "string") return undefined; // Neither text nor id: Apollo Server answers 400.
      const operation = manifest?.get(id);
      if (operation) {
        substitute(request, operation);
        count(client.name, "hit");
        return undefined;
      }
      [code, hash] = ["PERSISTED_QUERY_NOT_IN_LIST", id];
      message = `Persisted query '${id}' is not in the persisted query list. This client can run ${registered}.`;
    } else {
      hash = sha256(request.query);
      if (manifest?.has(hash)) {
        code = "PERSISTED_QUERY_ID_REQUIRED";
        message = `This operation is registered: send it by id, as extensions.persistedQuery.sha256Hash = '${hash}', without the query text.`;
      } else {
        code = "QUERY_NOT_IN_SAFELIST";
        message = `The operation is not in the persisted query list. This client can run ${registered}, sent by id.`;
      }
    }

    const unknownId = code === "PERSISTED_QUERY_NOT_IN_LIST";
    if (mode === "enforce") {
      count(client.name, unknownId ? "unknown_id" : "freeform_refused");
      return refusal(code, message);
    }
    count(client.name, unknownId ? "unknown_id_audited" : "freeform_audited");
    logger.warn("unregistered operation run in audit mode", {
      client: client.name,
      operationName: unknownId ? (request.operationName ?? null) : operationNameOf(request),
      hash,
      // What enforce mode would have answered.
      refusal: code,
    });
    return undefined;
  };

  return {
    async requestDidStart({ request, contextValue }) {
      const { client } = contextValue;
      if (client.kind === "partner" && client.name !== null) {
        const name = client.name;
        const id = request.extensions?.persistedQuery?.sha256Hash;
        const registered =
          request.query === undefined && typeof id === "string" && manifests.get(name)?.has(id) ? id : null;
        const refused = partner(request, { ...client, name });
        if (!refused) {
          if (registered === null || !options.usage) return;
          const usage = options.usage;
          // Counted once the response is known, so that a response with errors counts as one.
          return {
            async willSendResponse({ response }) {
              const errors =
                response.body.kind === "single"
                  ? response.body.singleResult.errors
                  : response.body.initialResult.errors;
              usage.record(name, registered, (errors?.length ?? 0) > 0);
            },
          };
        }
        refuse(request);
        return {
          async didResolveOperation() {
            throw refused;
          },
        };
      }
      const id = request.extensions?.persistedQuery?.sha256Hash;
      if (request.query !== undefined || typeof id !== "string" || client.name === null) return;
      const operation = manifests.get(client.name)?.get(id);
      if (!operation) return; // Maybe an APQ id: Apollo Server looks it up.
      substitute(request, operation);
      count(client.name, "hit");
    },
  };
}
