import { createLogger, createTokenVerifier, type Logger, startHttpServer } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import type { Config } from "./config.ts";
import { createContext } from "./context.ts";
import { createCostBudget } from "./cost-budget.ts";
import { createGateway } from "./gateway.ts";
import { createSubgraphHealthRoute } from "./health.ts";
import { createGatewayMetrics } from "./metrics.ts";
import { createApiKeyResolver } from "./partner-keys.ts";
import { useDemandControl } from "./plugins/demand-control.ts";
import { useOperationLimits } from "./plugins/operation-limits.ts";
import { createRateLimit } from "./rate-limit.ts";
import { createServer } from "./server.ts";

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
  const redis = await connectRedis(config.redisUrl);
  const metrics = createGatewayMetrics();
  const verify = createTokenVerifier({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    jwksUrl: config.auth.jwksUrl,
  });
  const resolveApiKey = createApiKeyResolver({
    exchangeUrl: config.partnerTokenUrl,
    cacheSeconds: config.partnerKeyCacheSeconds,
    timeoutMs: config.subgraphTimeoutMs,
    logger,
  });
  const { limits } = config;
  const rateLimit = createRateLimit(redis, {
    prefix: `${config.redisKeyPrefix}:rate`,
    limit: limits.rateLimitPerMinute,
    windowSeconds: 60,
    metrics,
    logger,
  });
  const budget = createCostBudget(redis, {
    prefix: `${config.redisKeyPrefix}:budget`,
    capacity: limits.costBudgetCapacity,
    refillPerSecond: limits.costBudgetRefillPerSecond,
  });
  const gateway = createGateway({
    supergraphSdl: config.supergraphSdl,
    subgraphUrls: config.subgraphUrls,
    subgraphTimeoutMs: config.subgraphTimeoutMs,
    logger,
  });

  // ApolloServer.start() inside loads the supergraph and builds the query planner, so once
  // this resolves `/health` answering 200 means the gateway can plan and serve operations.
  const http = await startHttpServer({
    apollo: createServer({
      gateway,
      logger,
      production: config.production,
      maxTokens: limits.maxTokens,
      plugins: [
        // The budget is charged only once every limit has passed (see demand-control.ts).
        useOperationLimits({ limits, metrics }),
        useDemandControl({
          supergraphSdl: config.supergraphSdl,
          maxCost: limits.maxCost,
          budget,
          metrics,
          logger,
        }),
      ],
    }),
    host: config.host,
    port: config.port,
    logger,
    // The rate limit counts the request as soon as its client is known, before Apollo Server
    // parses anything (see rate-limit.ts for why it is not a plugin).
    context: async (req) => {
      const context = await createContext(
        { verify, resolveApiKey, trustedProxyHops: config.trustedProxyHops },
        req,
      );
      await rateLimit(context);
      return context;
    },
    routes: {
      "GET /health/subgraphs": createSubgraphHealthRoute(config.subgraphUrls, config.subgraphTimeoutMs),
      "GET /metrics": async (_req, res) => {
        res.setHeader("content-type", metrics.registry.contentType);
        res.end(await metrics.registry.metrics());
      },
    },
  });
  logger.info("gateway ready", {
    url: http.url,
    supergraph: config.supergraphPath,
    subgraphs: config.subgraphUrls,
  });

  return {
    url: http.url,
    async stop() {
      await http.close();
      redis.disconnect();
    },
  };
}
