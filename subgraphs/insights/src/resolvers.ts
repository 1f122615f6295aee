import { DateTimeScalar, mergeResolvers } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { cartsResolvers } from "./carts/carts.resolvers.ts";
import { churnResolvers } from "./churn/churn.resolvers.ts";
import { customersResolvers } from "./customers/customers.resolvers.ts";
import { failedResolvers } from "./failed/failed.resolvers.ts";
import { forecastResolvers } from "./forecast/forecast.resolvers.ts";
import { recommendationsResolvers } from "./recommendations/recommendations.resolvers.ts";
import { riskResolvers } from "./risk/risk.resolvers.ts";
import { salesResolvers } from "./sales/sales.resolvers.ts";

export const resolvers = mergeResolvers<Resolvers>([
  { DateTime: DateTimeScalar },
  salesResolvers,
  cartsResolvers,
  failedResolvers,
  churnResolvers,
  customersResolvers,
  recommendationsResolvers,
  forecastResolvers,
  riskResolvers,
]);
