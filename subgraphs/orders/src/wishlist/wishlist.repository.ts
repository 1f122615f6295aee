import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type { Database, WishlistItemsTable } from "../db/database.ts";

export type WishlistItemRow = Selectable<WishlistItemsTable>;

/** Where a wishlist page starts: after this item, newest first. */
export interface WishlistKey {
  addedAt: Date;
  productId: string;
}

/** One page of one customer's wishlist: the `limit` items added before `after` (or the newest). */
export interface WishlistPageRequest {
  customerId: string;
  after: WishlistKey | null;
  limit: number;
}

/**
 * Serializes every change of one customer's wishlist until the transaction ends, so the cap
 * holds under concurrent adds (a row lock cannot: the row to lock does not exist yet).
 */
export async function lockWishlist(trx: Transaction<Database>, customerId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`wishlist:${customerId}`}, 0))`.execute(trx);
}

export async function findWishlistItem(
  db: Kysely<Database>,
  customerId: string,
  productId: string,
): Promise<WishlistItemRow | undefined> {
  return db
    .selectFrom("wishlist_items")
    .selectAll()
    .where("customer_id", "=", customerId)
    .where("product_id", "=", productId)
    .executeTakeFirst();
}

export async function countWishlistItems(db: Kysely<Database>, customerId: string): Promise<number> {
  const row = await db
    .selectFrom("wishlist_items")
    .select(sql<number>`count(*)::int`.as("n"))
    .where("customer_id", "=", customerId)
    .executeTakeFirstOrThrow();
  return row.n;
}

export async function insertWishlistItem(
  trx: Transaction<Database>,
  customerId: string,
  productId: string,
): Promise<WishlistItemRow> {
  return trx
    .insertInto("wishlist_items")
    .values({ customer_id: customerId, product_id: productId })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Whether there was such an item to delete. */
export async function deleteWishlistItem(
  db: Kysely<Database>,
  customerId: string,
  productId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("wishlist_items")
    .where("customer_id", "=", customerId)
    .where("product_id", "=", productId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Every item of one customer's wishlist, when their account is deleted. */
export async function deleteWishlistOf(trx: Transaction<Database>, customerId: string): Promise<number> {
  const result = await trx
    .deleteFrom("wishlist_items")
    .where("customer_id", "=", customerId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Several customers' pages in one statement: one keyset scan of the
 * (customer_id, added_at desc, product_id desc) index per request, joined laterally.
 */
export async function findWishlistPages(
  db: Kysely<Database>,
  requests: readonly WishlistPageRequest[],
): Promise<(WishlistItemRow & { request: number })[]> {
  if (requests.length === 0) return [];
  const { rows } = await sql<WishlistItemRow & { request: number }>`
    SELECT (k.ordinality - 1)::int AS request, w.*
    FROM unnest(
      ${requests.map((r) => r.customerId)}::uuid[],
      ${requests.map((r) => r.after?.addedAt ?? null)}::timestamptz[],
      ${requests.map((r) => r.after?.productId ?? null)}::text[],
      ${requests.map((r) => r.limit)}::int[]
    ) WITH ORDINALITY AS k(customer_id, after_added_at, after_product_id, row_limit, ordinality)
    CROSS JOIN LATERAL (
      SELECT * FROM wishlist_items
      WHERE wishlist_items.customer_id = k.customer_id
        AND (k.after_product_id IS NULL
          OR (wishlist_items.added_at, wishlist_items.product_id) < (k.after_added_at, k.after_product_id))
      ORDER BY wishlist_items.added_at DESC, wishlist_items.product_id DESC
      LIMIT k.row_limit
    ) AS w
    ORDER BY k.ordinality, w.added_at DESC, w.product_id DESC
  `.execute(db);
  return rows;
}

export async function countWishlistItemsByCustomerIds(
  db: Kysely<Database>,
  customerIds: readonly string[],
): Promise<{ customerId: string; count: number }[]> {
  if (customerIds.length === 0) return [];
  return db
    .selectFrom("wishlist_items")
    .select([sql<string>`customer_id`.as("customerId"), sql<number>`count(*)::int`.as("count")])
    .where("customer_id", "in", customerIds)
    .groupBy("customer_id")
    .execute();
}

/**
 * The customers whose wishlist holds the product and who were not told it is back in stock
 * within the last `hours`, locked until the transaction ends so a concurrent announcement of
 * the same product waits and then finds them already told.
 */
export async function lockCustomersToNotify(
  trx: Transaction<Database>,
  productId: string,
  hours: number,
): Promise<string[]> {
  const rows = await trx
    .selectFrom("wishlist_items")
    .select("customer_id")
    .where("product_id", "=", productId)
    .where((eb) =>
      eb.or([
        eb("last_notified_at", "is", null),
        eb("last_notified_at", "<=", sql<Date>`now() - make_interval(hours => ${hours})`),
      ]),
    )
    .orderBy("customer_id")
    .forUpdate()
    .execute();
  return rows.map((row) => row.customer_id);
}

export async function markNotified(
  trx: Transaction<Database>,
  productId: string,
  customerIds: readonly string[],
): Promise<void> {
  if (customerIds.length === 0) return;
  await trx
    .updateTable("wishlist_items")
    .set({ last_notified_at: sql<Date>`now()` })
    .where("product_id", "=", productId)
    // One array parameter, however many customers: an IN list would meet PostgreSQL's limit.
    .where(sql<boolean>`customer_id = any(${customerIds}::uuid[])`)
    .execute();
}
