import { DateTimeScalar, mergeResolvers } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { inboxResolvers } from "./inbox/inbox.resolvers.ts";
import { preferencesResolvers } from "./preferences/preferences.resolvers.ts";

export const resolvers = mergeResolvers<Resolvers>([
  { DateTime: DateTimeScalar },
  inboxResolvers,
  preferencesResolvers,
]);
