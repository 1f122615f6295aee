import { forbidden, hasScope, requireViewer, type Scope, type Viewer } from "@nexus/core";

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
