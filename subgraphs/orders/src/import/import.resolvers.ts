import { forbidden, hasScope, requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { importOrders } from "./import.service.ts";

export const importResolvers: Resolvers = {
  Mutation: {
    importOrders: (_parent, { input }, ctx) => {
      const viewer = requireViewer(ctx.viewer);
      // The SDL's @requiresScopes says the same; this enforces it here too.
      if (!hasScope(viewer, "store:import"))
        throw forbidden("Only staff with store:import may import orders.");
      // GraphQL fills in the lists' default ([]); the generated type cannot tell.
      return importOrders(
        { db: ctx.db, relay: ctx.relay, logger: ctx.logger },
        { orders: input.orders ?? [], returns: input.returns ?? [] },
      );
    },
  },
};
