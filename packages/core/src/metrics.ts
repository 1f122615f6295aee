import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { getOperationAST } from "graphql";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { type RouteHandler, sendJson } from "./http.ts";

/** Latency buckets in seconds, from a 1 ms answer up to the gateway's default subgraph timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Distinct operation names kept as labels; later ones count as "other" (names are client-chosen). */
export const MAX_OPERATION_LABELS = 200;

/** What a pool reports on each scrape (pg's `Pool` has these three counts). */
export interface PoolUsage {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * The instruments of one started subgraph, in a registry of its own (tests start several in one
 * process), served at its `/metrics`. Stores and workers add what they know with `addPool` and
 * `registry` (the outbox relay and event consumer in @nexus/events).
 */
export function createSubgraphMetrics(service: string) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: `nexus_${service}_` });
  const registers = [registry];
  const pools = new Map<string, () => PoolUsage>();
  const caches = new Map<string, () => { hits: number; misses: number }>();
  new Counter({
    name: "nexus_subgraph_cache_lookups_total",
    help: "Cache lookups since start-up, by service, cache and result (hit, miss).",
    labelNames: ["service", "cache", "result"] as const,
    registers,
    // The cache counts for itself; each scrape copies its totals.
    collect() {
      this.reset();
      for (const [cache, stats] of caches) {
        const { hits, misses } = stats();
        this.inc({ service, cache, result: "hit" }, hits);
        this.inc({ service, cache, result: "miss" }, misses);
      }
    },
  });
  const poolGauge = (name: string, help: string, read: (usage: PoolUsage) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["service", "store"] as const,
      registers,
      collect() {
        this.reset();
        for (const [store, usage] of pools) this.set({ service, store }, read(usage()));
      },
    });

  return {
    service,
    registry,
    /** One per GraphQL response, by operation name (or `anonymous`) and HTTP status. */
    requests: new Counter({
      name: "nexus_subgraph_requests_total",
      help: "GraphQL requests answered, by service, operation name and HTTP status.",
      labelNames: ["service", "operation", "status"] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: "nexus_subgraph_request_duration_seconds",
      help: "Time from the start of a GraphQL request to its response, by service and operation name.",
      labelNames: ["service", "operation"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    /** One per error in a response, by `extensions.code`. */
    errors: new Counter({
      name: "nexus_subgraph_errors_total",
      help: "Errors in GraphQL responses, by service and extensions.code.",
      labelNames: ["service", "code"] as const,
      registers,
    }),
    /** Raw ids clients sent where a global id is expected, by node type: who still has to migrate. */
    legacyIds: new Counter({
      name: "nexus_legacy_ids_total",
      help: "Raw (legacy) ids clients sent in arguments where a global id is expected, by subgraph and type.",
      labelNames: ["subgraph", "type"] as const,
      registers,
    }),
    poolTotal: poolGauge(
      "nexus_subgraph_db_pool_connections",
      "PostgreSQL connections open in the pool, by service and store.",
      (usage) => usage.totalCount,
    ),
    poolIdle: poolGauge(
      "nexus_subgraph_db_pool_idle_connections",
      "PostgreSQL connections open and idle in the pool, by service and store.",
      (usage) => usage.idleCount,
    ),
    poolWaiting: poolGauge(
      "nexus_subgraph_db_pool_waiting_clients",
      "Queries waiting for a PostgreSQL connection from the pool, by service and store.",
      (usage) => usage.waitingCount,
    ),
    /** Reports a pool's usage on every scrape, under the store's key (`db`). */
    addPool(store: string, usage: () => PoolUsage): void {
      pools.set(store, usage);
    },
    /** Reports a cache's lookups since start-up (`stats()`) on every scrape, by cache name. */
    addCache(cache: string, stats: () => { hits: number; misses: number }): void {
      caches.set(cache, stats);
    },
    operationLabel: boundedLabel(MAX_OPERATION_LABELS),
  };
}

export type SubgraphMetrics = ReturnType<typeof createSubgraphMetrics>;

/**
 * Counts every GraphQL request a subgraph answers, its duration and the `extensions.code` of
 * each error in its response (after masking: the codes the gateway sees).
 */
export function useSubgraphMetrics(metrics: SubgraphMetrics): ApolloServerPlugin<BaseContext> {
  const { service } = metrics;
  return {
    async requestDidStart() {
      const started = performance.now();
      let operation: string | undefined;
      return {
        // Once parsed, so that operations failing validation are counted under their name too.
        async validationDidStart({ document, request }) {
          operation = getOperationAST(document, request.operationName)?.name?.value ?? undefined;
        },
        async willSendResponse({ response, request }) {
          const label = metrics.operationLabel(operation ?? request.operationName ?? "anonymous");
          const status = String(response.http.status ?? 200);
          metrics.requests.inc({ service, operation: label, status });
          metrics.requestDuration.observe(
            { service, operation: label },
            (performance.now() - started) / 1000,
          );
          const errors = response.body.kind === "single" ? (response.body.singleResult.errors ?? []) : [];
          for (const error of errors) {
            const code = error.extensions?.code;
            metrics.errors.inc({ service, code: typeof code === "string" ? code : "UNKNOWN" });
          }
        },
      };
    },
  };
}

/**
 * `GET /metrics` in Prometheus' text format. With `METRICS_TOKEN` set, scrapers must send it as
 * a bearer token; like the gateway's.
 */
export function createMetricsRoute(
  registry: Registry,
  token: string | undefined,
  /** What to answer instead of this registry's series, e.g. every cluster worker's, summed. */
  collect: () => Promise<string> = () => registry.metrics(),
): RouteHandler {
  return async (req, res) => {
    if (token !== undefined && !bearerMatches(req, token)) {
      res.setHeader("www-authenticate", "Bearer");
      return sendJson(res, 401, { error: "Send the metrics token as a bearer token." });
    }
    res.setHeader("content-type", registry.contentType);
    res.end(await collect());
  };
}

function bearerMatches(req: IncomingMessage, token: string): boolean {
  const sent = Buffer.from(req.headers.authorization ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

/** Label values come from clients: keep the first `max` distinct ones, fold the rest into "other". */
export function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max) return "other";
    seen.add(value);
    return value;
  };
}

/**
 * A reading that costs a query, taken at most once per `maxAgeMs` however often Prometheus (or
 * several) scrapes: within that age the last answer is served again, and concurrent scrapes
 * share one query. A failed reading is not kept, so the next scrape tries again.
 */
export function sampleAtMostEvery<T>(maxAgeMs: number, read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: T } | null = null;
  let pending: Promise<T> | null = null;
  return () => {
    if (last !== null && performance.now() - last.at < maxAgeMs) return Promise.resolve(last.value);
    pending ??= read()
      .then((value) => {
        last = { at: performance.now(), value };
        return value;
      })
      .finally(() => {
        pending = null;
      });
    return pending;
  };
}
