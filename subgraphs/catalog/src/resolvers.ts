import { DateTimeScalar } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { categoryResolvers } from "./category/category.resolvers.ts";
import { productResolvers } from "./product/product.resolvers.ts";

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  ...productResolvers,
  ...categoryResolvers,
  // Both modules add root fields, so Query is merged rather than spread.
  Query: { ...productResolvers.Query, ...categoryResolvers.Query },
};
