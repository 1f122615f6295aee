import { DateTimeScalar } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { cartResolvers, userCartResolvers } from "./cart/cart.resolvers.ts";
import { checkoutResolvers } from "./checkout/checkout.resolvers.ts";
import { orderResolvers, userOrderResolvers } from "./order/order.resolvers.ts";

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  ...orderResolvers,
  ...cartResolvers,
  Query: { ...orderResolvers.Query, ...cartResolvers.Query },
  Mutation: { ...orderResolvers.Mutation, ...cartResolvers.Mutation, ...checkoutResolvers.Mutation },
  User: {
    __resolveReference: (ref) => ({ id: ref.id }),
    ...userOrderResolvers,
    ...userCartResolvers,
  },
};
