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
import { checkCurrency } from "../sales/sales.model.ts";
import { type AbandonedCartModel, toAbandonedCartModel } from "./carts.model.ts";
import { findAbandonedCarts } from "./carts.repository.ts";

export interface CartsDeps {
  db: Kysely<Database>;
  storeCurrency: string;
}

/** A year: a cart older than that is not abandoned, it is gone (orders' carts expire well before). */
export const MAX_ABANDONED_HOURS = 8760;

/**
 * `abandonedCarts`: carts with lines left for `olderThanHours` (counted back from now) whose
 * customer has not ordered since, the most recently changed first; one query.
 */
export async function abandonedCarts(
  deps: CartsDeps,
  args: {
    olderThanHours: number;
    first?: number | null;
    after?: string | null;
    currencyCode?: string | null;
  },
): Promise<Connection<AbandonedCartModel>> {
  const { olderThanHours } = args;
  if (!Number.isInteger(olderThanHours) || olderThanHours < 1 || olderThanHours > MAX_ABANDONED_HOURS) {
    throw badUserInput(`olderThanHours must be between 1 and ${MAX_ABANDONED_HOURS}.`, "olderThanHours");
  }
  const currencyCode = checkCurrency(args.currencyCode, deps.storeCurrency);
  const first = pageSize(args.first);
  const after = readCursor(args.after, [cursorPart.isoInstant, cursorPart.uuid]);
  const rows = await findAbandonedCarts(deps.db, {
    currencyCode,
    before: new Date(Date.now() - olderThanHours * 3600 * 1000),
    limit: first + 1,
    after: after && { updatedAt: after[0], customerId: after[1] },
  });
  return toConnection(
    rows.map(toAbandonedCartModel),
    first,
    rows[0]?.total_count ?? 0,
    (cart) => encodeCursor([cart.updatedAt.toISOString(), cart.customerId]),
    after !== null,
  );
}
