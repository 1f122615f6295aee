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
 * Each event of an order first upserts the order's `order_outcomes` row (`recordOrderEvent`):
 * that locks the row until the transaction ends, and returns it as the last committed writer
 * left it, `counted` included (whether the roll-ups hold the order's sale). So two workers
 * handling two events of one order take turns, and the second sees what the first did.
 *
 * Roll-up rows are then locked in one order by every transaction, so workers never wait on each
 * other in a circle: the day's row, the customer's, categories', products' (each by key). The
 * statements that add are one statement each, with the same WITH clauses, and PostgreSQL runs
 * a statement's own query first and then its unread WITH clauses last to first; the statements
 * that take away follow the same order one by one.
 */

export type OrderFactInsert = Insertable<OrderFactsTable>;
export type OrderLineFactInsert = Insertable<OrderLineFactsTable>;
export type RefundFactInsert = Insertable<RefundFactsTable>;
export type RefundLineFactInsert = Insertable<RefundLineFactsTable>;

/** The order as its outcome row tells it, after the event's change. */
export interface OrderState {
  placed: boolean;
  confirmedAt: Date | null;
  reversedAt: Date | null;
  /** Whether the roll-ups hold the order's sale: what `applyOrderToRollups` last made them. */
  counted: boolean;
}

/** Whether an order in this state counts as a sale (the rule of the view `sale_orders`). */
export const isSale = (state: OrderState): boolean =>
  state.placed && state.confirmedAt !== null && state.reversedAt === null;

const UTC_DAY = (column: string) => sql`(${sql.ref(column)} AT TIME ZONE 'UTC')::date`;

/** What one event tells about an order; each part is kept only if none was before (first one wins). */
export interface OrderEvent {
  placed?: boolean;
  confirmedAt?: Date;
  shippedAt?: Date;
  deliveredAt?: Date;
  reversal?: { kind: "CANCELLED" | "REJECTED"; reason: string; at: Date };
}

/**
 * Records what an event tells about an order and returns the order's state after it, holding
 * the order's row lock until the transaction ends. With an empty `event` it only locks and reads.
 */
export async function recordOrderEvent(
  trx: Transaction<Database>,
  orderId: string,
  event: OrderEvent,
): Promise<OrderState> {
  const { rows } = await sql<OrderState>`
    INSERT INTO order_outcomes AS o
      (order_id, placed, confirmed_at, shipped_at, delivered_at, reversed_at, reversal_kind, reversal_reason)
    VALUES (${orderId}, ${event.placed ?? false}, ${event.confirmedAt ?? null}::timestamptz,
      ${event.shippedAt ?? null}::timestamptz, ${event.deliveredAt ?? null}::timestamptz,
      ${event.reversal?.at ?? null}::timestamptz, ${event.reversal?.kind ?? null}, ${event.reversal?.reason ?? null})
    ON CONFLICT (order_id) DO UPDATE SET
      placed = o.placed OR excluded.placed,
      confirmed_at = coalesce(o.confirmed_at, excluded.confirmed_at),
      shipped_at = coalesce(o.shipped_at, excluded.shipped_at),
      delivered_at = coalesce(o.delivered_at, excluded.delivered_at),
      -- Each reads the row as it was before this update, so all three follow the same test.
      reversed_at = coalesce(o.reversed_at, excluded.reversed_at),
      reversal_kind = CASE WHEN o.reversed_at IS NULL THEN excluded.reversal_kind ELSE o.reversal_kind END,
      reversal_reason = CASE WHEN o.reversed_at IS NULL THEN excluded.reversal_reason ELSE o.reversal_reason END
    RETURNING placed, confirmed_at AS "confirmedAt", reversed_at AS "reversedAt", counted`.execute(trx);
  const row = rows[0];
  if (!row) throw new Error(`order_outcomes returned no row for order ${orderId}`);
  return row;
}

/**
 * Records a placed order and its lines; null when the order was already recorded (the same
 * order published under another event id), in which case nothing is written. `refunded` says
 * whether refunds against the order were recorded before it.
 */
export async function insertOrderFacts(
  trx: Transaction<Database>,
  order: OrderFactInsert,
  lines: readonly OrderLineFactInsert[],
): Promise<{ refunded: boolean } | null> {
  const inserted = await trx
    .insertInto("order_facts")
    .values(order)
    .onConflict((oc) => oc.column("order_id").doNothing())
    .returning(
      sql<boolean>`EXISTS (SELECT 1 FROM refund_facts WHERE refund_facts.order_id = ${order.order_id})`.as(
        "refunded",
      ),
    )
    .executeTakeFirst();
  if (!inserted) return null;
  if (lines.length > 0)
    await trx
      .insertInto("order_line_facts")
      .values([...lines])
      .execute();
  return { refunded: inserted.refunded };
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
 * Adds an order's sale to its placed day's roll-ups (sign 1) and records that they hold it
 * (`counted`); one statement. Call after `recordOrderEvent` (which holds the order's row) when
 * the order has become a sale, and with sign 0 when the order was just placed and refunds
 * recorded against it before its OrderPlaced arrived still lack the categories they could not
 * be given then (`withEarlierRefunds`). To take a sale away, `takeOrderSaleAway` calls it with
 * sign -1 for products and categories.
 */
export async function applyOrderToRollups(
  trx: Transaction<Database>,
  orderId: string,
  sign: 1 | -1 | 0,
  withEarlierRefunds: boolean,
): Promise<void> {
  // Only the parts this call needs are sent, so PostgreSQL plans no more than it runs; the
  // WITH clauses keep their places, so every roll-up statement takes its row locks in one order.
  const s = sql.lit(sign);
  const saleLines = sql`
        SELECT f.currency_code, f.day, l.category_id, ${s} * sum(l.amount) AS revenue, ${s} * sum(l.quantity) AS units,
          ${s} AS orders, 0 AS returned_units, 0 AS refunded_amount
        FROM order_line_facts l, f
        WHERE l.order_id = f.order_id AND l.category_id IS NOT NULL
        GROUP BY f.currency_code, f.day, l.category_id`;
  const refundLines = sql`
        SELECT r.currency_code, ${UTC_DAY("r.refunded_at")} AS day, l.category_id, 0 AS revenue, 0 AS units,
          0 AS orders, rl.quantity AS returned_units, rl.amount AS refunded_amount
        FROM refund_facts r
        JOIN refund_line_facts rl ON rl.refund_id = r.refund_id
        JOIN order_line_facts l ON l.order_id = r.order_id AND l.product_id = rl.product_id
        WHERE r.order_id = ${orderId} AND l.category_id IS NOT NULL`;
  const categoryRows =
    sign !== 0 && withEarlierRefunds
      ? sql`${saleLines} UNION ALL ${refundLines}`
      : sign !== 0
        ? saleLines
        : withEarlierRefunds
          ? refundLines
          : null;
  await sql`WITH f AS (
      SELECT order_id, customer_id, currency_code, placed_at, ${UTC_DAY("placed_at")} AS day, total_amount, units
      FROM order_facts WHERE order_id = ${orderId}
    ),
    products AS (
      INSERT INTO daily_product_sales AS t
      SELECT f.currency_code, f.day, l.product_id, ${s} * l.amount, ${s} * l.quantity, ${s}, 0, 0
      FROM order_line_facts l, f
      WHERE l.order_id = f.order_id AND ${sql.lit(sign !== 0)}
      ORDER BY l.product_id
      ON CONFLICT (currency_code, day, product_id) ${ADD_SALES}
    ),
    categories AS (
      INSERT INTO daily_category_sales AS t
      SELECT currency_code, day, category_id, sum(revenue), sum(units), sum(orders), sum(returned_units), sum(refunded_amount)
      FROM (${
        categoryRows ??
        sql`SELECT NULL::text AS currency_code, NULL::date AS day, NULL::text AS category_id,
        0 AS revenue, 0 AS units, 0 AS orders, 0 AS returned_units, 0 AS refunded_amount WHERE false`
      }) d
      GROUP BY currency_code, day, category_id
      ORDER BY currency_code, day, category_id
      ON CONFLICT (currency_code, day, category_id) ${ADD_SALES}
    ),
    customer AS (
      INSERT INTO customer_sales AS t
      SELECT customer_id, currency_code, 1, total_amount, units, placed_at, placed_at, 0, 0
      FROM f WHERE customer_id IS NOT NULL AND ${sql.lit(sign === 1)}
      ON CONFLICT (customer_id, currency_code) DO UPDATE SET orders = t.orders + 1, revenue = t.revenue + excluded.revenue,
        units = t.units + excluded.units, first_order_at = least(t.first_order_at, excluded.first_order_at),
        last_order_at = greatest(t.last_order_at, excluded.last_order_at)
    ),
    counted AS (
      UPDATE order_outcomes SET counted = ${sql.lit(sign === 1)} WHERE order_id = ${orderId} AND ${sql.lit(sign !== 0)}
    )
    -- The day's row first: a statement's own query runs before its WITH clauses (those last to first).
    INSERT INTO daily_sales AS t
    SELECT currency_code, day, total_amount, 1, units, 0, 0
    FROM f WHERE ${sql.lit(sign === 1)}
    ON CONFLICT (currency_code, day) DO UPDATE SET revenue = t.revenue + excluded.revenue,
      orders = t.orders + excluded.orders, units = t.units + excluded.units`.execute(trx);
}

/**
 * Takes an order's sale away from the roll-ups, in the lock order of the statements that add:
 * the day's row, the customer's, then categories and products (`applyOrderToRollups(-1)`); rows
 * left holding nothing are deleted, as a rebuild would not have them. The customer's row is
 * computed again (a first or last order cannot be subtracted) after it is locked, so the
 * computation sees every other worker's committed change to it, and later ones wait.
 */
export async function takeOrderSaleAway(trx: Transaction<Database>, orderId: string): Promise<void> {
  const { rows } = await sql<{ customer_id: string | null; currency_code: string }>`
    UPDATE daily_sales t SET revenue = t.revenue - f.total_amount, orders = t.orders - 1, units = t.units - f.units
    FROM order_facts f
    WHERE f.order_id = ${orderId} AND t.currency_code = f.currency_code AND t.day = ${UTC_DAY("f.placed_at")}
    RETURNING f.customer_id, f.currency_code`.execute(trx);
  const customer = rows[0];
  if (customer?.customer_id) {
    await sql`SELECT 1 FROM customer_sales WHERE customer_id = ${customer.customer_id}
      AND currency_code = ${customer.currency_code} FOR UPDATE`.execute(trx);
    await refreshCustomerSales(trx, customer.customer_id, customer.currency_code);
  }
  await applyOrderToRollups(trx, orderId, -1, false);
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
 * Adds a just-recorded refund to its day's roll-ups, one statement: the products', the
 * customer's, the day's, and the categories' when the order it refunds has been recorded
 * (otherwise that order's OrderPlaced does it). Call holding the refunded order's row
 * (`recordOrderEvent` with no change) when there is one.
 */
export async function applyRefundToRollups(trx: Transaction<Database>, refundId: string): Promise<void> {
  await sql`WITH r AS (
      SELECT refund_id, order_id, customer_id, currency_code, amount, ${UTC_DAY("refunded_at")} AS day
      FROM refund_facts WHERE refund_id = ${refundId}
    ),
    products AS (
      INSERT INTO daily_product_sales AS t
      SELECT r.currency_code, r.day, rl.product_id, 0, 0, 0, rl.quantity, rl.amount
      FROM r JOIN refund_line_facts rl ON rl.refund_id = r.refund_id
      ORDER BY rl.product_id
      ON CONFLICT (currency_code, day, product_id) ${ADD_SALES}
    ),
    categories AS (
      INSERT INTO daily_category_sales AS t
      SELECT r.currency_code, r.day, l.category_id, 0, 0, 0, sum(rl.quantity), sum(rl.amount)
      FROM r
      JOIN refund_line_facts rl ON rl.refund_id = r.refund_id
      JOIN order_line_facts l ON l.order_id = r.order_id AND l.product_id = rl.product_id
      WHERE l.category_id IS NOT NULL
      GROUP BY r.currency_code, r.day, l.category_id
      ORDER BY l.category_id
      ON CONFLICT (currency_code, day, category_id) ${ADD_SALES}
    ),
    customer AS (
      INSERT INTO customer_sales AS t
      SELECT customer_id, currency_code, 0, 0, 0, NULL, NULL, 1, amount FROM r WHERE customer_id IS NOT NULL
      ON CONFLICT (customer_id, currency_code) DO UPDATE SET refunds = t.refunds + 1,
        refunded_amount = t.refunded_amount + excluded.refunded_amount
    ),
    days AS (
      INSERT INTO daily_sales AS t
      SELECT currency_code, day, 0, 0, 0, 1, amount FROM r
      ON CONFLICT (currency_code, day) DO UPDATE SET refunds = t.refunds + 1,
        refunded_amount = t.refunded_amount + excluded.refunded_amount
    )
    -- Nothing here: the WITH clauses run last to first, the day's row first, as when an order is added.
    SELECT 1`.execute(trx);
}

/** Recomputes one customer's row in one currency from the facts; deleted when nothing is left. */
async function refreshCustomerSales(
  trx: Transaction<Database>,
  customerId: string,
  currencyCode: string,
): Promise<void> {
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
 * What a rebuild locks, in this order. Every transaction that changes roll-ups writes an
 * outcome or a refund before any of them, so once a rebuild holds these two, no transaction
 * holds a roll-up table it waits for, and those that come later wait for the rebuild at their
 * first write: nobody waits in a circle.
 */
const REBUILD_LOCKS = ["order_outcomes", "refund_facts", ...ROLLUP_TABLES] as const;

/**
 * Recomputes every roll-up from the raw facts, in one transaction, and which orders they hold
 * (`counted`). Outcomes, refunds and roll-ups are locked against writes first (reads go on), so
 * an event's transaction either committed before and is in the recomputed rows, or waits and
 * applies itself to them after.
 */
export async function rebuildRollups(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`LOCK TABLE ${sql.join(REBUILD_LOCKS.map((table) => sql.table(table)))} IN EXCLUSIVE MODE`.execute(
      trx,
    );
    for (const table of ROLLUP_TABLES) await trx.deleteFrom(table).execute();
    await sql`UPDATE order_outcomes SET counted = NOT counted
      WHERE counted <> (placed AND confirmed_at IS NOT NULL AND reversed_at IS NULL)`.execute(trx);
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
