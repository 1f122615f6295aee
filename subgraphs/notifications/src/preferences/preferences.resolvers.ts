import { requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { notificationPreferences, updateNotificationPreferences } from "./preferences.service.ts";

export const preferencesResolvers: Resolvers = {
  Query: {
    notificationPreferences: (_parent, _args, ctx) =>
      notificationPreferences({ db: ctx.db }, requireViewer(ctx.viewer)),
  },
  Mutation: {
    updateNotificationPreferences: (_parent, { input }, ctx) =>
      updateNotificationPreferences({ db: ctx.db }, requireViewer(ctx.viewer), input),
  },
};
