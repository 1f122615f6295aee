import { DateTimeScalar } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { userResolvers } from "./user/user.resolvers.ts";

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  ...userResolvers,
};
