import {
  type Insertable,
  type Kysely,
  type RawBuilder,
  type Selectable,
  sql,
  type Transaction,
  type Updateable,
} from "kysely";
import type { Database, DiscountsTable } from "../db/database.ts";
import type { DiscountRule } from "../pricing/pricing.model.ts";
import type { DiscountModel } from "./discount.model.ts";

export type DiscountRow = Selectable<DiscountsTable>;
export type NewDiscountRow = Insertable<DiscountsTable>;
export type DiscountChanges = Pick<
  Updateable<DiscountsTable>,
  "title" | "minimum_subtotal" | "starts_at" | "ends_at" | "usage_limit" | "per_customer_limit" | "active"
>;

export const toDiscountRule = (row: DiscountRow): DiscountRule => ({
  id: row.id,
  code: row.code,
  title: row.title,
  kind: row.kind,
  percentPpm: row.percent_ppm,
  amount: row.amount,
  minimumSubtotal: row.minimum_subtotal,
  startsAt: row.starts_at,
  endsAt: row.ends_at,
  usageLimit: row.usage_limit,
  usageCount: row.used_count,
  perCustomerLimit: row.per_customer_limit,
  scope: row.scope,
  categoryIds: row.category_ids,
  productIds: row.product_ids,
  active: row.active,
});

export const toDiscountModel = (row: DiscountRow): DiscountModel => ({
  ...toDiscountRule(row),
  createdAt: row.created_at,
});

/** Which discounts a staff listing shows; null fields do not filter. */
export interface DiscountListFilter {
  /** Upper case. */
  code: string | null;
  active: boolean | null;
  automatic: boolean | null;
}

/** Where a page starts: after this discount, newest first. */
export interface DiscountKey {
  createdAt: Date;
  id: string;
}

export interface DiscountPageRequest {
  filter: DiscountListFilter;
  after: DiscountKey | null;
  limit: number;
}

/** Whether a write failed because another discount holds the code (the unique index on code). */
export function isDiscountCodeTaken(error: unknown): boolean {
  return (
    error instanceof Error &&
    "code" in error &&
    error.code === "23505" &&
    "constraint" in error &&
    error.constraint === "discounts_code_key"
  );
}

export async function insertDiscount(db: Kysely<Database>, row: NewDiscountRow): Promise<DiscountRow> {
  return db.insertInto("discounts").values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findDiscountById(db: Kysely<Database>, id: string): Promise<DiscountRow | undefined> {
  return db.selectFrom("discounts").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Discounts by id (lower-case UUIDs), in no particular order: one query for every reference. */
export async function findDiscountsByIds(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<DiscountRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom("discounts").selectAll().where("id", "in", ids).execute();
}

/** The discount locked until the transaction ends: redemptions of it wait, so its count holds still. */
export async function findDiscountForUpdate(
  trx: Transaction<Database>,
  id: string,
): Promise<DiscountRow | undefined> {
  return trx.selectFrom("discounts").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
}

export async function updateDiscountRow(
  trx: Transaction<Database>,
  id: string,
  changes: DiscountChanges,
): Promise<DiscountRow> {
  return trx
    .updateTable("discounts")
    .set({ ...changes, updated_at: new Date() })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Whether a discount (any, active or not) holds this upper-case code. */
export async function discountCodeExists(db: Kysely<Database>, code: string): Promise<boolean> {
  const row = await db.selectFrom("discounts").select("id").where("code", "=", code).executeTakeFirst();
  return row !== undefined;
}

function whereOf(filter: DiscountListFilter): RawBuilder<unknown> {
  const conditions: RawBuilder<unknown>[] = [sql`TRUE`];
  if (filter.code !== null) conditions.push(sql`d.code = ${filter.code}`);
  if (filter.active !== null) conditions.push(sql`d.active = ${filter.active}`);
  if (filter.automatic === true) conditions.push(sql`d.code IS NULL`);
  if (filter.automatic === false) conditions.push(sql`d.code IS NOT NULL`);
  return sql.join(conditions, sql` AND `);
}

/** One page of the staff listing, newest first: a keyset on (created_at, id). */
export async function findDiscountPage(
  db: Kysely<Database>,
  request: DiscountPageRequest,
): Promise<DiscountRow[]> {
  const after = request.after
    ? sql`(d.created_at, d.id) < (${request.after.createdAt}, ${request.after.id}::uuid)`
    : sql`TRUE`;
  const { rows } = await sql<DiscountRow>`SELECT d.* FROM discounts d
    WHERE ${whereOf(request.filter)} AND ${after}
    ORDER BY d.created_at DESC, d.id DESC
    LIMIT ${request.limit}`.execute(db);
  return rows;
}

/** How many discounts the filter matches across all pages. */
export async function countDiscounts(db: Kysely<Database>, filter: DiscountListFilter): Promise<number> {
  const { rows } = await sql<{
    count: number;
  }>`SELECT count(*)::int AS count FROM discounts d WHERE ${whereOf(filter)}`.execute(db);
  return rows[0]?.count ?? 0;
}

// ---- Readers for the pricing engine ----

/** The discount with this code (upper-cased here), active or not: the caller decides what inactive means. */
export async function findDiscountByCode(
  db: Kysely<Database>,
  code: string,
): Promise<DiscountRule | undefined> {
  const row = await db
    .selectFrom("discounts")
    .selectAll()
    .where("code", "=", code.trim().toUpperCase())
    .executeTakeFirst();
  return row && toDiscountRule(row);
}

/** Active discounts without a code that apply at `now`, oldest first. */
export async function findAutomaticDiscounts(db: Kysely<Database>, now: Date): Promise<DiscountRule[]> {
  const rows = await db
    .selectFrom("discounts")
    .selectAll()
    .where("code", "is", null)
    .where("active", "=", true)
    .where((eb) => eb.or([eb("starts_at", "is", null), eb("starts_at", "<=", now)]))
    .where((eb) => eb.or([eb("ends_at", "is", null), eb("ends_at", ">", now)]))
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map(toDiscountRule);
}

/** Who placed an order: a customer, or a guest by email (compared lower case). */
export type DiscountBuyer = { customerId: string } | { email: string };

/** The unreleased redemptions of a discount by one customer, or by one guest email. */
export async function countRedemptions(
  db: Kysely<Database>,
  discountId: string,
  buyer: DiscountBuyer,
): Promise<number> {
  let query = db
    .selectFrom("discount_redemptions")
    .select(sql<number>`count(*)::int`.as("n"))
    .where("discount_id", "=", discountId)
    .where("released_at", "is", null);
  query =
    "customerId" in buyer
      ? query.where("customer_id", "=", buyer.customerId)
      : query.where("customer_id", "is", null).where("email", "=", buyer.email.trim().toLowerCase());
  const row = await query.executeTakeFirstOrThrow();
  return row.n;
}

// ---- The redemption ledger, inside the checkout's transaction ----

export type RedeemResult =
  | { ok: true }
  | {
      ok: false;
      discountId: string;
      code: "DISCOUNT_USED_UP" | "DISCOUNT_CUSTOMER_LIMIT_REACHED" | "DISCOUNT_NOT_FOUND";
    };

/**
 * Takes one use of each discount for the order, inside the checkout's transaction (READ
 * COMMITTED, PostgreSQL's default). Discounts are taken in id order, so two checkouts holding
 * the same discounts never deadlock. Each use is a conditional UPDATE of the discount's row:
 * it takes the row lock until the transaction ends, so concurrent redemptions of one discount
 * queue, each re-checks the limit against the count the previous one committed, and the
 * per-customer count that follows sees every committed redemption of it. On `ok: false` the
 * caller rolls the transaction back, which gives back the uses taken before the failure.
 * Throws when there are discounts and the order has neither a customer nor an email: nobody
 * to count a use against (a programming error, not a customer's).
 */
export async function redeemDiscounts(
  trx: Transaction<Database>,
  order: { orderId: string; customerId: string | null; email: string | null },
  discounts: readonly DiscountRule[],
): Promise<RedeemResult> {
  if (discounts.length === 0) return { ok: true };
  const email = order.email?.trim().toLowerCase() || null;
  let buyer: DiscountBuyer;
  if (order.customerId !== null) buyer = { customerId: order.customerId };
  else if (email !== null) buyer = { email };
  else {
    throw new Error(
      `order ${order.orderId} has neither a customer nor an email to count discount uses against`,
    );
  }
  const ids = [...new Set(discounts.map((discount) => discount.id.toLowerCase()))].sort();
  for (const discountId of ids) {
    const taken = await trx
      .updateTable("discounts")
      .set((eb) => ({ used_count: eb("used_count", "+", 1) }))
      .where("id", "=", discountId)
      .where("active", "=", true)
      .where((eb) => eb.or([eb("usage_limit", "is", null), eb("used_count", "<", eb.ref("usage_limit"))]))
      .returning(["id", "per_customer_limit"])
      .executeTakeFirst();
    if (!taken) {
      const current = await trx
        .selectFrom("discounts")
        .select("active")
        .where("id", "=", discountId)
        .executeTakeFirst();
      return {
        ok: false,
        discountId,
        code: current?.active ? "DISCOUNT_USED_UP" : "DISCOUNT_NOT_FOUND",
      };
    }
    if (taken.per_customer_limit !== null) {
      const used = await countRedemptions(trx, discountId, buyer);
      if (used >= taken.per_customer_limit) {
        return { ok: false, discountId, code: "DISCOUNT_CUSTOMER_LIMIT_REACHED" };
      }
    }
    await trx
      .insertInto("discount_redemptions")
      .values({
        order_id: order.orderId,
        discount_id: discountId,
        customer_id: order.customerId,
        email: order.customerId === null ? email : null,
      })
      .execute();
  }
  return { ok: true };
}

/**
 * Gives back the uses an order holds, when it is rejected or cancelled: marks its unreleased
 * redemptions released and takes one off each discount's count (never below 0). Returns how
 * many it released; a second call releases nothing. The redemption rows are locked first (the
 * UPDATE), then the discounts in id order, as redeemDiscounts takes them.
 */
export async function releaseDiscountRedemptions(
  trx: Transaction<Database>,
  orderId: string,
): Promise<number> {
  const released = await trx
    .updateTable("discount_redemptions")
    .set({ released_at: new Date() })
    .where("order_id", "=", orderId)
    .where("released_at", "is", null)
    .returning("discount_id")
    .execute();
  const ids = released.map((row) => row.discount_id).sort();
  for (const discountId of ids) {
    await trx
      .updateTable("discounts")
      .set({ used_count: sql<number>`greatest(used_count - 1, 0)` })
      .where("id", "=", discountId)
      .execute();
  }
  return released.length;
}
