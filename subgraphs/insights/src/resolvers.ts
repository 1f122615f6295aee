import { DateTimeScalar } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { failedResolvers } from "./failed/failed.resolvers.ts";
import { salesResolvers } from "./sales/sales.resolvers.ts";

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query: { ...salesResolvers.Query, ...failedResolvers.Query },
  Mutation: { ...failedResolvers.Mutation },
  ProductSales: salesResolvers.ProductSales,
  FailedEvent: failedResolvers.FailedEvent,
};
