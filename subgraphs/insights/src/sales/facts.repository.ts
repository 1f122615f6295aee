import { type Insertable, type Kysely, sql, type Transaction } from "kysely";
import type {
  Database,
  OrderFactsTable,
  OrderLineFactsTable,
  RefundFactsTable,
  RefundLineFactsTable,
} from "../db/database.ts";

/**
 * Writes of the raw facts and of the roll-ups that follow from them. Every function takes the
 * consumer's transaction: a fact and the roll-up rows it changes commit together.
 *
 * Locks, always taken in this order so concurrent workers never wait on each other in a circle:
 * the order (a transaction-level advisory lock, taken before its state is read), then the
 * customer (likewise), then roll-up rows by key: products, categories, the day. The day's row
 * is the one most workers share, so it is written last and held the shortest.
 */

export type OrderFactInsert = Insertable<OrderFactsTable>;
export type OrderLineFactInsert = Insertable<OrderLineFactsTable>;
export type RefundFactInsert = Insertable<RefundFactsTable>;
export type RefundLineFactInsert = Insertable<RefundLineFactsTable>;

export interface OrderState {
  /** Whether OrderPlaced has been recorded, with what it said about the customer and currency. */
  placed: boolean;
  customerId: string | null;
  currencyCode: string | null;
  confirmedAt: Date | null;
  reversedAt: Date | null;
}

/** Whether an order in this state counts as a sale (the rule of the view `sale_orders`). */
export const isSale = (state: OrderState): boolean =>
  state.placed && state.confirmedAt !== null && state.reversedAt === null;

const UTC_DAY = (column: string) => sql`(${sql.ref(column)} AT TIME ZONE 'UTC')::date`;

/**
 * Serialises every change to one order until the transaction ends. Taken before the order's
 * state is read, so two workers handling two events of one order see each other's effect.
 */
export async function lockOrder(trx: Transaction<Database>, orderId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`order:${orderId}`}, 0))`.execute(trx);
}

/** The order's facts and outcome as they stand; call after `lockOrder`. */
export async function findOrderState(trx: Transaction<Database>, orderId: string): Promise<OrderState> {
  const { rows } = await sql<{
    placed: boolean;
    customer_id: string | null;
    currency_code: string | null;
    confirmed_at: Date | null;
    reversed_at: Date | null;
  }>`SELECT f.order_id IS NOT NULL AS placed, f.customer_id, f.currency_code, o.confirmed_at, o.reversed_at
    FROM (SELECT ${orderId}::uuid AS order_id) k
    LEFT JOIN order_facts f ON f.order_id = k.order_id
    LEFT JOIN order_outcomes o ON o.order_id = k.order_id`.execute(trx);
  const row = rows[0];
  return {
    placed: row?.placed ?? false,
    customerId: row?.customer_id ?? null,
    currencyCode: row?.currency_code ?? null,
    confirmedAt: row?.confirmed_at ?? null,
    reversedAt: row?.reversed_at ?? null,
  };
}

/**
 * Records a placed order and its lines; false when the order was already recorded (the same
 * order published under another event id), in which case nothing is written.
 */
export async function insertOrderFacts(
  trx: Transaction<Database>,
  order: OrderFactInsert,
  lines: readonly OrderLineFactInsert[],
): Promise<boolean> {
  const inserted = await trx
    .insertInto("order_facts")
    .values(order)
    .onConflict((oc) => oc.column("order_id").doNothing())
    .executeTakeFirst();
  if (inserted.numInsertedOrUpdatedRows === 0n) return false;
  if (lines.length > 0)
    await trx
      .insertInto("order_line_facts")
      .values([...lines])
      .execute();
  return true;
}

/** Sets one outcome time unless an earlier event already did (first one wins). */
export async function recordOutcomeTime(
  trx: Transaction<Database>,
  orderId: string,
  column: "confirmed_at" | "shipped_at" | "delivered_at",
  at: Date,
): Promise<void> {
  await trx
    .insertInto("order_outcomes")
    .values({ order_id: orderId, [column]: at })
    .onConflict((oc) =>
      oc.column("order_id").doUpdateSet({
        [column]: sql<Date>`coalesce(order_outcomes.${sql.ref(column)}, excluded.${sql.ref(column)})`,
      }),
    )
    .execute();
}

/** Records a cancellation or rejection with its reason, unless the order was already reversed. */
export async function recordReversal(
  trx: Transaction<Database>,
  orderId: string,
  kind: "CANCELLED" | "REJECTED",
  reason: string,
  at: Date,
): Promise<void> {
  const firstWins = <T>(column: "reversed_at" | "reversal_kind" | "reversal_reason") =>
    sql<T>`CASE WHEN order_outcomes.reversed_at IS NULL THEN excluded.${sql.ref(column)} ELSE order_outcomes.${sql.ref(column)} END`;
  await trx
    .insertInto("order_outcomes")
    .values({ order_id: orderId, reversed_at: at, reversal_kind: kind, reversal_reason: reason })
    .onConflict((oc) =>
      oc.column("order_id").doUpdateSet({
        // Each reads the row as it was before this update, so all three follow the same test.
        reversed_at: firstWins<Date | null>("reversed_at"),
        reversal_kind: firstWins<"CANCELLED" | "REJECTED" | null>("reversal_kind"),
        reversal_reason: firstWins<string | null>("reversal_reason"),
      }),
    )
    .execute();
}

/** Records a refund and its lines; false when the refund was already recorded. */
export async function insertRefundFacts(
  trx: Transaction<Database>,
  refund: RefundFactInsert,
  lines: readonly RefundLineFactInsert[],
): Promise<boolean> {
  const inserted = await trx
    .insertInto("refund_facts")
    .values(refund)
    .onConflict((oc) => oc.column("refund_id").doNothing())
    .executeTakeFirst();
  if (inserted.numInsertedOrUpdatedRows === 0n) return false;
  if (lines.length > 0)
    await trx
      .insertInto("refund_line_facts")
      .values([...lines])
      .execute();
  return true;
}

const ADD_SALES = sql`DO UPDATE SET revenue = t.revenue + excluded.revenue, units = t.units + excluded.units,
  orders = t.orders + excluded.orders, returned_units = t.returned_units + excluded.returned_units,
  refunded_amount = t.refunded_amount + excluded.refunded_amount`;

/**
 * Adds (sign 1) or takes away (sign -1) an order's sale from its placed day's roll-ups, the
 * customer's excepted (`refreshCustomerSales`). Call under `lockOrder`, on a change of `isSale`.
 * When the order was just placed (`withEarlierRefunds`), refunds recorded against it before its
 * OrderPlaced arrived get the categories they could not be given then.
 */
export async function applyOrderToRollups(
  trx: Transaction<Database>,
  orderId: string,
  sign: 1 | -1 | 0,
  withEarlierRefunds: boolean,
): Promise<void> {
  if (sign !== 0) {
    await sql`INSERT INTO daily_product_sales AS t
      SELECT f.currency_code, ${UTC_DAY("f.placed_at")}, l.product_id, ${sign}::int * l.amount, ${sign}::int * l.quantity, ${sign}::int, 0, 0
      FROM order_line_facts l JOIN order_facts f ON f.order_id = l.order_id
      WHERE l.order_id = ${orderId}
      ORDER BY l.product_id
      ON CONFLICT (currency_code, day, product_id) ${ADD_SALES}`.execute(trx);
  }
  if (sign !== 0 || withEarlierRefunds) {
    await sql`INSERT INTO daily_category_sales AS t
      SELECT currency_code, day, category_id, sum(revenue), sum(units), sum(orders), sum(returned_units), sum(refunded_amount)
      FROM (
        SELECT f.currency_code, ${UTC_DAY("f.placed_at")} AS day, l.category_id, ${sign}::int * sum(l.amount) AS revenue,
          ${sign}::int * sum(l.quantity) AS units, ${sign}::int AS orders, 0 AS returned_units, 0 AS refunded_amount
        FROM order_line_facts l JOIN order_facts f ON f.order_id = l.order_id
        WHERE l.order_id = ${orderId} AND l.category_id IS NOT NULL AND ${sign}::int <> 0
        GROUP BY f.currency_code, f.placed_at, l.category_id
        UNION ALL
        SELECT r.currency_code, ${UTC_DAY("r.refunded_at")}, l.category_id, 0, 0, 0, rl.quantity, rl.amount
        FROM refund_facts r
        JOIN refund_line_facts rl ON rl.refund_id = r.refund_id
        JOIN order_line_facts l ON l.order_id = r.order_id AND l.product_id = rl.product_id
        WHERE r.order_id = ${orderId} AND l.category_id IS NOT NULL AND ${withEarlierRefunds}::boolean
      ) d
      GROUP BY currency_code, day, category_id
      ORDER BY currency_code, day, category_id
      ON CONFLICT (currency_code, day, category_id) ${ADD_SALES}`.execute(trx);
  }
  if (sign !== 0) {
    await sql`INSERT INTO daily_sales AS t
      SELECT currency_code, ${UTC_DAY("placed_at")}, ${sign}::int * total_amount, ${sign}::int, ${sign}::int * units, 0, 0
      FROM order_facts WHERE order_id = ${orderId}
      ON CONFLICT (currency_code, day) DO UPDATE SET revenue = t.revenue + excluded.revenue,
        orders = t.orders + excluded.orders, units = t.units + excluded.units`.execute(trx);
  }
  if (sign === -1) await deleteEmptyRollupRows(trx, orderId);
}

/** A sale taken away may leave rows of nothing; a rebuild would not have them, so they go. */
async function deleteEmptyRollupRows(trx: Transaction<Database>, orderId: string): Promise<void> {
  await sql`DELETE FROM daily_product_sales t USING order_line_facts l, order_facts f
    WHERE l.order_id = ${orderId} AND f.order_id = l.order_id
      AND t.currency_code = f.currency_code AND t.day = ${UTC_DAY("f.placed_at")} AND t.product_id = l.product_id
      AND t.revenue = 0 AND t.units = 0 AND t.orders = 0 AND t.returned_units = 0 AND t.refunded_amount = 0`.execute(
    trx,
  );
  await sql`DELETE FROM daily_category_sales t USING order_line_facts l, order_facts f
    WHERE l.order_id = ${orderId} AND f.order_id = l.order_id
      AND t.currency_code = f.currency_code AND t.day = ${UTC_DAY("f.placed_at")} AND t.category_id = l.category_id
      AND t.revenue = 0 AND t.units = 0 AND t.orders = 0 AND t.returned_units = 0 AND t.refunded_amount = 0`.execute(
    trx,
  );
  await sql`DELETE FROM daily_sales t USING order_facts f
    WHERE f.order_id = ${orderId} AND t.currency_code = f.currency_code AND t.day = ${UTC_DAY("f.placed_at")}
      AND t.revenue = 0 AND t.orders = 0 AND t.units = 0 AND t.refunds = 0 AND t.refunded_amount = 0`.execute(
    trx,
  );
}

/**
 * Adds a just-recorded refund to its day's roll-ups: the products', the day's, and the
 * categories' when the order it refunds has been recorded (otherwise OrderPlaced does that).
 * Call under `lockOrder` of the refunded order when there is one.
 */
export async function applyRefundToRollups(trx: Transaction<Database>, refundId: string): Promise<void> {
  await sql`INSERT INTO daily_product_sales AS t
    SELECT r.currency_code, ${UTC_DAY("r.refunded_at")}, rl.product_id, 0, 0, 0, rl.quantity, rl.amount
    FROM refund_facts r JOIN refund_line_facts rl ON rl.refund_id = r.refund_id
    WHERE r.refund_id = ${refundId}
    ORDER BY rl.product_id
    ON CONFLICT (currency_code, day, product_id) ${ADD_SALES}`.execute(trx);
  await sql`INSERT INTO daily_category_sales AS t
    SELECT r.currency_code, ${UTC_DAY("r.refunded_at")}, l.category_id, 0, 0, 0, sum(rl.quantity), sum(rl.amount)
    FROM refund_facts r
    JOIN refund_line_facts rl ON rl.refund_id = r.refund_id
    JOIN order_line_facts l ON l.order_id = r.order_id AND l.product_id = rl.product_id
    WHERE r.refund_id = ${refundId} AND l.category_id IS NOT NULL
    GROUP BY r.currency_code, r.refunded_at, l.category_id
    ORDER BY l.category_id
    ON CONFLICT (currency_code, day, category_id) ${ADD_SALES}`.execute(trx);
  await sql`INSERT INTO daily_sales AS t
    SELECT currency_code, ${UTC_DAY("refunded_at")}, 0, 0, 0, 1, amount FROM refund_facts WHERE refund_id = ${refundId}
    ON CONFLICT (currency_code, day) DO UPDATE SET refunds = t.refunds + 1,
      refunded_amount = t.refunded_amount + excluded.refunded_amount`.execute(trx);
}

/**
 * Recomputes one customer's row in one currency from the facts. A customer's first and last
 * order cannot be updated by adding and subtracting, so the row is computed again, under a
 * lock taken first: the computation then sees every other worker's committed change to them.
 */
export async function refreshCustomerSales(
  trx: Transaction<Database>,
  customerId: string,
  currencyCode: string,
): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`customer:${customerId}`}, 0))`.execute(trx);
  await sql`WITH sums AS (
      SELECT s.orders, s.revenue, s.units, s.first_order_at, s.last_order_at, r.refunds, r.refunded_amount
      FROM (SELECT count(*)::int AS orders, coalesce(sum(total_amount), 0) AS revenue, coalesce(sum(units), 0) AS units,
              min(placed_at) AS first_order_at, max(placed_at) AS last_order_at
            FROM sale_orders WHERE customer_id = ${customerId} AND currency_code = ${currencyCode}) s,
           (SELECT count(*)::int AS refunds, coalesce(sum(amount), 0) AS refunded_amount
            FROM refund_facts WHERE customer_id = ${customerId} AND currency_code = ${currencyCode}) r
    ),
    emptied AS (
      DELETE FROM customer_sales
      WHERE customer_id = ${customerId} AND currency_code = ${currencyCode}
        AND (SELECT orders = 0 AND refunds = 0 FROM sums)
    )
    INSERT INTO customer_sales AS t
    SELECT ${customerId}::uuid, ${currencyCode}::text, orders, revenue, units, first_order_at, last_order_at, refunds, refunded_amount
    FROM sums WHERE orders > 0 OR refunds > 0
    ON CONFLICT (customer_id, currency_code) DO UPDATE SET orders = excluded.orders, revenue = excluded.revenue,
      units = excluded.units, first_order_at = excluded.first_order_at, last_order_at = excluded.last_order_at,
      refunds = excluded.refunds, refunded_amount = excluded.refunded_amount`.execute(trx);
}

const ROLLUP_TABLES = [
  "daily_sales",
  "daily_product_sales",
  "daily_category_sales",
  "customer_sales",
] as const;

/**
 * Recomputes every roll-up from the raw facts, in one transaction. The roll-ups are locked
 * against writes first (reads go on), so a fact committed meanwhile either is in the recomputed
 * rows or adds itself once the rebuild has committed, never both.
 */
export async function rebuildRollups(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`LOCK TABLE ${sql.join(ROLLUP_TABLES.map((table) => sql.table(table)))} IN EXCLUSIVE MODE`.execute(
      trx,
    );
    for (const table of ROLLUP_TABLES) await trx.deleteFrom(table).execute();
    await sql`INSERT INTO daily_sales
      SELECT currency_code, day, sum(revenue), sum(orders), sum(units), sum(refunds), sum(refunded_amount)
      FROM (
        SELECT currency_code, ${UTC_DAY("placed_at")} AS day, total_amount AS revenue, 1 AS orders, units::bigint AS units,
          0 AS refunds, 0::bigint AS refunded_amount
        FROM sale_orders
        UNION ALL
        SELECT currency_code, ${UTC_DAY("refunded_at")}, 0, 0, 0, 1, amount FROM refund_facts
      ) t GROUP BY currency_code, day`.execute(trx);
    await sql`INSERT INTO daily_product_sales
      SELECT currency_code, day, product_id, sum(revenue), sum(units), sum(orders), sum(returned_units), sum(refunded_amount)
      FROM (
        SELECT s.currency_code, ${UTC_DAY("s.placed_at")} AS day, l.product_id, l.amount AS revenue,
          l.quantity::bigint AS units, 1 AS orders, 0::bigint AS returned_units, 0::bigint AS refunded_amount
        FROM sale_orders s JOIN order_line_facts l ON l.order_id = s.order_id
        UNION ALL
        SELECT r.currency_code, ${UTC_DAY("r.refunded_at")}, rl.product_id, 0, 0, 0, rl.quantity, rl.amount
        FROM refund_facts r JOIN refund_line_facts rl ON rl.refund_id = r.refund_id
      ) t GROUP BY currency_code, day, product_id`.execute(trx);
    await sql`INSERT INTO daily_category_sales
      SELECT currency_code, day, category_id, sum(revenue), sum(units), sum(orders), sum(returned_units), sum(refunded_amount)
      FROM (
        SELECT s.currency_code, ${UTC_DAY("s.placed_at")} AS day, l.category_id, sum(l.amount) AS revenue,
          sum(l.quantity)::bigint AS units, 1 AS orders, 0::bigint AS returned_units, 0::bigint AS refunded_amount
        FROM sale_orders s JOIN order_line_facts l ON l.order_id = s.order_id
        WHERE l.category_id IS NOT NULL
        GROUP BY s.order_id, s.currency_code, s.placed_at, l.category_id
        UNION ALL
        SELECT r.currency_code, ${UTC_DAY("r.refunded_at")}, l.category_id, 0, 0, 0, rl.quantity, rl.amount
        FROM refund_facts r
        JOIN refund_line_facts rl ON rl.refund_id = r.refund_id
        JOIN order_line_facts l ON l.order_id = r.order_id AND l.product_id = rl.product_id
        WHERE l.category_id IS NOT NULL
      ) t GROUP BY currency_code, day, category_id`.execute(trx);
    await sql`INSERT INTO customer_sales
      SELECT customer_id, currency_code, sum(orders), sum(revenue), sum(units), min(placed_at), max(placed_at),
        sum(refunds), sum(refunded_amount)
      FROM (
        SELECT customer_id, currency_code, 1 AS orders, total_amount AS revenue, units::bigint AS units,
          placed_at, 0 AS refunds, 0::bigint AS refunded_amount
        FROM sale_orders WHERE customer_id IS NOT NULL
        UNION ALL
        SELECT customer_id, currency_code, 0, 0, 0, NULL, 1, amount FROM refund_facts WHERE customer_id IS NOT NULL
      ) t GROUP BY customer_id, currency_code`.execute(trx);
  });
}
