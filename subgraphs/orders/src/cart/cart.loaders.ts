import DataLoader from "dataloader";
import type { CatalogClient, CatalogProduct } from "../catalog/catalog.client.ts";

/**
 * Current catalog products by id, for cart prices: every price a request needs comes from one
 * `_entities` call to catalog, whatever the number of lines.
 */
export function createCatalogLoaders(catalog: CatalogClient, requestId: string) {
  return {
    catalogProductById: new DataLoader<string, CatalogProduct | null>((ids) =>
      catalog.findProductsByIds(ids, { requestId }),
    ),
  };
}

export type CatalogLoaders = ReturnType<typeof createCatalogLoaders>;
