import { forbidden, requireViewer } from "@nexus/core";
import type { Resolvers, ResolversTypes } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import { type AuthResult, loginUser, registerUser } from "./user.service.ts";

/**
 * After a successful sign-in the rest of the response is resolved as the new user,
 * so `register { user { email } }` works on the anonymous request that signed in.
 */
function toPayload(result: AuthResult, ctx: Context): ResolversTypes["AuthPayload"] {
  if (!result.ok) return { accessToken: null, expiresAt: null, user: null, userErrors: result.userErrors };
  ctx.viewer = { userId: result.user.id, role: result.user.role, scopes: [], tokenId: "" };
  return { accessToken: result.accessToken, expiresAt: result.expiresAt, user: result.user, userErrors: [] };
}

export const userResolvers: Resolvers = {
  Query: {
    me: (_parent, _args, ctx) => (ctx.viewer ? ctx.loaders.userById.load(ctx.viewer.userId) : null),
  },
  Mutation: {
    register: async (_parent, { input }, ctx) =>
      toPayload(await registerUser(ctx.db, ctx.signer, input), ctx),
    login: async (_parent, { input }, ctx) => toPayload(await loginUser(ctx.db, ctx.signer, input), ctx),
  },
  User: {
    __resolveReference: (ref, ctx) => ctx.loaders.userById.load(ref.id),
    email: (user, _args, ctx) => {
      const viewer = requireViewer(ctx.viewer);
      if (viewer.userId !== user.id && viewer.role !== "ADMIN")
        throw forbidden("Only the account holder may see this email.");
      return user.email;
    },
  },
};
