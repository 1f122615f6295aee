import type { Logger, RequestMeta, VerifyAuthorization, Viewer } from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "./db/database.ts";
import { createStockLoaders, type StockLoaders } from "./stock/stock.loaders.ts";

/** Long-lived dependencies, created once at start-up. */
export interface Deps {
  db: Kysely<Database>;
  verify: VerifyAuthorization;
  logger: Logger;
  /** LOW_STOCK_THRESHOLD: products without a threshold of their own are low at or below it. */
  lowStockThreshold: number;
}

export interface Context extends Deps {
  viewer: Viewer | null;
  requestId: string;
  loaders: StockLoaders;
}

/** Per request: verify the token and build fresh loaders, so no cache outlives a request. */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  return {
    ...deps,
    viewer: await deps.verify(request.authorization),
    requestId: request.requestId ?? "",
    loaders: createStockLoaders(deps.db, { lowStockThreshold: deps.lowStockThreshold }),
  };
}
