import { type Kysely, type Selectable, sql } from "kysely";
import type { Database, StockLevelsTable, StockMovementReason } from "../db/database.ts";

export type StockLevelRow = Selectable<StockLevelsTable>;

export interface StockLine {
  productId: string;
  quantity: number;
}

/** One product's part of a stock change; the movement written for it carries the same deltas. */
export interface StockChange {
  productId: string;
  onHandDelta: number;
  reservedDelta: number;
  orderId?: string | null;
}

/** One product's availability around a stock change, with what decides its low-stock alert. */
export interface StockTransition {
  productId: string;
  availableBefore: number;
  availableAfter: number;
  /** The product's own threshold; null means the store-wide LOW_STOCK_THRESHOLD. */
  lowStockThreshold: number | null;
  /** StockLow was sent since availability last stood above the threshold. */
  lowStockAlerted: boolean;
}

/** Why stock changed, and who changed it, written on every movement of one change. */
export interface MovementContext {
  reason: StockMovementReason;
  note?: string | null;
  actorId?: string | null;
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
 * product_id order, so two transactions sharing products queue behind each other instead of
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
    .where("product_id", "in", [...new Set(productIds)])
    .orderBy("product_id")
    .forUpdate()
    .execute();
}

/**
 * The only way stock levels change after their row exists: applies the deltas and writes one
 * ledger movement per change with exactly those deltas, so the ledger always sums to the
 * levels. Rows are locked in product order first (a no-op when the caller already holds them).
 * The table's CHECK constraints refuse a change that would oversell or go negative. Returns what
 * availability was before and is after for each product changed, read under the row locks.
 */
export async function applyStockChanges(
  trx: Kysely<Database>,
  changes: readonly StockChange[],
  movement: MovementContext,
): Promise<StockTransition[]> {
  const effective = changes.filter((change) => change.onHandDelta !== 0 || change.reservedDelta !== 0);
  if (effective.length === 0) return [];
  const totals = new Map<string, { onHand: number; reserved: number }>();
  for (const change of effective) {
    const total = totals.get(change.productId) ?? { onHand: 0, reserved: 0 };
    total.onHand += change.onHandDelta;
    total.reserved += change.reservedDelta;
    totals.set(change.productId, total);
  }
  const productIds = [...totals.keys()];
  await lockStockForUpdate(trx, productIds);
  // One statement for any number of products: unnest pairs each product with its deltas.
  const { rows } = await sql<Omit<StockTransition, "availableBefore">>`
    UPDATE stock_levels AS s
    SET on_hand = s.on_hand + v.on_hand_delta, reserved = s.reserved + v.reserved_delta, updated_at = now()
    FROM unnest(
      ${productIds}::text[],
      ${productIds.map((id) => totals.get(id)?.onHand ?? 0)}::int[],
      ${productIds.map((id) => totals.get(id)?.reserved ?? 0)}::int[]
    ) AS v(product_id, on_hand_delta, reserved_delta)
    WHERE s.product_id = v.product_id
    RETURNING s.product_id AS "productId", s.on_hand - s.reserved AS "availableAfter",
      s.low_stock_threshold AS "lowStockThreshold", s.low_stock_alerted AS "lowStockAlerted"`.execute(trx);
  await announceStockChanged(trx, productIds);
  await trx
    .insertInto("stock_movements")
    .values(
      effective.map((change) => ({
        product_id: change.productId,
        on_hand_delta: change.onHandDelta,
        reserved_delta: change.reservedDelta,
        reason: movement.reason,
        order_id: change.orderId ?? null,
        note: movement.note ?? null,
        actor_id: movement.actorId ?? null,
      })),
    )
    .execute();
  return rows
    .map((row) => {
      const total = totals.get(row.productId) ?? { onHand: 0, reserved: 0 };
      return { ...row, availableBefore: row.availableAfter - (total.onHand - total.reserved) };
    })
    .sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

/**
 * The PostgreSQL channel stock changes are announced on (stock-notices.store.ts relays them to
 * the gateway's response cache). NOTIFY inside the transaction is delivered when it commits and
 * never when it rolls back, whichever path (a mutation, the saga, the sweeper) wrote.
 */
export const STOCK_CHANGED_CHANNEL = "inventory_stock_changed";

/** Ids per notification: a NOTIFY payload must stay under 8000 bytes. */
export const IDS_PER_NOTICE = 200;

export async function announceStockChanged(
  trx: Kysely<Database>,
  productIds: readonly string[],
): Promise<void> {
  for (let start = 0; start < productIds.length; start += IDS_PER_NOTICE) {
    const payload = productIds.slice(start, start + IDS_PER_NOTICE).join(",");
    await sql`SELECT pg_notify(${STOCK_CHANGED_CHANNEL}, ${payload})`.execute(trx);
  }
}

/** Records whether StockLow has been sent for each product's current dip below its threshold. */
export async function setLowStockAlerted(
  trx: Kysely<Database>,
  productIds: readonly string[],
  alerted: boolean,
): Promise<void> {
  if (productIds.length === 0) return;
  await trx
    .updateTable("stock_levels")
    .set({ low_stock_alerted: alerted })
    .where("product_id", "in", productIds)
    .execute();
}

/** Creates an empty stock row for a product inventory has never stocked; existing rows stay. */
export async function ensureStockLevel(trx: Kysely<Database>, productId: string): Promise<void> {
  await trx
    .insertInto("stock_levels")
    .values({ product_id: productId, on_hand: 0 })
    .onConflict((oc) => oc.column("product_id").doNothing())
    .execute();
}

export async function updateLowStockThreshold(
  trx: Kysely<Database>,
  productId: string,
  threshold: number,
): Promise<void> {
  await trx
    .updateTable("stock_levels")
    .set({ low_stock_threshold: threshold, updated_at: new Date() })
    .where("product_id", "=", productId)
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
      on_hand_delta: row.on_hand,
      reserved_delta: 0,
      reason: "SEED" as const,
      order_id: null,
    }));
  if (movements.length > 0) await trx.insertInto("stock_movements").values(movements).execute();
  return inserted.length;
}

export interface LowStockQuery {
  /** Overrides every product's own threshold; null uses each product's (or the default). */
  threshold: number | null;
  defaultThreshold: number;
  /** Keyset position: list products after (available, product_id). */
  after: { available: number; productId: string } | null;
  limit: number;
}

/** Low-stock rows, fewest available first, and how many there are in all; two queries. */
export async function findLowStockLevels(
  db: Kysely<Database>,
  query: LowStockQuery,
): Promise<{ rows: StockLevelRow[]; totalCount: number }> {
  const available = sql<number>`(on_hand - reserved)`;
  const limitOf =
    query.threshold === null
      ? sql`coalesce(low_stock_threshold, ${query.defaultThreshold})`
      : sql`${query.threshold}`;
  const low = sql<boolean>`${available} <= ${limitOf}`;
  const base = db.selectFrom("stock_levels").where(low);
  let page = base.selectAll();
  if (query.after) {
    page = page.where(
      sql<boolean>`(${available}, product_id) > (${query.after.available}, ${query.after.productId})`,
    );
  }
  const [rows, count] = await Promise.all([
    page.orderBy(available).orderBy("product_id").limit(query.limit).execute(),
    base.select((eb) => eb.fn.countAll<string>().as("count")).executeTakeFirstOrThrow(),
  ]);
  return { rows, totalCount: Number(count.count) };
}

export interface LedgerMismatch {
  product_id: string;
  on_hand: number;
  reserved: number;
  ledger_on_hand: number;
  ledger_reserved: number;
  /** Units of reservations that still hold stock (RESERVED or CONFIRMED). */
  held: number;
}

/**
 * The inventory's books: every product whose levels differ from the sum of its ledger
 * movements, or whose reserved units differ from its live reservations. Empty when consistent.
 */
export async function findLedgerMismatches(db: Kysely<Database>): Promise<LedgerMismatch[]> {
  const { rows } = await sql<LedgerMismatch>`
    SELECT s.product_id, s.on_hand, s.reserved,
           coalesce(m.on_hand, 0)::int AS ledger_on_hand,
           coalesce(m.reserved, 0)::int AS ledger_reserved,
           coalesce(r.held, 0)::int AS held
    FROM stock_levels s
    LEFT JOIN (
      SELECT product_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
      FROM stock_movements GROUP BY product_id
    ) m USING (product_id)
    LEFT JOIN (
      SELECT product_id, sum(quantity - shipped) AS held FROM reservations
      WHERE status IN ('RESERVED', 'CONFIRMED') GROUP BY product_id
    ) r USING (product_id)
    WHERE s.on_hand <> coalesce(m.on_hand, 0)
       OR s.reserved <> coalesce(m.reserved, 0)
       OR s.reserved <> coalesce(r.held, 0)
    ORDER BY s.product_id`.execute(db);
  return rows;
}

export type StockMovementRow = Selectable<Database["stock_movements"]>;

/**
 * One page of a product's ledger, newest first, and how many movements it has: a backward
 * scan of the (product_id, id) index from the cursor, and an index-only count.
 */
export async function findStockMovements(
  db: Kysely<Database>,
  request: { productId: string; afterId: number | null; limit: number },
): Promise<{ rows: StockMovementRow[]; totalCount: number }> {
  let page = db
    .selectFrom("stock_movements")
    .selectAll()
    .where("product_id", "=", request.productId)
    .orderBy("id", "desc")
    .limit(request.limit);
  if (request.afterId !== null) page = page.where("id", "<", String(request.afterId));
  const [rows, count] = await Promise.all([
    page.execute(),
    db
      .selectFrom("stock_movements")
      .select(sql<number>`count(*)::int`.as("count"))
      .where("product_id", "=", request.productId)
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, totalCount: count.count };
}
