import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import type { Database, IdempotencyKeysTable } from "../db/database.ts";

export type IdempotencyKeyRow = Selectable<IdempotencyKeysTable>;

export async function findIdempotencyKey(
  db: Kysely<Database>,
  customerId: string,
  key: string,
): Promise<IdempotencyKeyRow | undefined> {
  return db
    .selectFrom("idempotency_keys")
    .selectAll()
    .where("customer_id", "=", customerId)
    .where("key", "=", key)
    .executeTakeFirst();
}

/**
 * Claims the key for a new order. A concurrent checkout with the same key waits here until
 * the first one commits or rolls back; it gets false when the key was taken.
 */
export async function claimIdempotencyKey(
  trx: Transaction<Database>,
  row: Omit<IdempotencyKeyRow, "created_at">,
): Promise<boolean> {
  const result = await trx
    .insertInto("idempotency_keys")
    .values(row)
    .onConflict((oc) => oc.columns(["customer_id", "key"]).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/** Forgets keys older than the retention period; the orders they point at stay. */
export async function deleteIdempotencyKeysOlderThan(db: Kysely<Database>, hours: number): Promise<number> {
  const result = await db
    .deleteFrom("idempotency_keys")
    .where("created_at", "<", sql<Date>`now() - make_interval(hours => ${hours})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
