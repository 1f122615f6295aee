import { DateTimeScalar, mergeResolvers } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { categoryResolvers } from "./category/category.resolvers.ts";
import { productResolvers } from "./product/product.resolvers.ts";
import { reviewResolvers } from "./review/review.resolvers.ts";

export const resolvers = mergeResolvers<Resolvers>([
  { DateTime: DateTimeScalar },
  productResolvers,
  categoryResolvers,
  reviewResolvers,
]);
