import { forbidden, requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import { inbox, markNotificationsRead, unreadCount } from "./inbox.service.ts";

/** The inbox is its owner's alone: nobody else, staff included, may read it. */
function ownerOnly(userId: string, ctx: Context): string {
  const viewer = requireViewer(ctx.viewer);
  if (viewer.userId !== userId) throw forbidden("Only the account holder may see these notifications.");
  return userId;
}

export const inboxResolvers: Resolvers = {
  User: {
    __resolveReference: (ref) => ({ id: ref.id }),
    notifications: (user, args, ctx) =>
      inbox({ db: ctx.db, store: ctx.store }, ownerOnly(user.id, ctx), args),
    unreadNotificationCount: (user, _args, ctx) => unreadCount({ db: ctx.db }, ownerOnly(user.id, ctx)),
  },
  Mutation: {
    markNotificationsRead: (_parent, { input }, ctx) =>
      markNotificationsRead({ db: ctx.db }, requireViewer(ctx.viewer).userId, input),
  },
};
