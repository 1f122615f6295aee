import type { Logger, RequestMeta, VerifyAuthorization, Viewer } from "@nexus/core";
import type { FailedEvents } from "@nexus/events";
import type { Kysely } from "kysely";
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
}

/**
 * No loaders: insights loads no entity by key. Its list fields are a single aggregate query
 * and a read of a BullMQ failed set, and the products it returns are stubs the gateway
 * resolves in catalog.
 */
export interface Context extends Deps {
  viewer: Viewer | null;
  requestId: string;
}

/** Per request: verify the token, so a bad one is refused here as in every subgraph. */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  return {
    ...deps,
    viewer: await deps.verify(request.authorization),
    requestId: request.requestId ?? "",
  };
}
