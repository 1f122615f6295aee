import {
  badUserInput,
  cursorPart,
  type EntityRef,
  encodeCursor,
  pageSize,
  readCursor,
  requireViewer,
  toConnection,
} from "@nexus/core";
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import type { Context } from "../context.ts";
import { toInventoryLevelModel } from "./stock.model.ts";
import { findLowStockLevels, findStockLevelsByProductIds } from "./stock.repository.ts";
import { adjustStock, MAX_UNITS, type StockChangeResult, setStock } from "./stock.service.ts";

/** The changed product, read fresh so its `inventory` shows the new levels without another query. */
async function toPayload(ctx: Context, result: StockChangeResult) {
  if (result.productId === null) return { product: null, userErrors: result.userErrors };
  const [row] = await findStockLevelsByProductIds(ctx.db, [result.productId]);
  if (row) {
    ctx.loaders.stockByProductId
      .clear(row.product_id)
      .prime(row.product_id, toInventoryLevelModel(row, ctx.lowStockThreshold));
  }
  return { product: { id: result.productId }, userErrors: [] };
}

/**
 * A low-stock cursor: (available units, product id). Available is `on_hand - reserved`, two
 * int4 columns, so it stays within int4 whatever a cursor claims.
 */
const AFTER = [cursorPart.integer(-(2 ** 31), 2 ** 31 - 1), cursorPart.objectId] as const;

export const stockResolvers: Resolvers = {
  Query: {
    lowStockProducts: async (_parent, { threshold, first, after }, ctx) => {
      const limit = pageSize(first);
      if (threshold !== undefined && threshold !== null && (threshold < 0 || threshold > MAX_UNITS)) {
        throw badUserInput(`threshold must be from 0 to ${MAX_UNITS}.`, "threshold");
      }
      const position = readCursor(after, AFTER);
      const { rows, totalCount } = await findLowStockLevels(ctx.db, {
        threshold: threshold ?? null,
        defaultThreshold: ctx.lowStockThreshold,
        after: position && { available: position[0], productId: position[1] },
        limit: limit + 1,
      });
      // The list query already read each product's levels: no second query for `inventory`.
      for (const row of rows) {
        ctx.loaders.stockByProductId.prime(row.product_id, toInventoryLevelModel(row, ctx.lowStockThreshold));
      }
      const nodes: EntityRef[] = rows.map((row) => ({ id: row.product_id }));
      const available = new Map(rows.map((row) => [row.product_id, row.on_hand - row.reserved]));
      return toConnection(
        nodes,
        limit,
        totalCount,
        (node) => encodeCursor([available.get(node.id) ?? 0, node.id]),
        position !== null,
      );
    },
  },
  Mutation: {
    setStock: async (_parent, { input }, ctx) => {
      return toPayload(ctx, await setStock(ctx.db, input, requireViewer(ctx.viewer).userId));
    },
    adjustStock: async (_parent, { input }, ctx) => {
      return toPayload(ctx, await adjustStock(ctx.db, input, requireViewer(ctx.viewer).userId));
    },
  },
  Product: {
    // Catalog owns products; inventory knows any id, and one it never stocked has nothing available.
    __resolveReference: (ref) => ({ id: ref.id }),
    inventory: (product, _args, ctx) => ctx.loaders.stockByProductId.load(product.id),
  },
};
