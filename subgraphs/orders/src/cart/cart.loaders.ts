import type { Logger } from "@nexus/core";
import DataLoader from "dataloader";
import type { CatalogClient, CatalogProduct } from "../catalog/catalog.client.ts";
import type { InventoryClient } from "../inventory/inventory.client.ts";

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

/**
 * Units available now by product id, for the cart's availability flags: one `_entities` call
 * to inventory per request. Availability only informs the shopper, so when inventory does not
 * answer the cart still works: every line's availability is unknown (null), and it is logged.
 */
export function createAvailabilityLoaders(inventory: InventoryClient, requestId: string, logger: Logger) {
  return {
    availableByProductId: new DataLoader<string, number | null>(async (ids) => {
      try {
        return await inventory.findAvailable(ids, { requestId });
      } catch (error) {
        logger.warn("inventory unavailable; cart availability unknown", { requestId, error });
        return ids.map(() => null);
      }
    }),
  };
}

export type AvailabilityLoaders = ReturnType<typeof createAvailabilityLoaders>;
