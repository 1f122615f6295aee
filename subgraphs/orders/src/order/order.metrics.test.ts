import { randomUUID } from "node:crypto";
import { createSubgraphMetrics } from "@nexus/core";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { ADDRESS, createTestOperations, logger, SHOES, TEE, useTestEnv } from "../test-env.ts";
import { createOrderTotalsReader, registerOrderMetrics } from "./order.metrics.ts";

const env = useTestEnv("orders_business_metrics");
const { A } = env;
const { data, fromInventory, insertOrder } = createTestOperations(env);

const CHECKOUT = `mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } userErrors { code } } }`;
const CANCEL = `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { userErrors { code } } }`;
/** 2 tees at 19.99 and a pair of shoes at 89.50, in cents. */
const ORDER_TOTAL = 2 * 1999 + 8950;

async function checkout(idempotencyKey: string, paymentToken?: string): Promise<string> {
  await env.carts.add(A, TEE, 2);
  await env.carts.add(A, SHOES, 1);
  const result = await data<{ checkout: { order: { id: string } | null; userErrors: unknown[] } }>(
    CHECKOUT,
    { input: { idempotencyKey, shippingAddress: ADDRESS, paymentToken } },
    { as: { id: A } },
  );
  if (!result.checkout.order) throw new Error(JSON.stringify(result.checkout.userErrors));
  return result.checkout.order.id;
}

/** The value of one series in a registry's text, or undefined when it is not exposed. */
async function value(registry: ReturnType<typeof createSubgraphMetrics>["registry"], series: string) {
  const text = await registry.metrics();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("business metrics of the orders subgraph", () => {
  it("count placed, confirmed, rejected and cancelled orders, confirmed revenue and declined payments once committed", async () => {
    const metrics = createSubgraphMetrics("orders");
    registerOrderMetrics(metrics, env.pg.db, logger, { maxAgeMs: 0 });
    const { registry } = metrics;
    expect(await value(registry, 'nexus_orders_placed_total{currency="USD"}')).toBeUndefined();

    const confirmed = await checkout("paid");
    // A replayed checkout returns the same order: nothing more is placed.
    expect(await checkout("paid")).toBe(confirmed);
    expect(await value(registry, 'nexus_orders_placed_total{currency="USD"}')).toBe(1);
    // Placed is not confirmed until the saga commits the capture.
    expect(await value(registry, 'nexus_orders_confirmed_total{currency="USD"}')).toBe(0);
    expect(await value(registry, 'nexus_orders_revenue_minor_units_total{currency="USD"}')).toBe(0);
    await fromInventory("InventoryReserved", { orderId: confirmed });

    const declined = await checkout("declined", "tok_test_decline");
    await fromInventory("InventoryReserved", { orderId: declined });

    const cancelled = await checkout("cancelled");
    expect(
      await data(CANCEL, { input: { orderId: cancelled, reason: "changed my mind" } }, { as: { id: A } }),
    ).toEqual({ cancelOrder: { userErrors: [] } });

    // Imported history is not a sale made here.
    const imported = await insertOrder(randomUUID(), new Date(), 1, "DELIVERED");
    // channel is set once at insert; an import sets it the same way.
    await sql`UPDATE orders SET channel = 'import' WHERE id = ${imported}`.execute(env.pg.db);

    expect(await value(registry, 'nexus_orders_placed_total{currency="USD"}')).toBe(3);
    expect(await value(registry, 'nexus_orders_confirmed_total{currency="USD"}')).toBe(1);
    expect(await value(registry, 'nexus_orders_rejected_total{currency="USD"}')).toBe(1);
    expect(await value(registry, 'nexus_orders_cancelled_total{currency="USD"}')).toBe(1);
    expect(await value(registry, 'nexus_orders_revenue_minor_units_total{currency="USD"}')).toBe(ORDER_TOTAL);
    expect(await value(registry, 'nexus_payments_failed_total{currency="USD"}')).toBe(1);
  });

  it("query the database at most once per period however often they are scraped", async () => {
    const metrics = createSubgraphMetrics("orders");
    registerOrderMetrics(metrics, env.pg.db, logger, { maxAgeMs: 60_000 });
    await checkout("first");
    expect(await value(metrics.registry, 'nexus_orders_placed_total{currency="USD"}')).toBe(1);
    await checkout("second");
    expect(await value(metrics.registry, 'nexus_orders_placed_total{currency="USD"}')).toBe(1);

    const fresh = createSubgraphMetrics("orders");
    registerOrderMetrics(fresh, env.pg.db, logger, { maxAgeMs: 60_000 });
    expect(await value(fresh.registry, 'nexus_orders_placed_total{currency="USD"}')).toBe(2);
  });

  it("sum settled history once and add only what was written since, starting over after a restore", async () => {
    const read = createOrderTotalsReader(env.pg.db, 60);
    const hourAgo = new Date(Date.now() - 3_600_000);
    // Two orders placed an hour ago: settled history, summed once and kept.
    await insertOrder(randomUUID(), hourAgo);
    await insertOrder(randomUUID(), hourAgo);
    expect((await read()).map((totals) => totals.placed)).toEqual([2]);
    await checkout("recent");
    // The recent one is added on each reading; the settled ones are not counted twice.
    expect((await read()).map((totals) => totals.placed)).toEqual([3]);
    expect((await read()).map((totals) => totals.placed)).toEqual([3]);

    // A restore to an empty database: the history now ends before what was kept.
    await sql`TRUNCATE orders, order_status_changes, payments, idempotency_keys CASCADE`.execute(env.pg.db);
    await sql`ALTER SEQUENCE order_status_changes_id_seq RESTART`.execute(env.pg.db);
    expect(await read()).toEqual([]);
    await checkout("after-restore");
    expect((await read()).map((totals) => totals.placed)).toEqual([1]);
  });
});
