import { DateTimeScalar } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { addressResolvers } from "./address/address.resolvers.ts";
import { partnerResolvers } from "./partner/partner.resolvers.ts";
import { userResolvers } from "./user/user.resolvers.ts";

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  ...userResolvers,
  Query: { ...userResolvers.Query, ...partnerResolvers.Query },
  Mutation: { ...userResolvers.Mutation, ...addressResolvers.Mutation, ...partnerResolvers.Mutation },
};
