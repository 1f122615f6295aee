import { forbidden, hasScope, isUuid, pageSize, ROLE_SCOPES, requireViewer, toConnection } from "@nexus/core";
import type { Resolvers, ResolversTypes } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import { decodePosition, encodePosition } from "../db/position.ts";
import { endSession, rotateRefreshToken } from "../session/session.service.ts";
import { toUserModel, type UserModel } from "./user.model.ts";
import { findUserById, listUsers } from "./user.repository.ts";
import {
  type AuthResult,
  changePassword,
  issueAccessToken,
  loginUser,
  registerUser,
  setUserRole,
  updateProfile,
} from "./user.service.ts";

/**
 * After a successful sign-in the rest of the response is resolved as the new user,
 * so `register { user { email } }` works on the anonymous request that signed in.
 */
function toAuthPayload(result: AuthResult, ctx: Context): ResolversTypes["AuthPayload"] {
  if (!result.ok) {
    return {
      accessToken: null,
      expiresAt: null,
      refreshToken: null,
      refreshTokenExpiresAt: null,
      user: null,
      userErrors: result.userErrors,
    };
  }
  const { user } = result;
  ctx.viewer = { userId: user.id, role: user.role, scopes: ROLE_SCOPES[user.role], tokenId: "" };
  return {
    accessToken: result.accessToken,
    expiresAt: result.expiresAt,
    refreshToken: result.session.refreshToken,
    refreshTokenExpiresAt: result.session.expiresAt,
    user,
    userErrors: [],
  };
}

/** The account holder and viewers with `users:read:any` see an account's private fields. */
function ownerOrReader(user: UserModel, ctx: Context): void {
  const viewer = requireViewer(ctx.viewer);
  if (viewer.userId !== user.id && !hasScope(viewer, "users:read:any")) {
    throw forbidden("Only the account holder may see this.");
  }
}

const invalidRefreshToken = (code: "INVALID_REFRESH_TOKEN" | "REFRESH_TOKEN_REUSED"): AuthResult => ({
  ok: false,
  userErrors: [
    {
      code,
      field: ["token"],
      message:
        code === "REFRESH_TOKEN_REUSED"
          ? "This refresh token was already used, so every token of its sign-in was revoked. Sign in again."
          : "The refresh token is unknown, expired or revoked. Sign in again.",
    },
  ],
});

export const userResolvers: Resolvers = {
  Query: {
    me: (_parent, _args, ctx) => (ctx.viewer ? ctx.loaders.userById.load(ctx.viewer.userId) : null),
    user: (_parent, { id }, ctx) => ctx.loaders.userById.load(id),
    users: async (_parent, { first, after, search }, ctx) => {
      const limit = pageSize(first);
      const { rows, totalCount } = await listUsers(ctx.db, {
        search: search?.trim() || null,
        after: decodePosition(after),
        limit,
      });
      const page = toConnection(rows, limit, totalCount, (row) => encodePosition(row.position), !!after);
      return {
        ...page,
        edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: toUserModel(edge.node) })),
      };
    },
  },
  Mutation: {
    register: async (_parent, { input }, ctx) => toAuthPayload(await registerUser(ctx, input), ctx),
    login: async (_parent, { input }, ctx) => toAuthPayload(await loginUser(ctx, input, ctx.clientIp), ctx),
    refreshToken: async (_parent, { token }, ctx) => {
      const rotated = await rotateRefreshToken(ctx.db, token);
      if (!rotated.ok) return toAuthPayload(invalidRefreshToken(rotated.code), ctx);
      const row = await findUserById(ctx.db, rotated.userId);
      if (!row) return toAuthPayload(invalidRefreshToken("INVALID_REFRESH_TOKEN"), ctx);
      return toAuthPayload(await issueAccessToken(ctx.signer, toUserModel(row), rotated.session), ctx);
    },
    logout: async (_parent, { refreshToken }, ctx) => {
      await endSession(ctx.db, refreshToken);
      return { success: true, userErrors: [] };
    },
    changePassword: async (_parent, { input }, ctx) =>
      toAuthPayload(await changePassword(ctx, requireViewer(ctx.viewer).userId, input), ctx),
    updateProfile: async (_parent, { input }, ctx) => {
      const result = await updateProfile(ctx.db, requireViewer(ctx.viewer).userId, input);
      return result.ok
        ? { user: result.user, userErrors: [] }
        : { user: null, userErrors: result.userErrors };
    },
    setUserRole: async (_parent, { input }, ctx) => {
      const result = isUuid(input.userId)
        ? await setUserRole(ctx.db, input)
        : {
            ok: false as const,
            userErrors: [{ code: "NOT_FOUND", message: "No such account.", field: ["input", "userId"] }],
          };
      return result.ok
        ? { user: result.user, userErrors: [] }
        : { user: null, userErrors: result.userErrors };
    },
  },
  User: {
    __resolveReference: (ref, ctx) => ctx.loaders.userById.load(ref.id),
    email: (user, _args, ctx) => {
      ownerOrReader(user, ctx);
      return user.email;
    },
    role: (user, _args, ctx) => {
      ownerOrReader(user, ctx);
      return user.role;
    },
    addresses: (user, _args, ctx) => {
      ownerOrReader(user, ctx);
      return ctx.loaders.addressesByUserId.load(user.id);
    },
    defaultAddress: async (user, _args, ctx) => {
      ownerOrReader(user, ctx);
      const addresses = await ctx.loaders.addressesByUserId.load(user.id);
      return addresses.find((address) => address.isDefault) ?? null;
    },
  },
};
