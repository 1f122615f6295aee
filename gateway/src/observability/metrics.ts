import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Latency buckets in seconds: from a cached 1 ms answer up to the default subgraph timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A limit decides in microseconds from memory, about a millisecond through Redis, and at most the Redis timeout. */
const DECISION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5];

/**
 * Every instrument the gateway exposes at `/metrics`, in one registry per gateway (tests start
 * several in one process). Plugins and the data source record into it; they never create
 * instruments of their own, so the full list of series is in this one file.
 */
export function createGatewayMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "nexus_gateway_" });
  const registers = [registry];

  return {
    registry,
    /** One per GraphQL request answered, by operation name, client and HTTP status. */
    requests: new Counter({
      name: "nexus_gateway_requests_total",
      help: "GraphQL requests answered, by operation name, client and HTTP status.",
      labelNames: ["operation", "client", "status"] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: "nexus_gateway_request_duration_seconds",
      help: "Time from receiving a GraphQL request to sending its response.",
      labelNames: ["operation", "client"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    /** One per error in a response, by `extensions.code`. */
    errors: new Counter({
      name: "nexus_gateway_errors_total",
      help: "Errors returned to clients, by extensions.code.",
      labelNames: ["code"] as const,
      registers,
    }),
    subgraphFetchDuration: new Histogram({
      name: "nexus_gateway_subgraph_fetch_duration_seconds",
      help: "Subgraph fetches by subgraph and outcome (ok, error, timeout, unreachable, circuit_open).",
      labelNames: ["subgraph", "outcome"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    subgraphRetries: new Counter({
      name: "nexus_gateway_subgraph_retries_total",
      help: "Subgraph query fetches sent again after a transient failure.",
      labelNames: ["subgraph"] as const,
      registers,
    }),
    subgraphDeduplicated: new Counter({
      name: "nexus_gateway_subgraph_deduplicated_total",
      help: "Subgraph fetches answered by an identical fetch already in flight.",
      labelNames: ["subgraph"] as const,
      registers,
    }),
    /** 0 closed, 1 half-open, 2 open. */
    circuitState: new Gauge({
      name: "nexus_gateway_subgraph_circuit_state",
      help: "Circuit breaker per subgraph: 0 closed, 1 half-open (one trial fetch), 2 open (failing fast).",
      labelNames: ["subgraph"] as const,
      registers,
    }),
    /** Lookups in the gateway's caches (`apq`, `partner_key` ...): hit, miss, or error (Redis failed or was slow: a miss too). */
    cacheLookups: new Counter({
      name: "nexus_gateway_cache_lookups_total",
      help: "Cache lookups by cache and result (hit, miss, error).",
      labelNames: ["cache", "result"] as const,
      registers,
    }),
    /** Response cache lookups per operation: hit (local or redis), miss, or skip (not cacheable, or Redis failed). */
    responseCacheLookups: new Counter({
      name: "nexus_gateway_response_cache_lookups_total",
      help: "Response cache lookups by operation and result (hit_local, hit_redis, miss, skip).",
      labelNames: ["operation", "result"] as const,
      registers,
    }),
    /** Responses stored, and their bytes; `refused` were stale on arrival (an invalidation overtook them) or too large. */
    responseCacheStores: new Counter({
      name: "nexus_gateway_response_cache_stores_total",
      help: "Responses offered to the response cache by outcome (stored, stale, too_large, error).",
      labelNames: ["outcome"] as const,
      registers,
    }),
    responseCacheStoredBytes: new Counter({
      name: "nexus_gateway_response_cache_stored_bytes_total",
      help: "Bytes of response bodies stored in the response cache.",
      registers,
    }),
    /** Bytes held by this replica's in-process layer. */
    responseCacheLocalBytes: new Gauge({
      name: "nexus_gateway_response_cache_local_bytes",
      help: "Bytes of response bodies held in this replica's in-process response cache.",
      registers,
    }),
    /** Entries the in-process layer dropped to make room (Redis evicts by TTL and its own maxmemory policy). */
    responseCacheEvictions: new Counter({
      name: "nexus_gateway_response_cache_evictions_total",
      help: "Entries evicted from this replica's in-process response cache to make room.",
      registers,
    }),
    /** Change notices applied, and the entries they removed. */
    responseCacheInvalidations: new Counter({
      name: "nexus_gateway_response_cache_invalidations_total",
      help: "Change notices applied to the response cache, by source channel.",
      labelNames: ["source"] as const,
      registers,
    }),
    responseCacheInvalidatedEntries: new Counter({
      name: "nexus_gateway_response_cache_invalidated_entries_total",
      help: "Response cache entries removed by change notices (Redis and this replica's memory).",
      labelNames: ["layer"] as const,
      registers,
    }),
    /**
     * Trusted-document outcomes: hit (an id resolved from a manifest), unknown_id and
     * freeform_refused (refused in enforce mode), unknown_id_audited and freeform_audited (run in
     * audit mode). Counted for partners, and for other clients only on a hit, so `client` is
     * always a name with a manifest or a partner's.
     */
    persistedOperations: new Counter({
      name: "nexus_gateway_persisted_operations_total",
      help: "Persisted operation outcomes of partners, and manifest ids resolved for other clients, by client and outcome.",
      labelNames: ["client", "result"] as const,
      registers,
    }),
    /** Operations refused by a limit: depth, aliases, directives, tokens, cost, budget, rate. */
    limitRejections: new Counter({
      name: "nexus_gateway_limit_rejections_total",
      help: "Requests refused by a limit, by limit.",
      labelNames: ["limit"] as const,
      registers,
    }),
    /**
     * How long the rate limit and cost budget took to decide, by where the decision came from:
     * `known` (a window known to be used up, no Redis), `redis`, or `local` (Redis did not
     * answer in time; this replica's buckets decided).
     */
    limitDecisionDuration: new Histogram({
      name: "nexus_gateway_limit_decision_duration_seconds",
      help: "Time from the start of a request's rate limit and budget check to its decision, by source (known, redis, local).",
      labelNames: ["source"] as const,
      buckets: DECISION_BUCKETS,
      registers,
    }),
    /** Requests refused with 503 before any work because the gateway was saturated. */
    shedRequests: new Counter({
      name: "nexus_gateway_shed_requests_total",
      help: "GraphQL requests refused with 503 SERVER_OVERLOADED, by reason (in_flight, event_loop_delay).",
      labelNames: ["reason"] as const,
      registers,
    }),
    inFlightRequests: new Gauge({
      name: "nexus_gateway_in_flight_requests",
      help: "GraphQL requests admitted and not yet answered.",
      registers,
    }),
    openSubscriptions: new Gauge({
      name: "nexus_gateway_open_subscriptions",
      help: "Subscriptions open on this gateway process, over SSE and WebSocket together.",
      registers,
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
