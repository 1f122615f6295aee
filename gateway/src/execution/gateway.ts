import { ApolloGateway } from "@apollo/gateway";
import type { GatewayInterface } from "@apollo/server-gateway-interface";
import type { Logger, SubgraphSecrets } from "@nexus/core";
import type { ResilienceConfig } from "../config.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";
import { declareAccessDirectivesEnforced } from "../operation/access-control.ts";
import { SubgraphDataSource } from "./datasource.ts";

export interface CreateGatewayOptions {
  /** The composed supergraph: the checked-in file in production, a test's own in tests. */
  supergraphSdl: string;
  /** Replaces the URL composed into the supergraph, by subgraph name. */
  subgraphUrls?: Readonly<Record<string, string>>;
  /** Timeouts (per subgraph by name, else the default), retries and circuit breaker. */
  resilience: ResilienceConfig;
  /** Every subgraph fetch is signed with these: subgraphs answer no one else. */
  subgraphSecrets: SubgraphSecrets;
  metrics: GatewayMetrics;
  logger: Logger;
}

/**
 * An ApolloGateway over a static supergraph: no Apollo Uplink, no polling, no introspection
 * of subgraphs at start-up, so what is served is exactly the supergraph that was reviewed and
 * checked in, and the gateway starts even while subgraphs are still starting. The access
 * directives are declared enforced here; `pipeline.ts` wraps the executor that enforces them.
 */
export function createGateway(options: CreateGatewayOptions): GatewayInterface {
  const { logger } = options;
  return new ApolloGateway({
    supergraphSdl: declareAccessDirectivesEnforced(options.supergraphSdl),
    // Each fetch's operation comes parsed: the data source reads its type (only queries are
    // retried and shared) and, when the fetch fails, the fields it leaves missing.
    queryPlannerConfig: { exposeDocumentNodeInFetchNode: true },
    buildService: ({ name, url }) =>
      new SubgraphDataSource({
        name,
        url: options.subgraphUrls?.[name] ?? requireUrl(name, url),
        resilience: options.resilience,
        secrets: options.subgraphSecrets,
        metrics: options.metrics,
        logger,
      }),
    // Apollo's start-up banner is multi-line text; app.ts logs one structured "ready" line instead.
    logger: {
      debug: (message: unknown) => logger.debug(String(message)),
      info: (message: unknown) => logger.debug(String(message)),
      warn: (message: unknown) => logger.warn(String(message)),
      error: (message: unknown) => logger.error(String(message)),
    },
  });
}

function requireUrl(name: string, url: string | undefined): string {
  if (!url) throw new Error(`The supergraph gives no URL for subgraph "${name}".`);
  return url;
}
