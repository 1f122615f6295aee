import {
  badUserInput,
  type Connection,
  cursorPart,
  type EntityRef,
  encodeCursor,
  pageSize,
  readCursor,
  toConnection,
} from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { StockLoaders } from "./stock.loaders.ts";
import { toInventoryLevelModel } from "./stock.model.ts";
import { findLowStockLevels } from "./stock.repository.ts";
import { MAX_UNITS } from "./stock.service.ts";

/**
 * What listing low stock needs: the store, LOW_STOCK_THRESHOLD, and this request's
 * `stockByProductId`, primed with the levels the list query already read.
 */
export interface LowStockDeps {
  db: Kysely<Database>;
  lowStockThreshold: number;
  loaders: Pick<StockLoaders, "stockByProductId">;
}

/**
 * A low-stock cursor: (available units, product id). Available is `on_hand - reserved`, two
 * int4 columns, so it stays within int4 whatever a cursor claims.
 */
const AFTER = [cursorPart.integer(-(2 ** 31), 2 ** 31 - 1), cursorPart.objectId] as const;

/** `lowStockProducts`: one query for the page and its count, and none for `inventory`. */
export async function listLowStockProducts(
  deps: LowStockDeps,
  args: { threshold?: number | null; first?: number | null; after?: string | null },
): Promise<Connection<EntityRef>> {
  const { threshold } = args;
  const limit = pageSize(args.first);
  if (threshold !== undefined && threshold !== null && (threshold < 0 || threshold > MAX_UNITS)) {
    throw badUserInput(`threshold must be from 0 to ${MAX_UNITS}.`, "threshold");
  }
  const position = readCursor(args.after, AFTER);
  const { rows, totalCount } = await findLowStockLevels(deps.db, {
    threshold: threshold ?? null,
    defaultThreshold: deps.lowStockThreshold,
    after: position && { available: position[0], productId: position[1] },
    limit: limit + 1,
  });
  // The list query already read each product's levels: no second query for `inventory`.
  for (const row of rows) {
    deps.loaders.stockByProductId.prime(row.product_id, toInventoryLevelModel(row, deps.lowStockThreshold));
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
}
