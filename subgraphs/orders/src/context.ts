import type { Logger, RequestMeta, VerifyAuthorization, Viewer } from "@nexus/core";
import type { OutboxRelay } from "@nexus/events";
import type { Kysely } from "kysely";
import {
  type AvailabilityLoaders,
  type CatalogLoaders,
  createAvailabilityLoaders,
  createCatalogLoaders,
} from "./cart/cart.loaders.ts";
import type { CartStore } from "./cart/cart.store.ts";
import type { CatalogClient } from "./catalog/catalog.client.ts";
import type { Database } from "./db/database.ts";
import { createDiscountLoaders, type DiscountLoaders } from "./discount/discount.loaders.ts";
import type { InventoryClient } from "./inventory/inventory.client.ts";
import { createOrderLoaders, type OrderLoaders } from "./order/order.loaders.ts";
import type { PaymentProvider } from "./payment/payment.provider.ts";
import { createRefundLoaders, type RefundLoaders } from "./refund/refund.loaders.ts";
import { createShipmentLoaders, type ShipmentLoaders } from "./shipment/shipment.loaders.ts";
import { createShippingLoaders, type ShippingLoaders } from "./shipping/shipping.loaders.ts";
import { createTaxLoaders, type TaxLoaders } from "./tax/tax.loaders.ts";
import type { UsersClient } from "./users/users.client.ts";
import { createWishlistLoaders, type WishlistLoaders } from "./wishlist/wishlist.loaders.ts";

/** Long-lived dependencies, created once at start-up. */
export interface Deps {
  db: Kysely<Database>;
  verify: VerifyAuthorization;
  catalog: CatalogClient;
  carts: CartStore;
  /** Asked how many units are available, for the cart's availability flags; never reserves. */
  inventory: InventoryClient;
  /** Whether visitors may check out a guest cart without an account (GUEST_CHECKOUT). */
  guestCheckout: boolean;
  payments: PaymentProvider;
  /** Publishes committed outbox rows now instead of at the next poll. */
  relay: Pick<OutboxRelay, "flush">;
  logger: Logger;
  /** Reads a customer's address book from users, for checkout by saved address. */
  users: UsersClient;
  /** Checkout refuses a token without `email_verified: true` (REQUIRE_VERIFIED_EMAIL). */
  requireVerifiedEmail: boolean;
  /** The currency carts and orders are in (STORE_CURRENCY); a product priced in another is not sold. */
  storeCurrency: string;
  /** Catalog prices and shipping rates include tax (PRICES_INCLUDE_TAX). */
  pricesIncludeTax: boolean;
}

export interface Context extends Deps {
  viewer: Viewer | null;
  /** The request's `Authorization` header, forwarded to users so its ownership rules apply. */
  authorization: string | undefined;
  requestId: string;
  loaders: OrderLoaders &
    CatalogLoaders &
    WishlistLoaders &
    AvailabilityLoaders &
    RefundLoaders &
    ShipmentLoaders &
    ShippingLoaders &
    DiscountLoaders &
    TaxLoaders;
}

/** Per request: verify the token and build fresh loaders, so no cache outlives a request. */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  const requestId = request.requestId ?? "";
  return {
    ...deps,
    viewer: await deps.verify(request.authorization),
    authorization: request.authorization,
    requestId,
    loaders: {
      ...createOrderLoaders(deps.db),
      ...createCatalogLoaders(deps.catalog, requestId),
      ...createWishlistLoaders(deps.db),
      ...createAvailabilityLoaders(deps.inventory, requestId, deps.logger),
      ...createRefundLoaders(deps.db),
      ...createShipmentLoaders(deps.db),
      ...createShippingLoaders(deps.db),
      ...createDiscountLoaders(deps.db),
      ...createTaxLoaders(deps.db),
    },
  };
}
