import { DateTimeScalar, mergeResolvers } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { accountResolvers } from "./account/account.resolvers.ts";
import { addressResolvers } from "./address/address.resolvers.ts";
import { nodeResolvers } from "./node/node.resolvers.ts";
import { partnerResolvers } from "./partner/partner.resolvers.ts";
import { userResolvers } from "./user/user.resolvers.ts";

export const resolvers = mergeResolvers<Resolvers>([
  { DateTime: DateTimeScalar },
  userResolvers,
  accountResolvers,
  addressResolvers,
  partnerResolvers,
  nodeResolvers,
]);
