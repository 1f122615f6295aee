import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { salesResolvers } from "./sales/sales.resolvers.ts";

export const resolvers: Resolvers = {
  ...salesResolvers,
};
