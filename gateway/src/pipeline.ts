import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import {
  createMetricsRoute,
  createTokenVerifier,
  type HttpServerOptions,
  type Logger,
  loadPersistedManifests,
  loadSubgraphSecrets,
  useTextInputRule,
} from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import { noticeChannels, startInvalidationListener } from "./cache/invalidation.ts";
import { useResponseCache } from "./cache/response-cache.ts";
import { createResponseStore } from "./cache/response-store.ts";
import type { Config } from "./config.ts";
import { createAdmission } from "./edge/admission.ts";
import { createContext, type GatewayContext } from "./edge/context.ts";
import { createCors } from "./edge/cors.ts";
import { createFailOpen } from "./edge/fail-open.ts";
import { createApiKeyResolver } from "./edge/partner-keys.ts";
import { createClientLimits } from "./edge/rate-limit.ts";
import { createGateway } from "./execution/gateway.ts";
import { createGraphiqlRoutes } from "./graphiql/graphiql.ts";
import { clusterMetrics } from "./observability/cluster-metrics.ts";
import { createReadinessRoute } from "./observability/health.ts";
import { createGatewayMetrics } from "./observability/metrics.ts";
import { createRequestMetrics } from "./observability/request-metrics.ts";
import { useAccessControl } from "./operation/access-control.ts";
import { createCostBudget } from "./operation/cost/cost-budget.ts";
import { useDemandControl } from "./operation/cost/demand-control.ts";
import { useIntrospectionPolicy } from "./operation/introspection-policy.ts";
import { useOperationLimits } from "./operation/operation-limits.ts";
import { useOperationSelection } from "./operation/operation-selection.ts";
import { createApqCache } from "./operation/persisted/apq-cache.ts";

import { createPartnerUsageReporter } from "./operation/persisted/partner-usage.ts";
import { usePersistedOperations } from "./operation/persisted/persisted-operations.ts";
import { createServer } from "./operation/server.ts";
import { useSubscriptionExecution, useSubscriptionTransport } from "./subscription/execution.ts";
import { createNoticeHub, listenForOrderUpdates } from "./subscription/notices.ts";
import { createSseEndpoint } from "./subscription/sse.ts";
import { createSubscriptions } from "./subscription/subscriptions.ts";
import { createWebSocketEndpoint } from "./subscription/websocket.ts";

/** Longest wait for Redis on an APQ lookup before it counts as a miss; a healthy Redis answers in about a millisecond. */
const APQ_REDIS_TIMEOUT_MS = 250;
/** The same for a response cache lookup or store: past it the subgraphs answer, and nothing is stored. */
const RESPONSE_CACHE_REDIS_TIMEOUT_MS = 100;

/** The gateway's request path, ready to be served by `startHttpServer`. */
export interface Pipeline {
  http: Omit<HttpServerOptions<GatewayContext>, "host" | "port" | "logger">;
  /** How many operations each persisted-operations client has, for the start-up log. */
  persistedOperations: Record<string, number>;
  /** Ends every subscription and closes its connection; called before the HTTP server closes. */
  closeSubscriptions(): Promise<void>;
  /**
   * Releases what the pipeline holds (the admission timer, Redis) and sends the last partner
   * usage counts; the HTTP server is closed first.
   */
  stop(): Promise<void>;
}

/**
 * Every stage of a GraphQL request through the gateway, in the order a request meets them.
 * Read this file top to bottom to follow one request; each stage's code is in its folder
 * (`edge/`, `operation/`, `execution/`, `observability/`). The rule behind the order: the
 * cheaper a refusal, the earlier it comes, and every refusal comes before the query plan, so a
 * refused request calls no subgraph.
 */
export async function createPipeline(config: Config, logger: Logger): Promise<Pipeline> {
  // Before connecting anything: a broken manifest stops the start.
  const manifests = loadPersistedManifests(config.persistedOperationsDir);
  const redis = await connectRedis(config.redisUrl);
  const metrics = createGatewayMetrics();
  const requestMetrics = createRequestMetrics(metrics);
  const subgraphSecrets = await loadSubgraphSecrets(config, logger);
  const { limits, introspection } = config;

  // ---- 1. HTTP edge (edge/). @nexus/core's startHttpServer first gives the request its id
  // and trace span, then runs `intercept`, then refuses a body over MAX_BODY_BYTES.
  const cors = createCors(config.corsOrigins, { localOrigins: config.corsLocalOrigins });
  const admission = createAdmission({
    maxInFlight: config.overload.maxInFlight,
    maxEventLoopDelayMs: config.overload.maxEventLoopDelayMs,
    metrics,
  });
  // CORS first, so a preflight is never shed and a 503 carries the CORS headers its page needs;
  // then load shedding, before any work is spent on a request the gateway cannot serve in time.
  const intercept: Pipeline["http"]["intercept"] = (req, res) =>
    cors(req, res) || admission.intercept(req, res);

  // ---- 2. Context: who is calling (edge/context.ts), and a client already known to be over
  // its rate limit refused from memory, before Apollo Server parses anything (edge/rate-limit.ts
  // says why that is not a plugin). A bad token or API key is HTTP 401 here.
  const verify = createTokenVerifier({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    jwksUrl: config.auth.jwksUrl,
  });
  const resolveApiKey = createApiKeyResolver({
    exchangeUrl: config.partnerTokenUrl,
    cacheSeconds: config.partnerKeyCacheSeconds,
    resilience: config.resilience,
    secrets: subgraphSecrets,
    logger,
  });
  // Partners' registered operations counted in memory and reported to the users subgraph next to
  // the key exchange, which keeps them for `partnerManifest` (operation/persisted/partner-usage.ts).
  const partnerUsage = createPartnerUsageReporter({
    url: new URL("/partner-usage", config.partnerTokenUrl).href,
    secrets: subgraphSecrets,
    flushMs: config.partnerUsageFlushMs,
    logger,
  });
  const clientLimits = createClientLimits({
    budget: createCostBudget(redis, {
      prefix: `${config.redisKeyPrefix}:budget`,
      capacity: limits.costBudgetCapacity,
      refillPerSecond: limits.costBudgetRefillPerSecond,
    }),
    window: { prefix: `${config.redisKeyPrefix}:rate`, limit: limits.rateLimitPerMinute, windowSeconds: 60 },
    capacity: limits.costBudgetCapacity,
    refillPerSecond: limits.costBudgetRefillPerSecond,
    replicas: config.overload.replicas,
    metrics,
    logger,
  });
  const context: Pipeline["http"]["context"] = async (req) => {
    const created = requestMetrics.remember(
      req,
      await createContext({ verify, resolveApiKey, trustedProxyHops: config.trustedProxyHops }, req),
    );
    clientLimits.refuseKnownOverRate(created);
    return created;
  };

  // ---- 3. Operation (operation/): Apollo Server's own steps (CSRF prevention, no batching,
  // APQ, parsing with the token limit, validation) and then these plugins, whose hooks run in
  // this order. Every refusal here comes before planning.
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    // Apollo's landing page loads from a CDN; GraphiQL is served from bundled assets (graphiql/).
    ApolloServerPluginLandingPageDisabled(),
    // Before the policies, so that their `didResolveOperation` refusals come second: a request
    // with no operation to run, or with text the subgraphs would refuse (@nexus/core's text
    // rule), is HTTP 400 and reaches no subgraph.
    useOperationSelection(),
    useTextInputRule<GatewayContext>(),
    // First policy: the others then see the operation a persisted id stands for.
    usePersistedOperations({
      manifests,
      mode: config.persistedOperationsMode,
      clientModes: config.persistedOperationsClientModes,
      metrics,
      logger,
      usage: partnerUsage,
    }),
    // A subscription only over its transports, and only subscriptions over them (subscription/):
    // after the persisted operations, whose refusals stand in a query for the refused operation.
    useSubscriptionTransport(),
    // Observes every request from here on, refused or served (observability/).
    requestMetrics.useMetrics(),
    // The schema is the admins' in production: no introspection and no "Did you mean" for others.
    useIntrospectionPolicy({
      mayIntrospect: (viewer) =>
        introspection === "on" || (introspection === "admin" && viewer?.role === "ADMIN"),
    }),
    // Depth, aliases and directives: cheap to measure, so before the cost estimate.
    useOperationLimits({ limits, metrics }),
    // Last: the budget is charged only once every other limit has passed (see cost/demand-control.ts).
    useDemandControl({
      supergraphSdl: config.supergraphSdl,
      maxCost: limits.maxCost,
      limits: clientLimits,
      metrics,
    }),
  ];

  // Last plugin: its `responseForOperation` runs after demand control's has charged the
  // budget, so a cached answer passes every policy above and costs what a fresh one would
  // (cache/response-cache.ts). Change notices from catalog and inventory reach every replica.
  const responseCache =
    config.responseCache.mode === "on"
      ? (() => {
          const store = createResponseStore({
            redis,
            prefix: `${config.redisKeyPrefix}:response`,
            localEntries: config.responseCache.localEntries,
            onEvict: () => metrics.responseCacheEvictions.inc(),
            onLocalBytes: (bytes) => metrics.responseCacheLocalBytes.set(bytes),
            guard: createFailOpen({
              timeoutMs: RESPONSE_CACHE_REDIS_TIMEOUT_MS,
              logger,
              what: "response cache",
              instead: "bypassed",
            }),
          });
          const listener = startInvalidationListener({
            redis,
            store,
            channels: noticeChannels(config.responseCache.eventsPrefix),
            metrics,
            logger,
          });
          plugins.push(
            useResponseCache({
              store,
              supergraphSdl: config.supergraphSdl,
              httpMaxAgeSeconds: config.responseCache.httpMaxAgeSeconds,
              maxEntryBytes: config.responseCache.maxEntryBytes,
              metrics,
              logger,
            }),
          );
          return listener;
        })()
      : null;
  // Subscribed before the gateway serves: until then this replica's memory layer is not used.
  await responseCache?.ready();

  // ---- 4. Execution (execution/): access control
  // wraps the executor, so fields the viewer may not see are removed before the query plan and
  // put back as errors after it; then @apollo/gateway plans and each subgraph fetch goes
  // through its data source (timeout, retries, circuit breaker, deduplication, signing).
  // Inside access control, which authorizes a subscription's own fields, a subscription runs as
  // the `order` query it stands for (subscription/execution.ts).
  const executor = useAccessControl(
    useSubscriptionExecution(
      createGateway({
        supergraphSdl: config.supergraphSdl,
        subgraphUrls: config.subgraphUrls,
        resilience: config.resilience,
        subgraphSecrets,
        metrics,
        logger,
      }),
    ),
    config.supergraphSdl,
    (requestContext) => (requestContext as Partial<GatewayContext>).viewer ?? null,
  );

  // Apollo Server runs the operation stage over the executor.
  const apollo = createServer({
    gateway: executor,
    logger,
    introspection: introspection !== "off",
    maxTokens: limits.maxTokens,
    persistedQueries: {
      cache: createApqCache({
        redis,
        keyPrefix: config.redisKeyPrefix,
        metrics,
        logger,
        timeoutMs: APQ_REDIS_TIMEOUT_MS,
      }),
      ttl: config.apqTtlSeconds,
    },
    plugins,
  });

  // ---- Subscriptions (subscription/): orders' notices reach every replica on one Redis channel;
  // each payload is the subscriber's operation run again through `apollo`, so every stage above
  // applies to it. Served over SSE (POST /graphql/stream) and WebSocket (upgrade at /graphql).
  const hub = createNoticeHub();
  const listener = await listenForOrderUpdates({
    redis,
    eventsPrefix: config.subscriptions.eventsPrefix,
    hub,
    logger,
  });
  const subscriptions = createSubscriptions({
    apollo,
    hub,
    maxPerClient: config.subscriptions.maxPerClient,
    logger,
    onOpenChange: (open) => metrics.openSubscriptions.set(open),
  });
  const sse = createSseEndpoint({ subscriptions, context, maxBodyBytes: config.maxBodyBytes });
  const webSocket = createWebSocketEndpoint({
    subscriptions,
    context,
    maxPayloadBytes: config.maxBodyBytes,
    production: config.production,
    logger,
  });

  // ---- 5. Observability (observability/): one access-log line and the request metrics per
  // response, and the routes beside /graphql.
  return {
    http: {
      apollo,
      maxBodyBytes: config.maxBodyBytes,
      intercept,
      context,
      onGraphQLResponse: requestMetrics.observe,
      upgrade: webSocket.upgrade,
      routes: {
        "POST /graphql/stream": sse.route,
        "GET /ready": createReadinessRoute(config.subgraphUrls, config.resilience.timeoutMs, subgraphSecrets),
        "GET /metrics": createMetricsRoute(
          metrics.registry,
          config.metricsToken,
          clusterMetrics(metrics.registry),
        ),
        ...(config.graphiql === "off" ? {} : createGraphiqlRoutes(config.graphiql)),
      },
    },
    persistedOperations: Object.fromEntries([...manifests].map(([client, byId]) => [client, byId.size])),
    async closeSubscriptions() {
      // Connections are dropped (SSE) or closed with 1001 (WebSocket), never completed, so
      // clients subscribe again elsewhere and get the current state first.
      sse.close();
      await webSocket.close();
      subscriptions.closeAll();
      await listener.stop();
    },
    async stop() {
      admission.stop();
      responseCache?.stop();
      redis.disconnect();
      await partnerUsage.stop();
    },
  };
}
