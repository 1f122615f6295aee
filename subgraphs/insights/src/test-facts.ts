import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "./db/database.ts";
import { rebuildRollups } from "./sales/facts.repository.ts";

/**
 * Writes raw facts straight into insights' tables, and the roll-ups from them, as the events
 * consumer would have, so the models' tests do not depend on how events become facts.
 */

export interface FactLine {
  productId: string;
  quantity: number;
  unitPrice?: number;
  categoryId?: string | null;
}

export interface FactOrder {
  orderId?: string;
  customerId?: string | null;
  placedAt: Date;
  currencyCode?: string;
  countryCode?: string | null;
  lines: FactLine[];
  /** What became of it: confirmed (a sale, the default), placed only, cancelled or rejected. */
  outcome?: "CONFIRMED" | "PLACED" | "CANCELLED" | "REJECTED";
  reversalReason?: string;
}

export interface FactRefund {
  orderId?: string | null;
  customerId?: string | null;
  refundedAt: Date;
  currencyCode?: string;
  lines: { productId: string; quantity: number; unitPrice: number }[];
}

/** Rows per statement, well under PostgreSQL's 65535 parameters. */
const CHUNK = 2000;

async function insertChunked<T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>) {
  for (let i = 0; i < rows.length; i += CHUNK) await insert(rows.slice(i, i + CHUNK));
}

/** Inserts the orders with their lines and outcomes; returns their ids in order. */
export async function insertOrders(db: Kysely<Database>, orders: FactOrder[]): Promise<string[]> {
  const ids = orders.map((order) => order.orderId ?? randomUUID());
  const facts = orders.map((order, i) => ({
    order_id: ids[i] as string,
    customer_id: order.customerId ?? null,
    currency_code: order.currencyCode ?? "USD",
    placed_at: order.placedAt,
    country_code: order.countryCode ?? null,
    total_amount: order.lines.reduce((sum, line) => sum + line.quantity * (line.unitPrice ?? 1000), 0),
    units: order.lines.reduce((sum, line) => sum + line.quantity, 0),
    historical: false,
  }));
  const lines = orders.flatMap((order, i) =>
    order.lines.map((line) => ({
      order_id: ids[i] as string,
      product_id: line.productId,
      category_id: line.categoryId ?? null,
      product_name: null,
      quantity: line.quantity,
      unit_price: line.unitPrice ?? 1000,
      amount: line.quantity * (line.unitPrice ?? 1000),
    })),
  );
  const outcomes = orders.flatMap((order, i) => {
    const outcome = order.outcome ?? "CONFIRMED";
    if (outcome === "PLACED") return [];
    const reversed = outcome === "CANCELLED" || outcome === "REJECTED";
    return [
      {
        order_id: ids[i] as string,
        confirmed_at: outcome === "REJECTED" ? null : order.placedAt,
        reversed_at: reversed ? order.placedAt : null,
        reversal_kind: reversed ? outcome : null,
        reversal_reason: reversed ? (order.reversalReason ?? "test") : null,
        shipped_at: null,
        delivered_at: null,
      },
    ];
  });
  await insertChunked(facts, (chunk) => db.insertInto("order_facts").values(chunk).execute());
  await insertChunked(lines, (chunk) => db.insertInto("order_line_facts").values(chunk).execute());
  await insertChunked(outcomes, (chunk) => db.insertInto("order_outcomes").values(chunk).execute());
  await rebuildRollups(db);
  return ids;
}

export async function insertRefunds(db: Kysely<Database>, refunds: FactRefund[]): Promise<void> {
  const ids = refunds.map(() => randomUUID());
  await insertChunked(
    refunds.map((refund, i) => ({
      refund_id: ids[i] as string,
      order_id: refund.orderId ?? null,
      customer_id: refund.customerId ?? null,
      currency_code: refund.currencyCode ?? "USD",
      amount: refund.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0),
      refunded_at: refund.refundedAt,
      reason: "returned",
      historical: false,
    })),
    (chunk) => db.insertInto("refund_facts").values(chunk).execute(),
  );
  await insertChunked(
    refunds.flatMap((refund, i) =>
      refund.lines.map((line) => ({
        refund_id: ids[i] as string,
        product_id: line.productId,
        quantity: line.quantity,
        unit_price: line.unitPrice,
        amount: line.quantity * line.unitPrice,
      })),
    ),
    (chunk) => db.insertInto("refund_line_facts").values(chunk).execute(),
  );
  await rebuildRollups(db);
}

/** Empties the fact tables and what the models built from them. */
export async function clearFacts(db: Kysely<Database>): Promise<void> {
  for (const table of [
    "customer_scores",
    "churn_models",
    "product_neighbours",
    "product_popularity",
    "daily_sales",
    "daily_product_sales",
    "daily_category_sales",
    "customer_sales",
    "refund_line_facts",
    "refund_facts",
    "order_line_facts",
    "order_outcomes",
    "order_facts",
  ] as const) {
    await db.deleteFrom(table).execute();
  }
}

/** A catalog product id (24 hex characters) from a number. */
export const productId = (n: number): string => n.toString(16).padStart(24, "0");

/** A UUID from a number. */
export const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

/** A deterministic pseudo-random generator (mulberry32), so synthetic histories are the same every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
