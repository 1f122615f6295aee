import { requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import {
  type AccountDeps,
  changeEmail,
  createCustomer,
  type DoneResult,
  deleteAccount,
  requestPasswordReset,
  resendVerificationEmail,
  resetPassword,
  setUserEmail,
  type UserResult,
  verifyEmail,
} from "./account.service.ts";

const accountDeps = (ctx: Context): AccountDeps => ({
  db: ctx.db,
  relay: ctx.relay,
  logger: ctx.logger,
  secrets: ctx.secrets,
  accountTokens: ctx.accountTokens,
  mailThrottle: ctx.mailThrottle,
});

const done = (result: DoneResult) =>
  result.ok ? { success: true, userErrors: [] } : { success: false, userErrors: result.userErrors };

const userPayload = (result: UserResult) =>
  result.ok ? { user: result.user, userErrors: [] } : { user: null, userErrors: result.userErrors };

export const accountResolvers: Resolvers = {
  Mutation: {
    requestPasswordReset: async (_parent, { input }, ctx) =>
      done(await requestPasswordReset(accountDeps(ctx), input, ctx.clientIp)),
    resetPassword: async (_parent, { input }, ctx) => done(await resetPassword(accountDeps(ctx), input)),
    verifyEmail: async (_parent, { input }, ctx) => done(await verifyEmail(accountDeps(ctx), input)),
    resendVerificationEmail: async (_parent, _args, ctx) =>
      done(await resendVerificationEmail(accountDeps(ctx), requireViewer(ctx.viewer).userId)),
    changeEmail: async (_parent, { input }, ctx) =>
      userPayload(await changeEmail(accountDeps(ctx), requireViewer(ctx.viewer).userId, input)),
    deleteAccount: async (_parent, { input }, ctx) =>
      done(await deleteAccount(accountDeps(ctx), requireViewer(ctx.viewer).userId, input)),
    createCustomer: async (_parent, { input }, ctx) =>
      userPayload(await createCustomer(accountDeps(ctx), input)),
    setUserEmail: async (_parent, { input }, ctx) => userPayload(await setUserEmail(accountDeps(ctx), input)),
  },
};
