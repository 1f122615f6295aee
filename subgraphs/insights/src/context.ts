import type { Logger, RequestMeta, VerifyAuthorization, Viewer } from "@nexus/core";
import type { FailedEvents } from "@nexus/events";
import type { Kysely } from "kysely";
import type { ChurnTrainingQueue } from "./churn/churn.model.ts";
import { type CustomerLoaders, createCustomerLoaders } from "./customers/customers.loaders.ts";
import type { Database } from "./db/database.ts";
import { createForecastLoaders, type ForecastLoaders } from "./forecast/forecast.loaders.ts";
import type { CatalogClient } from "./recommendations/catalog.client.ts";
import {
  createRecommendationLoaders,
  type RecommendationLoaders,
} from "./recommendations/recommendations.loaders.ts";
import type { RecommendationsRefresh } from "./recommendations/recommendations.sweeper.ts";
import { createRiskLoaders, type RiskLoaders } from "./risk/risk.loaders.ts";

/** Long-lived dependencies, created once at start-up. */
export interface Deps {
  db: Kysely<Database>;
  verify: VerifyAuthorization;
  logger: Logger;
  /** Every consumer queue's failed jobs, for the admin fields. */
  failedEvents: FailedEvents;
  /** The currency figures are reported in when a query names none (STORE_CURRENCY). */
  storeCurrency: string;
  /** Queues churn trainings (`trainChurnModel`). */
  churnTraining: ChurnTrainingQueue;
  /** Asked which recommended products are for sale now. */
  catalog: CatalogClient;
  /** Queues a rebuild of the recommendations (`refreshRecommendations`). */
  recommendationsRefresh: Pick<RecommendationsRefresh, "requestNow">;
}

/** Per-request DataLoaders: customer insights, recommendations, forecasts and order risk. */
export type Loaders = CustomerLoaders & RecommendationLoaders & ForecastLoaders & RiskLoaders;

/**
 * Per request. Everything insights computes per entity (a customer's insights, a product's
 * neighbours and forecast, an order's risk) goes through `loaders`; the list fields are single
 * queries or a read of a BullMQ failed set. The products and users insights returns are stubs
 * the gateway resolves elsewhere.
 */
export interface Context extends Deps {
  viewer: Viewer | null;
  requestId: string;
  loaders: Loaders;
}

/** Per request: verify the token, so a bad one is refused here as in every subgraph. */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  const requestId = request.requestId ?? "";
  return {
    ...deps,
    viewer: await deps.verify(request.authorization),
    requestId,
    loaders: {
      ...createCustomerLoaders(deps.db),
      ...createRecommendationLoaders(deps, requestId),
      ...createForecastLoaders(deps),
      ...createRiskLoaders(deps),
    },
  };
}
