import { forbidden, hasScope, requireViewer } from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import { listLowStockProducts } from "./stock.listing.ts";
import { adjustStock, type StockChangeResult, setStock } from "./stock.service.ts";
import { listStockMovements } from "./stock-movements.listing.ts";

/**
 * The changed product, its levels read again through the loader (cleared first: it may hold
 * them from before the write), so `inventory` in the payload needs no further query.
 */
async function toPayload(ctx: Context, result: StockChangeResult) {
  if (result.productId === null) return { product: null, userErrors: result.userErrors };
  await ctx.loaders.stockByProductId.clear(result.productId).load(result.productId);
  return { product: { id: result.productId }, userErrors: [] };
}

export const stockResolvers: Resolvers = {
  Query: {
    lowStockProducts: (_parent, args, ctx) =>
      listLowStockProducts(
        { db: ctx.db, lowStockThreshold: ctx.lowStockThreshold, loaders: ctx.loaders },
        args,
      ),
    stockMovements: (_parent, args, ctx) => {
      // The SDL's @requiresScopes says the same; the ledger names orders and staff, so check here too.
      if (!hasScope(requireViewer(ctx.viewer), "inventory:read")) {
        throw forbidden("Only staff with inventory:read may read the stock ledger.");
      }
      return listStockMovements({ db: ctx.db }, args);
    },
  },
  Mutation: {
    setStock: async (_parent, { input }, ctx) => {
      return toPayload(
        ctx,
        await setStock(ctx.db, input, requireViewer(ctx.viewer).userId, {
          lowStockThreshold: ctx.lowStockThreshold,
        }),
      );
    },
    adjustStock: async (_parent, { input }, ctx) => {
      return toPayload(
        ctx,
        await adjustStock(ctx.db, input, requireViewer(ctx.viewer).userId, {
          lowStockThreshold: ctx.lowStockThreshold,
        }),
      );
    },
  },
  Product: {
    // Catalog owns products; inventory knows any id, and one it never stocked has nothing available.
    __resolveReference: (ref) => ({ id: ref.id }),
    inventory: (product, _args, ctx) => ctx.loaders.stockByProductId.load(product.id),
  },
  StockMovement: {
    order: (movement) => (movement.orderId === null ? null : { id: movement.orderId }),
    changedBy: (movement) => (movement.actorId === null ? null : { id: movement.actorId }),
  },
};
