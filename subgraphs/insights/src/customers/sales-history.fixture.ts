import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import { productId, seededRandom, uuid } from "../test-facts.ts";

/**
 * Writes sales and refunds straight into the fact tables, as the events consumer would have, for
 * tests of what is computed from them; and generates purchase histories for the churn tests.
 */

export interface SaleFixture {
  orderId: string;
  customerId: string | null;
  placedAt: Date;
  currencyCode?: string;
  /** Confirmed at placing unless "pending" (never confirmed) or "cancelled" (confirmed, then cancelled). */
  outcome?: "confirmed" | "pending" | "cancelled";
  lines: { productId: string; quantity: number; unitPrice: number }[];
}

export interface RefundFixture {
  refundId: string;
  orderId: string | null;
  customerId: string | null;
  refundedAt: Date;
  currencyCode?: string;
  lines: { productId: string; quantity: number; unitPrice: number }[];
}

const BATCH = 1000;

async function insertInBatches<T>(rows: readonly T[], insert: (batch: T[]) => Promise<unknown>) {
  for (let start = 0; start < rows.length; start += BATCH) await insert(rows.slice(start, start + BATCH));
}

export async function insertSales(db: Kysely<Database>, sales: readonly SaleFixture[]): Promise<void> {
  await insertInBatches(sales, (batch) =>
    db
      .insertInto("order_facts")
      .values(
        batch.map((sale) => ({
          order_id: sale.orderId,
          customer_id: sale.customerId,
          currency_code: sale.currencyCode ?? "USD",
          placed_at: sale.placedAt,
          country_code: null,
          total_amount: sale.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0),
          units: sale.lines.reduce((sum, line) => sum + line.quantity, 0),
          historical: true,
        })),
      )
      .execute(),
  );
  await insertInBatches(
    sales.flatMap((sale) =>
      sale.lines.map((line) => ({
        order_id: sale.orderId,
        product_id: line.productId,
        category_id: null,
        product_name: null,
        quantity: line.quantity,
        unit_price: line.unitPrice,
        amount: line.quantity * line.unitPrice,
      })),
    ),
    (batch) => db.insertInto("order_line_facts").values(batch).execute(),
  );
  await insertInBatches(
    sales.filter((sale) => sale.outcome !== "pending"),
    (batch) =>
      db
        .insertInto("order_outcomes")
        .values(
          batch.map((sale) => ({
            order_id: sale.orderId,
            confirmed_at: sale.placedAt,
            reversed_at: sale.outcome === "cancelled" ? sale.placedAt : null,
            reversal_kind: sale.outcome === "cancelled" ? ("CANCELLED" as const) : null,
          })),
        )
        .execute(),
  );
}

export async function insertRefunds(db: Kysely<Database>, refunds: readonly RefundFixture[]): Promise<void> {
  await insertInBatches(refunds, (batch) =>
    db
      .insertInto("refund_facts")
      .values(
        batch.map((refund) => ({
          refund_id: refund.refundId,
          order_id: refund.orderId,
          customer_id: refund.customerId,
          currency_code: refund.currencyCode ?? "USD",
          amount: refund.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0),
          refunded_at: refund.refundedAt,
          reason: "returned",
          historical: true,
        })),
      )
      .execute(),
  );
  await insertInBatches(
    refunds.flatMap((refund) => refund.lines.map((line) => ({ refund_id: refund.refundId, ...line }))),
    (batch) =>
      db
        .insertInto("refund_line_facts")
        .values(
          batch.map((line) => ({
            refund_id: line.refund_id,
            product_id: line.productId,
            quantity: line.quantity,
            unit_price: line.unitPrice,
            amount: line.quantity * line.unitPrice,
          })),
        )
        .execute(),
  );
}

export { clearFacts } from "../test-facts.ts";
export { productId, seededRandom, uuid };

const DAY_MS = 86_400_000;

export interface SyntheticHistory {
  sales: SaleFixture[];
  refunds: RefundFixture[];
  /** The newest sale's time. */
  newest: Date;
}

/**
 * A store's history: each customer joins at a random day, buys at a rate of their own (mean gap
 * from about a week to several months, log-uniform) with exponential gaps, and stops for good at
 * a random time (exponential lifetime); a few orders are partly refunded. Nothing in it is a
 * feature: the model has to find churn in ordinary purchase behaviour.
 */
export function syntheticHistory(options: { customers: number; days: number; end: Date; seed: number }) {
  const random = seededRandom(options.seed);
  const exponential = (mean: number) => -Math.log(1 - random()) * mean;
  const start = options.end.getTime() - options.days * DAY_MS;
  const sales: SaleFixture[] = [];
  const refunds: RefundFixture[] = [];
  let orderNumber = 0;
  let newest = start;
  for (let c = 0; c < options.customers; c++) {
    const customerId = uuid(1_000_000 + c);
    const meanGap = 7 * Math.exp(random() * Math.log(120 / 7));
    const joined = start + random() * options.days * 0.9 * DAY_MS;
    const stops = joined + exponential(240) * DAY_MS;
    const basketSize = 1 + Math.floor(random() * 4);
    for (let at = joined; at <= Math.min(stops, options.end.getTime()); at += exponential(meanGap) * DAY_MS) {
      orderNumber++;
      const orderId = uuid(orderNumber);
      const lineCount = 1 + Math.floor(random() * basketSize);
      const products = new Set<number>();
      while (products.size < lineCount) products.add(1 + Math.floor(random() * 60));
      const lines = [...products].map((p) => ({
        productId: productId(p),
        quantity: 1 + Math.floor(random() * 3),
        unitPrice: 500 + 100 * Math.floor(random() * 50),
      }));
      sales.push({ orderId, customerId, placedAt: new Date(Math.round(at)), lines });
      newest = Math.max(newest, Math.round(at));
      const refundAt = at + (1 + random() * 20) * DAY_MS;
      const [first] = lines;
      if (first && random() < 0.05 && refundAt <= options.end.getTime()) {
        refunds.push({
          refundId: uuid(50_000_000 + orderNumber),
          orderId,
          customerId,
          refundedAt: new Date(Math.round(refundAt)),
          lines: [{ ...first, quantity: 1 }],
        });
      }
    }
  }
  return { sales, refunds, newest: new Date(newest) } satisfies SyntheticHistory;
}
