import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { DEFAULT_HORIZON_DAYS } from "./churn.model.ts";
import { currentChurnModel, requestChurnTraining } from "./churn-training.service.ts";

export const churnResolvers: Resolvers = {
  Query: {
    churnModel: (_parent, _args, ctx) => currentChurnModel({ db: ctx.db }),
  },
  Mutation: {
    trainChurnModel: (_parent, { input }, ctx) =>
      requestChurnTraining(
        { db: ctx.db, currencyCode: ctx.storeCurrency, training: ctx.churnTraining },
        { asOf: input.asOf ?? null, horizonDays: input.horizonDays ?? DEFAULT_HORIZON_DAYS },
      ),
  },
};
