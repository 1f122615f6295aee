import type { Logger, RequestMeta, VerifyAuthorization, Viewer } from "@nexus/core";
import type { FailedEvents } from "@nexus/events";
import type { Kysely } from "kysely";
import type { Database } from "./db/database.ts";
import { createForecastLoaders, type ForecastLoaders } from "./forecast/forecast.loaders.ts";
import type { CatalogClient } from "./recommendations/catalog.client.ts";
import {
  createRecommendationLoaders,
  type RecommendationLoaders,
} from "./recommendations/recommendations.loaders.ts";
import { createRiskLoaders, type RiskLoaders } from "./risk/risk.loaders.ts";

/** Long-lived dependencies, created once at start-up. */
export interface Deps {
  db: Kysely<Database>;
  verify: VerifyAuthorization;
  logger: Logger;
  /** Every consumer queue's failed jobs, for the admin fields. */
  failedEvents: FailedEvents;
  /** Asked which recommended products are for sale now. */
  catalog: CatalogClient;
}

/** Per-request DataLoaders of the recommendations, forecasts and order risk. */
export type ModelLoaders = RecommendationLoaders & ForecastLoaders & RiskLoaders;

/**
 * The products insights returns are stubs the gateway resolves in catalog. What it computes per
 * entity (a product's neighbours and forecast, an order's risk) goes through `modelLoaders`.
 */
export interface Context extends Deps {
  viewer: Viewer | null;
  requestId: string;
  modelLoaders: ModelLoaders;
}

/** Per request: verify the token, so a bad one is refused here as in every subgraph. */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  const requestId = request.requestId ?? "";
  return {
    ...deps,
    viewer: await deps.verify(request.authorization),
    requestId,
    modelLoaders: {
      ...createRecommendationLoaders(deps, requestId),
      ...createForecastLoaders(deps),
      ...createRiskLoaders(deps),
    },
  };
}
