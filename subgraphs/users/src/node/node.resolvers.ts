import { badUserInput, hasScope, looksLikeGlobalId, parseGlobalId } from "@nexus/core";
import { type GraphQLSchema, isObjectType } from "graphql";
import type { Resolvers, ResolversInterfaceTypes, ResolversTypes } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import type { UserModel } from "../user/user.model.ts";
import { MAX_NODES, type NodeRef } from "./node.model.ts";

type NodeValue = ResolversInterfaceTypes<ResolversTypes>["Node"];

/**
 * What one global id names, for `node` and `nodes`: a user (users owns them, so it checks
 * here who may see one), a stub of another owner's type, or null. A raw id says no type and
 * names nothing; a string that claims to be a global id and is not is BAD_USER_INPUT.
 */
async function resolveNode(id: string, ctx: Context, schema: GraphQLSchema): Promise<NodeValue | null> {
  const parsed = parseGlobalId(id);
  if (!parsed) {
    if (looksLikeGlobalId(id)) throw badUserInput(`"${id}" is not a valid id.`, "id");
    return null;
  }
  if (!isNode(schema, parsed.type)) return null;
  if (parsed.type === "User") return visibleUser(await ctx.loaders.userById.load(parsed.raw), ctx);
  const ref: NodeRef = { __typename: parsed.type, id: parsed.raw };
  return ref;
}

/** A node type is an object type of this schema that implements `Node`: new stubs count with no code. */
function isNode(schema: GraphQLSchema, typeName: string): boolean {
  const type = schema.getType(typeName);
  return isObjectType(type) && type.getInterfaces().some((each) => each.name === "Node");
}

/** As `user(id:)` and `me` show accounts: to the account holder and to `users:read:any`. */
function visibleUser(user: UserModel | null, ctx: Context): UserModel | null {
  if (!user || !ctx.viewer) return null;
  return ctx.viewer.userId === user.id || hasScope(ctx.viewer, "users:read:any") ? user : null;
}

export const nodeResolvers: Resolvers = {
  Query: {
    node: (_parent, { id }, ctx, info) => resolveNode(id, ctx, info.schema),
    nodes: (_parent, { ids }, ctx, info) => {
      if (ids.length > MAX_NODES) throw badUserInput(`At most ${MAX_NODES} ids at a time.`, "ids");
      // One promise per position: a bad id fails its own position only, with its error at that
      // index. The generated type has no null for a promise in a list, which graphql-js accepts.
      return ids.map((id) => resolveNode(id, ctx, info.schema) as Promise<NodeValue>);
    },
  },
  Node: {
    __resolveType: (node) => ("__typename" in node ? node.__typename : "User") as never,
  },
};
