import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import {
  createLogger,
  createTokenVerifier,
  type Logger,
  loadSubgraphSecrets,
  type RouteHandler,
  sendJson,
  startHttpServer,
} from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import { createAdmission } from "./admission.ts";
import { createApqCache } from "./apq-cache.ts";
import type { Config } from "./config.ts";
import { createContext } from "./context.ts";
import { createCors } from "./cors.ts";
import { createCostBudget } from "./cost-budget.ts";
import { createGateway } from "./gateway.ts";
import { createGraphiqlRoutes } from "./graphiql.ts";
import { createReadinessRoute } from "./health.ts";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics.ts";
import { createApiKeyResolver } from "./partner-keys.ts";
import { loadPersistedManifests } from "./persisted-manifests.ts";
import { useDemandControl } from "./plugins/demand-control.ts";
import { useIntrospectionPolicy } from "./plugins/introspection-policy.ts";
import { createRequestMetrics } from "./plugins/metrics.ts";
import { useOperationLimits } from "./plugins/operation-limits.ts";
import { usePersistedOperations } from "./plugins/persisted-operations.ts";
import { createClientLimits } from "./rate-limit.ts";
import { createServer } from "./server.ts";

/** Longest wait for Redis on an APQ lookup before it counts as a miss; a healthy Redis answers in about a millisecond. */
const APQ_REDIS_TIMEOUT_MS = 250;

export interface RunningGateway {
  /** The GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string;
  stop(): Promise<void>;
}

/** Loads the supergraph and serves it. Used by index.ts and by end-to-end tests. */
export async function startGateway(
  config: Config,
  logger: Logger = createLogger("gateway", config.logLevel),
): Promise<RunningGateway> {
  // Before connecting anything: a broken manifest stops the start.
  const manifests = loadPersistedManifests(config.persistedOperationsDir);
  const redis = await connectRedis(config.redisUrl);
  const metrics = createGatewayMetrics();
  const requestMetrics = createRequestMetrics(metrics);
  const subgraphSecrets = await loadSubgraphSecrets(config, logger);
  const verify = createTokenVerifier({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    jwksUrl: config.auth.jwksUrl,
  });
  const resolveApiKey = createApiKeyResolver({
    exchangeUrl: config.partnerTokenUrl,
    cacheSeconds: config.partnerKeyCacheSeconds,
    timeoutMs: config.subgraphTimeoutMs,
    secrets: subgraphSecrets,
    logger,
  });
  const { limits } = config;
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
  const { maxInFlight, maxEventLoopDelayMs } = config.overload;
  const admission = createAdmission({ maxInFlight, maxEventLoopDelayMs, metrics });
  const cors = createCors(config.corsOrigins);
  const gateway = createGateway({
    supergraphSdl: config.supergraphSdl,
    subgraphUrls: config.subgraphUrls,
    subgraphTimeoutMs: config.subgraphTimeoutMs,
    subgraphTimeoutsMs: config.subgraphTimeoutsMs,
    subgraphRetries: config.subgraphRetries,
    subgraphRetryBackoffMs: config.subgraphRetryBackoffMs,
    circuitBreakerFailures: config.circuitBreakerFailures,
    circuitBreakerCooldownMs: config.circuitBreakerCooldownMs,
    subgraphSecrets,
    metrics,
    logger,
  });

  const { introspection } = config;

  // ApolloServer.start() inside loads the supergraph and builds the query planner, so once
  // this resolves `/health` answering 200 means the gateway can plan and serve operations.
  const apollo = createServer({
    gateway,
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
    plugins: [
      // First: the other policies then see the operation a persisted id stands for.
      usePersistedOperations({
        manifests,
        mode: config.persistedOperationsMode,
        clientModes: config.persistedOperationsClientModes,
        metrics,
        logger,
      }),
      requestMetrics.useMetrics(),
      // The schema is the admins' in production: no introspection and no "Did you mean" for others.
      useIntrospectionPolicy({
        mayIntrospect: (viewer) =>
          introspection === "on" || (introspection === "admin" && viewer?.role === "ADMIN"),
      }),
      // The budget is charged only once every limit has passed (see demand-control.ts).
      useOperationLimits({ limits, metrics }),
      useDemandControl({
        supergraphSdl: config.supergraphSdl,
        maxCost: limits.maxCost,
        limits: clientLimits,
        metrics,
      }),
    ],
  });
  const http = await startHttpServer({
    apollo,
    host: config.host,
    port: config.port,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    // CORS first, so a preflight is never shed and a 503 carries the CORS headers its page needs.
    intercept: (req, res) => cors(req, res) || admission.intercept(req, res),
    onGraphQLResponse: requestMetrics.observe,
    // A client known to be over its rate limit is refused as soon as it is known, before Apollo
    // Server parses anything (see rate-limit.ts for why it is not a plugin).
    context: async (req) => {
      const context = requestMetrics.remember(
        req,
        await createContext({ verify, resolveApiKey, trustedProxyHops: config.trustedProxyHops }, req),
      );
      clientLimits.refuseKnownOverRate(context);
      return context;
    },
    routes: {
      "GET /ready": createReadinessRoute(config.subgraphUrls, config.subgraphTimeoutMs, subgraphSecrets),
      "GET /metrics": createMetricsRoute(metrics, config.metricsToken),
      ...(config.graphiql === "off" ? {} : createGraphiqlRoutes(config.graphiql)),
    },
  });
  logger.info("gateway ready", {
    url: http.url,
    graphiql: config.graphiql === "off" ? null : http.url.replace(/\/graphql$/, "/graphiql"),
    introspection,
    supergraph: config.supergraphPath,
    subgraphs: config.subgraphUrls,
    persistedOperations: Object.fromEntries([...manifests].map(([client, byId]) => [client, byId.size])),
  });

  return {
    url: http.url,
    async stop() {
      admission.stop();
      await http.close();
      redis.disconnect();
    },
  };
}

/**
 * `GET /metrics` in Prometheus' text format. With `METRICS_TOKEN` set, scrapers must send it as
 * a bearer token: operation and client names are not for the public.
 */
function createMetricsRoute(metrics: GatewayMetrics, token: string | undefined): RouteHandler {
  return async (req, res) => {
    if (token !== undefined && !bearerMatches(req, token)) {
      res.setHeader("www-authenticate", "Bearer");
      return sendJson(res, 401, { error: "Send the metrics token as a bearer token." });
    }
    res.setHeader("content-type", metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  };
}

function bearerMatches(req: IncomingMessage, token: string): boolean {
  const sent = Buffer.from(req.headers.authorization ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}
