import { createLogger, type Logger, startHttpServer } from "@nexus/core";
import type { Config } from "./config.ts";
import { createPipeline } from "./pipeline.ts";

export interface RunningGateway {
  /** The GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Loads the supergraph and serves it: config -> pipeline -> listen. Used by index.ts and by
 * end-to-end tests. The request path itself is `pipeline.ts`.
 */
export async function startGateway(
  config: Config,
  logger: Logger = createLogger("gateway", config.logLevel),
): Promise<RunningGateway> {
  if (config.production && config.metricsToken === undefined) {
    logger.warn(
      "METRICS_TOKEN is not set: /metrics answers anyone who reaches the gateway; set it or block /metrics",
    );
  }
  const pipeline = await createPipeline(config, logger);
  // ApolloServer.start() inside loads the supergraph and builds the query planner, so once
  // this resolves `/health` answering 200 means the gateway can plan and serve operations.
  const http = await startHttpServer({ ...pipeline.http, host: config.host, port: config.port, logger });
  logger.info("gateway ready", {
    url: http.url,
    graphiql: config.graphiql === "off" ? null : http.url.replace(/\/graphql$/, "/graphiql"),
    introspection: config.introspection,
    supergraph: config.supergraphPath,
    subgraphs: config.subgraphUrls,
    persistedOperations: pipeline.persistedOperations,
  });

  return {
    url: http.url,
    async stop() {
      // Open subscriptions would keep the HTTP server from closing: their connections go first.
      await pipeline.closeSubscriptions();
      await http.close();
      await pipeline.stop();
    },
  };
}
