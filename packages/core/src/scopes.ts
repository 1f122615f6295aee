import type { Role } from "./auth.ts";

/**
 * Every scope an access token can carry. Scopes, not roles, decide what a token may do:
 * subgraph SDLs name them in `@requiresScopes`, and resolvers check them for the
 * "own data, or anyone's with scope X" rules. Roles only choose which scopes a token gets.
 */
export const SCOPES = {
  "users:read:any": "Read any account, list and search accounts.",
  "users:write:any": "Change any account's role.",
  "partners:manage": "Create, list and revoke partner API clients.",
  "catalog:write": "Create and edit products and categories.",
  "reviews:moderate": "Approve or reject product reviews, and see pending ones.",
  "orders:read:any": "Read any customer's orders.",
  "orders:write:any": "Cancel, ship and deliver any order.",
  "discounts:manage": "Create, change and list discounts.",
  "store:settings": "Configure shipping zones, shipping methods and tax rates.",
  "inventory:read": "See stock internals: on hand, reserved, low-stock reports.",
  "inventory:write": "Set and adjust stock.",
  "insights:read": "Read sales analytics, customer insights, churn risk and order risk.",
  "insights:manage": "Train the insights models.",
  "store:import": "Import a store's history: products, customers and past orders.",
  "events:manage": "See failed events and replay them.",
  "catalog:feed": "Read the product feed as a partner.",
  "orders:status": "Look up an order's status by id as a partner.",
} as const;

export type Scope = keyof typeof SCOPES;

const ADMIN_SCOPES = (Object.keys(SCOPES) as Scope[]).filter(
  (scope) => scope !== "catalog:feed" && scope !== "orders:status",
);

/** The scopes a token is issued with for each role. Customers act on their own data only. */
export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  CUSTOMER: [],
  ADMIN: ADMIN_SCOPES,
  PARTNER: ["catalog:feed", "orders:status"],
};

/** True when the viewer holds `scope`; the basis of "your own, or any with scope" checks. */
export const hasScope = (viewer: { scopes: readonly string[] } | null, scope: Scope): boolean =>
  viewer?.scopes.includes(scope) ?? false;
