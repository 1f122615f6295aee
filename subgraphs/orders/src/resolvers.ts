import { DateTimeScalar } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { orderResolvers } from "./order/order.resolvers.ts";

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  ...orderResolvers,
};
