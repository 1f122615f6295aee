import { createLogger, createTokenVerifier, type Logger, startHttpServer } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import { createApqCache } from "./apq-cache.ts";
import type { Config } from "./config.ts";
import { createContext } from "./context.ts";
import { createGateway } from "./gateway.ts";
import { createSubgraphHealthRoute } from "./health.ts";
import { createGatewayMetrics } from "./metrics.ts";
import { createApiKeyResolver } from "./partner-keys.ts";
import { loadPersistedManifests } from "./persisted-manifests.ts";
import { usePersistedOperations } from "./plugins/persisted-operations.ts";
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
  const gateway = createGateway({
    supergraphSdl: config.supergraphSdl,
    subgraphUrls: config.subgraphUrls,
    subgraphTimeoutMs: config.subgraphTimeoutMs,
    logger,
  });

  // ApolloServer.start() inside loads the supergraph and builds the query planner, so once
  // this resolves `/health` answering 200 means the gateway can plan and serve operations.
  const apollo = createServer({
    gateway,
    logger,
    production: config.production,
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
    ],
  });
  const http = await startHttpServer({
    apollo,
    host: config.host,
    port: config.port,
    logger,
    context: (req) =>
      createContext({ verify, resolveApiKey, trustedProxyHops: config.trustedProxyHops }, req),
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
    persistedOperations: Object.fromEntries([...manifests].map(([client, byId]) => [client, byId.size])),
  });

  return {
    url: http.url,
    async stop() {
      await http.close();
      redis.disconnect();
    },
  };
}
