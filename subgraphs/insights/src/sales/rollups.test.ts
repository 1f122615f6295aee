import { randomUUID } from "node:crypto";
import type { EventEnvelope } from "@nexus/events";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEvent, createTestEnv, envelope, type TestEnv } from "../test-env.ts";
import { rebuildRollups } from "./facts.repository.ts";

/**
 * The roll-ups against the facts: a random store's events, each delivered one to three times,
 * some republished under new ids, all shuffled and applied by eight concurrent workers. The
 * roll-ups kept on the way must equal both those rebuilt from the facts and those computed here
 * from what the events say, directly.
 */

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv("insights_rollups");
});

afterAll(async () => {
  await env?.close();
});

/** A seeded generator, so a failing run can be replayed with its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = int(0, i);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  };
  return { next, int, pick, shuffle };
}

const productId = (n: number) => n.toString(16).padStart(24, "0");
const DAY = 24 * 3600 * 1000;
const START = Date.UTC(2025, 10, 1);
const dayOf = (time: number) => new Date(time).toISOString().slice(0, 10);

interface Order {
  id: string;
  customerId: string | null;
  currencyCode: string;
  placedAt: number;
  lines: { productId: string; quantity: number; unitPrice: number; categoryId: string | null }[];
  confirmed: boolean;
  reversed: boolean;
}

interface Refund {
  id: string;
  order: Order | null;
  customerId: string | null;
  currencyCode: string;
  at: number;
  lines: { productId: string; quantity: number; unitPrice: number }[];
}

/** A store's history: orders with every fate, refunds with and without their order. */
function history(seed: number) {
  const r = random(seed);
  const customers = Array.from({ length: 12 }, () => randomUUID());
  const categoryOf = (product: number) => (product % 4 === 3 ? null : `cat-${product % 3}`);
  const orders: Order[] = Array.from({ length: 160 }, () => {
    const lines = Array.from({ length: r.int(1, 4) }, () => {
      const product = r.int(1, 8);
      return {
        productId: productId(product),
        quantity: r.int(1, 5),
        unitPrice: r.int(0, 40) * 50,
        categoryId: categoryOf(product),
      };
    });
    const fate = r.next();
    return {
      id: randomUUID(),
      customerId: r.next() < 0.2 ? null : r.pick(customers),
      currencyCode: r.next() < 0.8 ? "USD" : "EUR",
      // Whole minutes over 60 days, many near midnight so a day's edge is crossed often.
      placedAt:
        START + r.int(0, 59) * DAY + (r.next() < 0.3 ? DAY - r.int(1, 5) * 60_000 : r.int(0, 1439) * 60_000),
      lines,
      confirmed: fate < 0.75,
      reversed: fate >= 0.6 && fate < 0.9,
    };
  });
  const refunds: Refund[] = Array.from({ length: 50 }, () => {
    const order = r.next() < 0.8 ? r.pick(orders) : null;
    const lines = order
      ? // Mostly the order's own products; now and then one it did not have.
        order.lines.slice(0, r.int(1, order.lines.length)).map((line) => ({
          productId: r.next() < 0.9 ? line.productId : productId(r.int(1, 8)),
          quantity: r.int(1, 2),
          unitPrice: line.unitPrice,
        }))
      : [{ productId: productId(r.int(1, 8)), quantity: r.int(1, 3), unitPrice: r.int(1, 20) * 100 }];
    return {
      id: randomUUID(),
      order,
      customerId: order ? order.customerId : r.next() < 0.5 ? null : r.pick(customers),
      currencyCode: order ? order.currencyCode : "USD",
      at: (order?.placedAt ?? START) + r.int(0, 20) * DAY + r.int(0, 1439) * 60_000,
      lines,
    };
  });
  return { r, orders, refunds };
}

function eventsOf({ r, orders, refunds }: ReturnType<typeof history>): EventEnvelope[] {
  const events: EventEnvelope[] = [];
  for (const order of orders) {
    const placed = envelope(
      "OrderPlaced",
      {
        orderId: order.id,
        customerId: order.customerId,
        currencyCode: order.currencyCode,
        lines: order.lines.map((line) =>
          line.categoryId === null
            ? { productId: line.productId, quantity: line.quantity, unitPrice: line.unitPrice }
            : { ...line, productName: "Product" },
        ),
      },
      new Date(order.placedAt),
    );
    events.push(placed);
    // The same order published again under another id: recorded once all the same.
    if (r.next() < 0.05) events.push({ ...placed, id: randomUUID() });
    const later = (minutes: number) => new Date(order.placedAt + minutes * 60_000);
    if (order.confirmed) {
      events.push(envelope("OrderConfirmed", { orderId: order.id }, later(1)));
      if (r.next() < 0.1) events.push(envelope("OrderConfirmed", { orderId: order.id }, later(2)));
      if (!order.reversed && r.next() < 0.5) {
        events.push(envelope("OrderShipped", { orderId: order.id }, later(60)));
        events.push(
          envelope(
            "OrderDelivered",
            { orderId: order.id, customerId: order.customerId ?? "", productIds: [] },
            later(120),
          ),
        );
      }
    }
    if (order.reversed) {
      const kind = r.next() < 0.5 ? "OrderCancelled" : "OrderRejected";
      events.push(envelope(kind, { orderId: order.id, reason: "test" }, later(30)));
    }
  }
  for (const refund of refunds) {
    events.push(
      envelope(
        "OrderRefunded",
        {
          refundId: refund.id,
          orderId: refund.order?.id ?? null,
          customerId: refund.customerId,
          currencyCode: refund.currencyCode,
          amount: refund.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0),
          lines: refund.lines,
          reason: "returned",
        },
        new Date(refund.at),
      ),
    );
  }
  // Every event once to three times, in any order.
  return r.shuffle(
    events.flatMap((event) => Array.from({ length: r.next() < 0.3 ? r.int(2, 3) : 1 }, () => event)),
  );
}

type Row = Record<string, string | number | null>;
const add = (table: Map<string, Row>, key: Row, figures: Record<string, number>) => {
  const id = JSON.stringify(key);
  const row = table.get(id) ?? {
    ...key,
    ...Object.fromEntries(Object.keys(figures).map((name) => [name, 0])),
  };
  for (const [name, value] of Object.entries(figures)) row[name] = (row[name] as number) + value;
  table.set(id, row);
};
const sorted = (rows: Iterable<Row>) => [...rows].map((row) => JSON.stringify(row)).sort();

/** The roll-ups computed from the store's history directly: what the rules say they must be. */
function expected({ orders, refunds }: ReturnType<typeof history>) {
  const days = new Map<string, Row>();
  const products = new Map<string, Row>();
  const categories = new Map<string, Row>();
  const customers = new Map<string, Row>();
  const merged = (order: Order) => {
    const byProduct = new Map<string, { quantity: number; amount: number; categoryId: string | null }>();
    for (const line of order.lines) {
      const known = byProduct.get(line.productId) ?? { quantity: 0, amount: 0, categoryId: line.categoryId };
      byProduct.set(line.productId, {
        quantity: known.quantity + line.quantity,
        amount: known.amount + line.quantity * line.unitPrice,
        categoryId: known.categoryId,
      });
    }
    return byProduct;
  };
  const zero = { revenue: 0, units: 0, orders: 0, returned_units: 0, refunded_amount: 0 };
  for (const order of orders.filter((o) => o.confirmed && !o.reversed)) {
    const c = order.currencyCode;
    const day = dayOf(order.placedAt);
    const lines = merged(order);
    const total = [...lines.values()].reduce((sum, line) => sum + line.amount, 0);
    const units = [...lines.values()].reduce((sum, line) => sum + line.quantity, 0);
    add(
      days,
      { currency_code: c, day },
      { revenue: total, orders: 1, units, refunds: 0, refunded_amount: 0 },
    );
    const byCategory = new Map<string, { amount: number; quantity: number }>();
    for (const [product, line] of lines) {
      add(
        products,
        { currency_code: c, day, product_id: product },
        { ...zero, revenue: line.amount, units: line.quantity, orders: 1 },
      );
      if (line.categoryId !== null) {
        const sum = byCategory.get(line.categoryId) ?? { amount: 0, quantity: 0 };
        byCategory.set(line.categoryId, {
          amount: sum.amount + line.amount,
          quantity: sum.quantity + line.quantity,
        });
      }
    }
    for (const [category, sum] of byCategory) {
      add(
        categories,
        { currency_code: c, day, category_id: category },
        { ...zero, revenue: sum.amount, units: sum.quantity, orders: 1 },
      );
    }
  }
  for (const refund of refunds) {
    const c = refund.currencyCode;
    const day = dayOf(refund.at);
    const amount = refund.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
    add(
      days,
      { currency_code: c, day },
      { revenue: 0, orders: 0, units: 0, refunds: 1, refunded_amount: amount },
    );
    const orderLines = refund.order ? merged(refund.order) : new Map();
    const byProduct = new Map<string, { quantity: number; amount: number }>();
    for (const line of refund.lines) {
      const sum = byProduct.get(line.productId) ?? { quantity: 0, amount: 0 };
      byProduct.set(line.productId, {
        quantity: sum.quantity + line.quantity,
        amount: sum.amount + line.quantity * line.unitPrice,
      });
    }
    for (const [product, sum] of byProduct) {
      add(
        products,
        { currency_code: c, day, product_id: product },
        { ...zero, returned_units: sum.quantity, refunded_amount: sum.amount },
      );
      const category = orderLines.get(product)?.categoryId;
      if (category) {
        add(
          categories,
          { currency_code: c, day, category_id: category },
          { ...zero, returned_units: sum.quantity, refunded_amount: sum.amount },
        );
      }
    }
  }
  for (const order of orders.filter((o) => o.confirmed && !o.reversed && o.customerId !== null)) {
    const lines = [...merged(order).values()];
    const key = { customer_id: order.customerId, currency_code: order.currencyCode };
    const id = JSON.stringify(key);
    const row = customers.get(id) ?? {
      ...key,
      orders: 0,
      revenue: 0,
      units: 0,
      first_order_at: null,
      last_order_at: null,
      refunds: 0,
      refunded_amount: 0,
    };
    row.orders = (row.orders as number) + 1;
    row.revenue = (row.revenue as number) + lines.reduce((sum, line) => sum + line.amount, 0);
    row.units = (row.units as number) + lines.reduce((sum, line) => sum + line.quantity, 0);
    const at = new Date(order.placedAt).toISOString();
    const first = row.first_order_at as string | null;
    const last = row.last_order_at as string | null;
    row.first_order_at = first === null || at < first ? at : first;
    row.last_order_at = last === null || at > last ? at : last;
    customers.set(id, row);
  }
  for (const refund of refunds.filter((f) => f.customerId !== null)) {
    const key = { customer_id: refund.customerId, currency_code: refund.currencyCode };
    const id = JSON.stringify(key);
    const row = customers.get(id) ?? {
      ...key,
      orders: 0,
      revenue: 0,
      units: 0,
      first_order_at: null,
      last_order_at: null,
      refunds: 0,
      refunded_amount: 0,
    };
    row.refunds = (row.refunds as number) + 1;
    row.refunded_amount =
      (row.refunded_amount as number) +
      refund.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
    customers.set(id, row);
  }
  return {
    days: sorted(days.values()),
    products: sorted(products.values()),
    categories: sorted(categories.values()),
    customers: sorted(customers.values()),
  };
}

/** The roll-ups as stored, in the same shape. */
async function stored() {
  const rows = async (query: ReturnType<typeof sql<Row>>) => sorted((await query.execute(env.pg.db)).rows);
  const figures = (names: string[]) => sql.raw(names.map((name) => `${name}::float8 AS ${name}`).join(", "));
  return {
    days: await rows(
      sql<Row>`SELECT currency_code, day::text AS day, ${figures(["revenue", "orders", "units", "refunds", "refunded_amount"])} FROM daily_sales`,
    ),
    products: await rows(
      sql<Row>`SELECT currency_code, day::text AS day, product_id, ${figures(["revenue", "units", "orders", "returned_units", "refunded_amount"])} FROM daily_product_sales`,
    ),
    categories: await rows(
      sql<Row>`SELECT currency_code, day::text AS day, category_id, ${figures(["revenue", "units", "orders", "returned_units", "refunded_amount"])} FROM daily_category_sales`,
    ),
    customers: await rows(
      sql<Row>`SELECT customer_id::text AS customer_id, currency_code, orders::float8 AS orders, revenue::float8 AS revenue,
        units::float8 AS units, to_char(first_order_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS first_order_at,
        to_char(last_order_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_order_at,
        refunds::float8 AS refunds, refunded_amount::float8 AS refunded_amount FROM customer_sales`,
    ),
  };
}

describe("roll-ups", () => {
  async function applyAll(queue: EventEnvelope[], alongside: () => Promise<void> = async () => {}) {
    // Eight workers, as the consumer runs them: each takes the next delivery when it is done.
    await Promise.all([
      ...Array.from({ length: 8 }, async () => {
        for (let event = queue.shift(); event; event = queue.shift()) await applyEvent(env.pg.db, event);
      }),
      alongside(),
    ]);
  }

  it.each([1, 2, 3])(
    "match the facts whatever order, however often and however concurrently events come (seed %i)",
    async (seed) => {
      await env.reset();
      const store = history(seed);
      await applyAll(eventsOf(store));
      const want = expected(store);
      expect(want.days.length).toBeGreaterThan(20);
      expect(want.categories.length).toBeGreaterThan(20);
      const incremental = await stored();
      expect(incremental).toEqual(want);

      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sale_orders`.execute(
        env.pg.db,
      );
      expect(rows[0]?.n).toBe(store.orders.filter((order) => order.confirmed && !order.reversed).length);

      await rebuildRollups(env.pg.db);
      expect(await stored()).toEqual(want);
    },
  );

  it("match the facts when rebuilt while events are being applied", async () => {
    await env.reset();
    const store = history(4);
    const queue = eventsOf(store);
    const total = queue.length;
    await applyAll(queue, async () => {
      // A rebuild at about a quarter, a half and three quarters of the way.
      for (const share of [0.75, 0.5, 0.25]) {
        while (queue.length > total * share) await new Promise((resolve) => setTimeout(resolve, 5));
        await rebuildRollups(env.pg.db);
      }
    });
    expect(await stored()).toEqual(expected(store));
  });
});
