import { DateTimeScalar } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { categoryResolvers } from "./category/category.resolvers.ts";
import { productResolvers } from "./product/product.resolvers.ts";
import { reviewResolvers } from "./review/review.resolvers.ts";

const modules = [productResolvers, categoryResolvers, reviewResolvers];

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  ...productResolvers,
  ...categoryResolvers,
  ...reviewResolvers,
  // Several modules add root fields, so Query and Mutation are merged rather than spread.
  Query: Object.assign({}, ...modules.map((m) => m.Query)),
  Mutation: Object.assign({}, ...modules.map((m) => m.Mutation)),
};
