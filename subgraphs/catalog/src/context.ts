import type { Logger, RequestMeta, VerifyAuthorization, Viewer } from "@nexus/core";
import { type CategoryLoaders, createCategoryLoaders } from "./category/category.loaders.ts";
import type { CategoryNotices } from "./category/category-notices.store.ts";
import type { CatalogDb } from "./db/collections.ts";
import type { ProductCache } from "./product/product.cache.ts";
import { createProductLoaders, type ProductLoaders } from "./product/product.loaders.ts";
import { createReviewLoaders, type ReviewLoaders } from "./review/review.loaders.ts";
import type { ReviewSettings } from "./review/review.service.ts";
import type { SearchIndex } from "./search/search-index.ts";

/** Long-lived dependencies, created once at start-up. */
export interface Deps {
  db: CatalogDb;
  verify: VerifyAuthorization;
  logger: Logger;
  /** Null when caching is switched off (`CATALOG_CACHE_TTL_SECONDS=0`). */
  cache: ProductCache | null;
  /** REVIEW_AUTO_APPROVE_VERIFIED and REVIEW_BLOCKED_WORDS. */
  reviews: ReviewSettings;
  /** The currency every price written must be in (STORE_CURRENCY). */
  storeCurrency: string;
  /** This replica's search index (null before its first build is in: `search.engine()`). */
  search: SearchIndex;
  /** Category changes told to the gateway's response cache. */
  notices?: CategoryNotices;
}

export interface Context extends Deps {
  viewer: Viewer | null;
  requestId: string;
  loaders: ProductLoaders & CategoryLoaders & ReviewLoaders;
}

/** Per request: verify the token and build fresh loaders, so no in-process cache outlives a request. */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  const viewer = await deps.verify(request.authorization);
  return {
    ...deps,
    viewer,
    requestId: request.requestId ?? "",
    loaders: {
      ...createProductLoaders(deps.db, deps.cache, deps.logger),
      ...createCategoryLoaders(deps.db),
      ...createReviewLoaders(deps.db, viewer),
    },
  };
}
