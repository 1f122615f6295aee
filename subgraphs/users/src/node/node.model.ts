/**
 * A node another subgraph owns, as `node` returns it: its type and raw id. The gateway fetches
 * every other field from the owner, whose `__resolveReference` decides what the viewer may see.
 */
export interface NodeRef {
  __typename: string;
  id: string;
}

/** More ids than this in one `nodes` call is BAD_USER_INPUT (the schema's `@listSize` says the same). */
export const MAX_NODES = 100;
