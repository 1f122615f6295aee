import type { Logger, RequestMeta, VerifyAuthorization, Viewer } from "@nexus/core";
import type { FailedEvents } from "@nexus/events";
import type { Kysely } from "kysely";
import type { ChurnTrainingQueue } from "./churn/churn.model.ts";
import { type CustomerLoaders, createCustomerLoaders } from "./customers/customers.loaders.ts";
import type { Database } from "./db/database.ts";

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
}

/**
 * Per request. The one loader batches `User.insights`; the other list fields are single queries
 * or a read of a BullMQ failed set, and the products and users they return are stubs the gateway
 * resolves elsewhere.
 */
export interface Context extends Deps {
  viewer: Viewer | null;
  requestId: string;
  loaders: CustomerLoaders;
}

/** Per request: verify the token, so a bad one is refused here as in every subgraph. */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  return {
    ...deps,
    viewer: await deps.verify(request.authorization),
    requestId: request.requestId ?? "",
    loaders: createCustomerLoaders(deps.db),
  };
}
