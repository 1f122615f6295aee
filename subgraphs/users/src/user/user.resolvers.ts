import { forbidden, hasScope, isUuid, ROLE_SCOPES, requireViewer, userError } from "@nexus/core";
import type { Resolvers, ResolversTypes } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import { endSession } from "../session/session.service.ts";
import type { UserModel } from "./user.model.ts";
import {
  type AccountChangeDeps,
  type AuthResult,
  changePassword,
  listUserPage,
  loginUser,
  refreshSignIn,
  registerUser,
  type SignInDeps,
  setUserRole,
  updateProfile,
} from "./user.service.ts";
import { importCustomers } from "./user-import.service.ts";

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
  ctx.viewer = {
    userId: user.id,
    role: user.role,
    scopes: ROLE_SCOPES[user.role],
    tokenId: "",
    emailVerified: user.emailVerified,
  };
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

/** The pieces of the context that signing in takes. */
const signInDeps = (ctx: Context): SignInDeps & AccountChangeDeps => ({
  db: ctx.db,
  signer: ctx.signer,
  throttle: ctx.throttle,
  refreshTokenTtlSeconds: ctx.refreshTokenTtlSeconds,
  relay: ctx.relay,
  logger: ctx.logger,
  secrets: ctx.secrets,
  accountTokens: ctx.accountTokens,
});

const publishDeps = (ctx: Context) => ({ db: ctx.db, relay: ctx.relay, logger: ctx.logger });

export const userResolvers: Resolvers = {
  Query: {
    me: (_parent, _args, ctx) => (ctx.viewer ? ctx.loaders.userById.load(ctx.viewer.userId) : null),
    user: (_parent, { id }, ctx) => ctx.loaders.userById.load(id),
    users: (_parent, args, ctx) => listUserPage(ctx.db, args),
  },
  Mutation: {
    register: async (_parent, { input }, ctx) =>
      toAuthPayload(await registerUser(signInDeps(ctx), input), ctx),
    login: async (_parent, { input }, ctx) =>
      toAuthPayload(await loginUser(signInDeps(ctx), input, ctx.clientIp), ctx),
    refreshToken: async (_parent, { token }, ctx) =>
      toAuthPayload(await refreshSignIn({ db: ctx.db, signer: ctx.signer }, token), ctx),
    logout: async (_parent, { refreshToken }, ctx) => {
      await endSession(ctx.db, refreshToken);
      return { success: true, userErrors: [] };
    },
    changePassword: async (_parent, { input }, ctx) =>
      toAuthPayload(await changePassword(signInDeps(ctx), requireViewer(ctx.viewer).userId, input), ctx),
    updateProfile: async (_parent, { input }, ctx) => {
      const result = await updateProfile(publishDeps(ctx), requireViewer(ctx.viewer).userId, input);
      return result.ok
        ? { user: result.user, userErrors: [] }
        : { user: null, userErrors: result.userErrors };
    },
    importCustomers: (_parent, { input }, ctx) => importCustomers(publishDeps(ctx), input),
    setUserRole: async (_parent, { input }, ctx) => {
      const result = isUuid(input.userId)
        ? await setUserRole(publishDeps(ctx), input)
        : {
            ok: false as const,
            userErrors: [userError("NOT_FOUND", "No such account.", ["input", "userId"])],
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
    emailVerified: (user, _args, ctx) => {
      ownerOrReader(user, ctx);
      return user.emailVerified;
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
