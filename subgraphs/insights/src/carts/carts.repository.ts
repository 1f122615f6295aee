import { type Kysely, sql, type Transaction } from "kysely";
import type { CartLineJson, Database } from "../db/database.ts";
import type { CartFactInsert } from "./carts.model.ts";

/**
 * Keeps the customer's newest cart: a CartUpdated that happened before the one recorded
 * (delivered late, or retried) changes nothing. Emptied carts stay as rows without lines, so
 * this comparison still holds after a cart is emptied.
 */
export async function recordCart(trx: Transaction<Database>, cart: CartFactInsert): Promise<void> {
  await trx
    .insertInto("cart_facts")
    .values(cart)
    .onConflict((oc) =>
      oc
        .column("customer_id")
        .doUpdateSet((eb) => ({
          currency_code: eb.ref("excluded.currency_code"),
          line_count: eb.ref("excluded.line_count"),
          units: eb.ref("excluded.units"),
          value_amount: eb.ref("excluded.value_amount"),
          lines: eb.ref("excluded.lines"),
          updated_at: eb.ref("excluded.updated_at"),
        }))
        .where("cart_facts.updated_at", "<", (eb) => eb.ref("excluded.updated_at")),
    )
    .execute();
}

export interface AbandonedCartRow {
  customer_id: string;
  currency_code: string;
  units: number;
  value_amount: string | number;
  lines: CartLineJson[];
  updated_at: Date;
  total_count: number;
}

/**
 * Carts in `currencyCode` with lines, last changed at or before `before`, whose customer has
 * placed no order since, newest change first (ties by customer id); `limit` rows after the
 * keyset `after`. Every row carries the count of all matching carts.
 */
export async function findAbandonedCarts(
  db: Kysely<Database>,
  params: {
    currencyCode: string;
    before: Date;
    limit: number;
    after: { updatedAt: Date; customerId: string } | null;
  },
): Promise<AbandonedCartRow[]> {
  const { currencyCode, before, limit, after } = params;
  const { rows } = await sql<AbandonedCartRow>`
    SELECT * FROM (
      SELECT c.customer_id, c.currency_code, c.units, c.value_amount, c.lines, c.updated_at,
        count(*) OVER ()::int AS total_count
      FROM cart_facts c
      WHERE c.currency_code = ${currencyCode} AND c.line_count > 0 AND c.updated_at <= ${before}
        AND NOT EXISTS (
          SELECT 1 FROM order_facts o WHERE o.customer_id = c.customer_id AND o.placed_at > c.updated_at
        )
    ) carts
    WHERE ${after === null ? sql`TRUE` : sql`(updated_at, customer_id) < (${after?.updatedAt ?? null}, ${after?.customerId ?? null}::uuid)`}
    ORDER BY updated_at DESC, customer_id DESC
    LIMIT ${limit}`.execute(db);
  return rows;
}
