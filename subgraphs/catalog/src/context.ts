import type { Logger, RequestMeta, VerifyAuthorization, Viewer } from "@nexus/core";
import { type CategoryLoaders, createCategoryLoaders } from "./category/category.loaders.ts";
import type { CatalogDb } from "./db/collections.ts";
import { createProductLoaders, type ProductLoaders } from "./product/product.loaders.ts";

/** Long-lived dependencies, created once at start-up. */
export interface Deps {
  db: CatalogDb;
  verify: VerifyAuthorization;
  logger: Logger;
}

export interface Context extends Deps {
  viewer: Viewer | null;
  requestId: string;
  loaders: ProductLoaders & CategoryLoaders;
}

/**
 * Per request: verify the token and build fresh loaders, so no cache outlives a request.
 * No catalog field needs a viewer yet; the token is still checked so a bad one fails here as in
 * every subgraph, and fields that need a viewer later find it in place.
 */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  return {
    ...deps,
    viewer: await deps.verify(request.authorization),
    requestId: request.requestId ?? "",
    loaders: { ...createProductLoaders(deps.db), ...createCategoryLoaders(deps.db) },
  };
}
