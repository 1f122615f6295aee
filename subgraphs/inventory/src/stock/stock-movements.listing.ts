import {
  badUserInput,
  type Connection,
  cursorPart,
  encodeCursor,
  pageSize,
  readCursor,
  toConnection,
} from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { type StockMovementModel, toStockMovementModel } from "./stock.model.ts";
import { findStockMovements } from "./stock.repository.ts";

const PRODUCT_ID = /^[0-9a-f]{24}$/;

/** A ledger cursor: the movement's id, a bigint identity that stays far below 2^53 in practice. */
const AFTER = [cursorPart.integer(1, Number.MAX_SAFE_INTEGER)] as const;

/** `stockMovements`: a product's ledger, newest first; one query for the page, one for the count. */
export async function listStockMovements(
  deps: { db: Kysely<Database> },
  args: { productId: string; first?: number | null; after?: string | null },
): Promise<Connection<StockMovementModel>> {
  const limit = pageSize(args.first);
  const productId = args.productId.trim().toLowerCase();
  if (!PRODUCT_ID.test(productId)) {
    throw badUserInput("productId must be a catalog product id (24 hex characters).", "productId");
  }
  const position = readCursor(args.after, AFTER);
  const { rows, totalCount } = await findStockMovements(deps.db, {
    productId,
    afterId: position?.[0] ?? null,
    limit: limit + 1,
  });
  return toConnection(
    rows.map(toStockMovementModel),
    limit,
    totalCount,
    (movement) => encodeCursor([Number(movement.id)]),
    position !== null,
  );
}
