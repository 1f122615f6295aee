import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { orderRiskAssessment } from "./risk.service.ts";

export const riskResolvers: Resolvers = {
  Order: {
    riskAssessment: (order, _args, ctx) => orderRiskAssessment({ loaders: ctx.loaders }, order.id),
  },
};
