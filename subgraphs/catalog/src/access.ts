import { forbidden, hasScope, requireViewer, type Scope, type Viewer } from "@nexus/core";
import type { ProductStatus } from "./db/collections.ts";

/**
 * Access rules that depend on arguments, which the SDL's `@requiresScopes` cannot express
 * (e.g. listing non-ACTIVE products). Whole fields are guarded by the directives themselves.
 */
export function requireScope(viewer: Viewer | null, scope: Scope): Viewer {
  const signedIn = requireViewer(viewer);
  if (!hasScope(signedIn, scope)) throw forbidden(`This needs the ${scope} scope.`);
  return signedIn;
}

/** Catalog editors see DRAFT products and can list any status. */
export const isCatalogEditor = (viewer: Viewer | null): boolean => hasScope(viewer, "catalog:write");

/**
 * Whether the viewer may see a product in this status, however it is asked for (`product`,
 * `_entities`): everyone while it is ACTIVE, catalog editors in any status, and feed partners
 * ARCHIVED ones too, which `productFeed` lists so they can delist them. Anyone else gets null,
 * exactly as for an id that does not exist, so DRAFT ids cannot be probed. Server-to-server
 * callers carry no token, so orders' pricing calls see ACTIVE products only.
 */
export function canSeeProduct(viewer: Viewer | null, status: ProductStatus): boolean {
  if (status === "ACTIVE" || isCatalogEditor(viewer)) return true;
  return status === "ARCHIVED" && hasScope(viewer, "catalog:feed");
}
