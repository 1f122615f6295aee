import { DateTimeScalar, mergeResolvers } from "@nexus/core";
import type { Resolvers } from "./__generated__/resolvers-types.ts";
import { stockResolvers } from "./stock/stock.resolvers.ts";

export const resolvers = mergeResolvers<Resolvers>([{ DateTime: DateTimeScalar }, stockResolvers]);
