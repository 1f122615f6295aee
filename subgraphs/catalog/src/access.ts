import { forbidden, hasScope, requireViewer, type Scope, type Viewer } from "@nexus/core";

/**
 * The catalog's access rules in one place. The SDL declares the same rules with
 * `@authenticated` / `@requiresScopes`; these checks keep them enforced inside the subgraph
 * whatever sits in front of it.
 */
export function requireScope(viewer: Viewer | null, scope: Scope): Viewer {
  const signedIn = requireViewer(viewer);
  if (!hasScope(signedIn, scope)) throw forbidden(`This needs the ${scope} scope.`);
  return signedIn;
}

/** Catalog editors see DRAFT products and can list any status. */
export const isCatalogEditor = (viewer: Viewer | null): boolean => hasScope(viewer, "catalog:write");
