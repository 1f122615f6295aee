import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { customerInsights } from "./customers.service.ts";

export const customersResolvers: Resolvers = {
  Query: {
    customerInsights: (_parent, args, ctx) => customerInsights({ db: ctx.db }, args),
  },
  User: {
    __resolveReference: (ref) => ({ id: ref.id }),
    insights: (user, _args, ctx) => ctx.loaders.insightsByCustomerId.load(user.id),
  },
  CustomerInsight: {
    customer: (node) => ({ id: node.customerId }),
    valueAtRisk: (node) => node.valueAtRisk,
    insights: (node) => node,
  },
};
