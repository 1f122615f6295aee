import { type Kysely, type Selectable, sql } from "kysely";
import type { Database, StockLevelsTable } from "../db/database.ts";

export type StockLevelRow = Selectable<StockLevelsTable>;

export interface StockLine {
  productId: string;
  quantity: number;
}

export async function findStockLevelsByProductIds(
  db: Kysely<Database>,
  productIds: readonly string[],
): Promise<StockLevelRow[]> {
  if (productIds.length === 0) return [];
  return db.selectFrom("stock_levels").selectAll().where("product_id", "in", productIds).execute();
}

/**
 * Locks the stock rows of `productIds` until the transaction ends. Rows are locked in
 * product_id order, so two orders sharing products queue behind each other instead of
 * each holding a row the other waits for (a deadlock). Products without a row return nothing.
 */
export async function lockStockForUpdate(
  trx: Kysely<Database>,
  productIds: readonly string[],
): Promise<StockLevelRow[]> {
  if (productIds.length === 0) return [];
  return trx
    .selectFrom("stock_levels")
    .selectAll()
    .where("product_id", "in", productIds)
    .orderBy("product_id")
    .forUpdate()
    .execute();
}

export async function hasReservationsForOrder(db: Kysely<Database>, orderId: string): Promise<boolean> {
  const row = await db
    .selectFrom("reservations")
    .select("order_id")
    .where("order_id", "=", orderId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Holds `lines` for an order: raises `reserved`, records the reservations and their ledger
 * rows. The caller must hold the rows' locks and have checked availability; the CHECK
 * constraint on stock_levels still refuses an oversell if it did not.
 */
export async function reserveStock(
  trx: Kysely<Database>,
  orderId: string,
  lines: readonly StockLine[],
): Promise<void> {
  if (lines.length === 0) return;
  const productIds = lines.map((line) => line.productId);
  const quantities = lines.map((line) => line.quantity);
  // One statement for any number of lines: unnest pairs each product with its quantity.
  await sql`
    UPDATE stock_levels AS s
    SET reserved = s.reserved + v.quantity, updated_at = now()
    FROM unnest(${productIds}::text[], ${quantities}::int[]) AS v(product_id, quantity)
    WHERE s.product_id = v.product_id`.execute(trx);
  await trx
    .insertInto("reservations")
    .values(lines.map((line) => ({ order_id: orderId, product_id: line.productId, quantity: line.quantity })))
    .execute();
  await trx
    .insertInto("stock_movements")
    .values(
      lines.map((line) => ({
        product_id: line.productId,
        delta: -line.quantity,
        reason: "RESERVATION" as const,
        order_id: orderId,
      })),
    )
    .execute();
}

export async function countStockLevels(db: Kysely<Database>): Promise<number> {
  const { count } = await db
    .selectFrom("stock_levels")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .executeTakeFirstOrThrow();
  return Number(count);
}

/**
 * Creates stock rows for products that have none, with a SEED ledger row for each unit
 * count above zero. Returns how many rows it created; existing rows are left untouched.
 */
export async function insertInitialStock(
  trx: Kysely<Database>,
  levels: readonly { productId: string; onHand: number }[],
): Promise<number> {
  if (levels.length === 0) return 0;
  const inserted = await trx
    .insertInto("stock_levels")
    .values(levels.map((level) => ({ product_id: level.productId, on_hand: level.onHand })))
    .onConflict((oc) => oc.column("product_id").doNothing())
    .returning(["product_id", "on_hand"])
    .execute();
  const movements = inserted
    .filter((row) => row.on_hand > 0)
    .map((row) => ({
      product_id: row.product_id,
      delta: row.on_hand,
      reason: "SEED" as const,
      order_id: null,
    }));
  if (movements.length > 0) await trx.insertInto("stock_movements").values(movements).execute();
  return inserted.length;
}
