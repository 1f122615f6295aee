import type { Logger, RequestMeta, VerifyAuthorization, Viewer } from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "./db/database.ts";
import type { StoreInfo } from "./mail/message-types.ts";

/** Long-lived dependencies, created once at start-up. */
export interface Deps {
  db: Kysely<Database>;
  verify: VerifyAuthorization;
  logger: Logger;
  /** The store as messages name it (STORE_NAME, STORE_URL, STORE_SUPPORT_EMAIL). */
  store: StoreInfo;
}

/**
 * Per request. The inbox and preferences are only ever the viewer's own, one user per request,
 * so there is nothing for a DataLoader to batch.
 */
export interface Context extends Deps {
  viewer: Viewer | null;
  requestId: string;
}

/** Per request: verify the token, so a bad one is refused here as in every subgraph. */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  return { ...deps, viewer: await deps.verify(request.authorization), requestId: request.requestId ?? "" };
}
