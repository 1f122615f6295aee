import { type ApolloServerPlugin, HeaderMap } from "@apollo/server";
import { boundedLabel, type Logger, readAccessRules, type Viewer } from "@nexus/core";
import { parse } from "graphql";
import type { GatewayContext } from "../edge/context.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";
import { authorizeOperation } from "../operation/access-control.ts";
import { type Audience, entryKey, operationKey, shapeKey } from "./cache-key.ts";
import { entityTags } from "./entity-tags.ts";
import { ALL_TAG } from "./invalidation.ts";
import type { Lookup, ResponseStore } from "./response-store.ts";

const MAX_OPERATION_LABELS = 500;
/** Operation shapes remembered as not cacheable, and for how long: a changed hint is seen after that. */
const UNCACHEABLE_SHAPES = 10_000;
const UNCACHEABLE_FOR_MS = 60_000;

/**
 * Whose private entries these are: the account with exactly these scopes, so an account whose
 * role changed (a demoted admin) never gets what it was served with its former scopes.
 */
const viewerId = (viewer: Viewer): string => `${viewer.userId}\u0000${[...viewer.scopes].sort().join(" ")}`;

export interface UseResponseCacheOptions {
  store: ResponseStore;
  /** The supergraph, for its `@authenticated`/`@requiresScopes` fields (never shared). */
  supergraphSdl: string;
  /** The longest `max-age` told to browsers and CDNs (RESPONSE_CACHE_HTTP_MAX_AGE). */
  httpMaxAgeSeconds: number;
  /** Larger response bodies are served, not stored. */
  maxEntryBytes: number;
  metrics: Pick<GatewayMetrics, "responseCacheLookups" | "responseCacheStores" | "responseCacheStoredBytes">;
  logger: Logger;
}

/**
 * The gateway's response cache: whole answers to queries whose cache policy allows it.
 *
 * The policy is Apollo's: each subgraph computes one from its SDL's `@cacheControl` hints and
 * answers with `Cache-Control`; the data sources fold them into the operation's
 * `overallCachePolicy` (`honorSubgraphCacheControlHeader`), the shortest max age and PRIVATE
 * over PUBLIC; no hint means max age 0, not cached. Only queries are cached, and only answers
 * without errors.
 *
 * Who shares an entry: PUBLIC answers are shared by anonymous shoppers and by signed-in viewers
 * without scopes, whose answers to public fields are the same. PRIVATE answers, answers to a
 * viewer holding scopes (staff see unlisted products), and operations that touch any
 * `@authenticated`/`@requiresScopes` field are kept for that viewer alone, under a key holding
 * the viewer's id, and sent as `Cache-Control: private`; without a viewer they are not stored.
 *
 * Where it sits: `responseForOperation` runs after every plugin's `didResolveOperation`
 * (persisted operations, limits, cost estimate) and after demand control has charged the
 * budget in its own `responseForOperation`, which comes first in the plugin list: a cached
 * answer is refused exactly when a fresh one would be, and costs the client the same.
 */
export function useResponseCache(options: UseResponseCacheOptions): ApolloServerPlugin<GatewayContext> {
  const { store, metrics, logger } = options;
  const rules = readAccessRules(parse(options.supergraphSdl));
  const operationLabel = boundedLabel(MAX_OPERATION_LABELS);
  /**
   * Shapes whose last answer had no cacheable policy (`me`, a cart: no hints), so they skip the
   * Redis lookup: an operation that is never cached costs no round trip. Only until
   * UNCACHEABLE_FOR_MS, oldest forgotten first past UNCACHEABLE_SHAPES.
   */
  const uncacheable = new Map<string, number>();
  const isUncacheable = (shape: string, now: number) => {
    const until = uncacheable.get(shape);
    if (until === undefined) return false;
    if (until > now) return true;
    uncacheable.delete(shape);
    return false;
  };
  const rememberUncacheable = (shape: string) => {
    uncacheable.delete(shape);
    uncacheable.set(shape, Date.now() + UNCACHEABLE_FOR_MS);
    if (uncacheable.size > UNCACHEABLE_SHAPES) {
      const oldest = uncacheable.keys().next().value;
      if (oldest !== undefined) uncacheable.delete(oldest);
    }
  };

  return {
    async requestDidStart() {
      let hit = false;
      /** The first lookup, for the store that follows a miss; null when nothing may be stored. */
      let missed: { lookup: Lookup; operation: string } | null = null;
      let shareable = false;
      let shape: string | null = null;

      return {
        async responseForOperation(requestContext) {
          const { operation, document, operationName, contextValue, schema } = requestContext;
          const label = operationLabel(operationName ?? "anonymous");
          if (operation?.operation !== "query") return null;
          const viewer = contextValue.viewer;
          const touchesProtected = (() => {
            const result = authorizeOperation(schema, rules, document, operationName ?? null, null);
            return result.refused !== null || result.withheld.length > 0;
          })();
          shareable = !touchesProtected && (viewer === null || viewer.scopes.length === 0);
          if (!shareable) requestContext.overallCachePolicy.restrict({ scope: "PRIVATE" });
          const audiences: Audience[] = [];
          if (viewer) audiences.push({ kind: "viewer", id: viewerId(viewer) });
          if (shareable) audiences.push({ kind: "shared" });
          shape = shapeKey(document, operationName);
          if (audiences.length === 0 || isUncacheable(shape, Date.now())) {
            metrics.responseCacheLookups.inc({ operation: label, result: "skip" });
            return null;
          }
          const key = operationKey(shape, requestContext.request.variables);
          // The viewer's own entry first, then the shared one, in one round trip.
          const lookup = await store.get(audiences.map((audience) => entryKey(key, audience)));
          if (lookup === null) {
            // Redis failed or was slow: answer from the subgraphs, and store nothing.
            metrics.responseCacheLookups.inc({ operation: label, result: "skip" });
            return null;
          }
          const { entry } = lookup;
          if (entry) {
            hit = true;
            metrics.responseCacheLookups.inc({ operation: label, result: `hit_${lookup.layer}` });
            const age = Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000));
            requestContext.overallCachePolicy.replace({
              maxAge: Math.max(1, entry.maxAge - age),
              scope: entry.scope,
            });
            const headers = new HeaderMap([["age", String(age)]]);
            // A fresh result object per hit: later plugins add `extensions` to it.
            return {
              http: { status: undefined, headers },
              body: { kind: "single", singleResult: { data: entry.data } },
            };
          }
          metrics.responseCacheLookups.inc({ operation: label, result: "miss" });
          missed = { lookup, operation: key };
          return null;
        },

        async willSendResponse(requestContext) {
          const { response, overallCachePolicy, contextValue } = requestContext;
          const body = response.body.kind === "single" ? response.body.singleResult : null;
          const policy = overallCachePolicy.policyIfCacheable();
          // Apollo's cache-control plugin has set the header from the same policy; here the max
          // age shown to browsers and CDNs is capped: only the gateway's copy hears of changes.
          if (body && !body.errors && policy) {
            const maxAge = Math.min(policy.maxAge, options.httpMaxAgeSeconds);
            response.http.headers.set(
              "cache-control",
              maxAge > 0
                ? `${policy.scope.toLowerCase()}, max-age=${maxAge}`
                : `${policy.scope.toLowerCase()}, no-cache`,
            );
          }
          if (shape && body && !body.errors && !policy) rememberUncacheable(shape);
          if (hit || !missed || !body || body.errors || !body.data || !policy) return;
          const viewer = contextValue.viewer;
          const audience: Audience | null =
            policy.scope === "PUBLIC" && shareable
              ? { kind: "shared" }
              : viewer
                ? { kind: "viewer", id: viewerId(viewer) }
                : null;
          const { document } = requestContext;
          if (!audience || !document) return;
          const data = body.data;
          const bytes = JSON.stringify(data).length;
          if (bytes > options.maxEntryBytes) {
            metrics.responseCacheStores.inc({ outcome: "too_large" });
            return;
          }
          const tags = [
            ALL_TAG,
            ...entityTags(requestContext.schema, document, requestContext.operationName, data),
          ];
          const { lookup, operation } = missed;
          // Not awaited: the answer goes out now; a store that loses a race with a notice is refused.
          store
            .set(
              entryKey(operation, audience),
              { data, maxAge: policy.maxAge, scope: policy.scope, tags },
              lookup,
            )
            .then(
              (outcome) => {
                metrics.responseCacheStores.inc({ outcome });
                if (outcome === "stored") metrics.responseCacheStoredBytes.inc(bytes);
              },
              (error: unknown) => logger.warn("response cache store failed", { error }),
            );
        },
      };
    },
  };
}
