import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.ts";

/** An order as the risk rules see it. */
export interface RiskOrderRow {
  order_id: string;
  customer_id: string | null;
  currency_code: string;
  placed_at: Date;
  country_code: string | null;
  total_amount: number;
  confirmed_at: Date | null;
  reversal_kind: "CANCELLED" | "REJECTED" | null;
  reversal_reason: string | null;
}

/** How large the store's sale orders run in one currency. */
export interface OrderValueRow {
  currency_code: string;
  /** The 95th percentile of the sale orders' totals. */
  p95: number;
  orders: number;
}

export interface RiskFacts {
  /** The orders asked for and every other order of their customers. */
  orders: RiskOrderRow[];
  /** One row per currency of the orders asked for that has sales. */
  orderValues: OrderValueRow[];
}

/** Two queries whatever the number of orders: the orders with their customers' others, then the store's order values. */
export async function findRiskFacts(db: Kysely<Database>, orderIds: readonly string[]): Promise<RiskFacts> {
  if (orderIds.length === 0) return { orders: [], orderValues: [] };
  const rows = await db
    .selectFrom("order_facts as f")
    .leftJoin("order_outcomes as o", "o.order_id", "f.order_id")
    .where((eb) =>
      eb.or([
        eb("f.order_id", "in", orderIds),
        eb(
          "f.customer_id",
          "in",
          eb
            .selectFrom("order_facts")
            .select("customer_id")
            .where("order_id", "in", orderIds)
            .where("customer_id", "is not", null),
        ),
      ]),
    )
    .select([
      "f.order_id",
      "f.customer_id",
      "f.currency_code",
      "f.placed_at",
      "f.country_code",
      "f.total_amount",
      "o.confirmed_at",
      "o.reversal_kind",
      "o.reversal_reason",
    ])
    .execute();
  const orders = rows.map((row) => ({
    ...row,
    // bigint arrives as a string.
    total_amount: Number(row.total_amount),
    confirmed_at: row.confirmed_at ?? null,
    reversal_kind: row.reversal_kind ?? null,
    reversal_reason: row.reversal_reason ?? null,
  }));
  const asked = new Set(orderIds);
  const currencies = [
    ...new Set(orders.filter((row) => asked.has(row.order_id)).map((row) => row.currency_code)),
  ];
  if (currencies.length === 0) return { orders, orderValues: [] };
  const values = await sql<OrderValueRow>`SELECT currency_code,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY total_amount)::float8 AS p95, count(*)::int AS orders
    FROM sale_orders WHERE currency_code IN (${sql.join(currencies)}) GROUP BY currency_code`.execute(db);
  return { orders, orderValues: values.rows };
}
