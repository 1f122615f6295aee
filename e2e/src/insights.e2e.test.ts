/**
 * A store's history, end to end: a generated invoice-lines history is imported through the
 * gateway by the same client as `pnpm import:orders` (products into catalog, customers into
 * users, invoices into orders), reaches insights as events, and every figure insights shows is
 * checked against what was sent. Then a churn model is trained on it through the gateway, and
 * recommendations, forecasts and order risk answer for the imported store.
 */
import { randomUUID } from "node:crypto";
import { until } from "@nexus/testing";
import { graphqlOk } from "@nexus/tools/graphql-client";
import { demoHistoryPlan } from "@nexus/tools/history/seed-demo";
import { fixedToken, Importer, type ImportOutcome } from "@nexus/tools/import/client";
import type { ImportPlan } from "@nexus/tools/import/plan";
import { type Stack, startStack } from "@nexus/tools/stack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const DAY = 86_400_000;

let stack: Stack;
let admin: { authorization: string };
let plan: ImportPlan;
let first: ImportOutcome;

/** Six months of a small shop: 80 customers, a few lines an invoice, returns and guest sales. */
const HISTORY = { seed: 13, customers: 80, months: 6, start: "2026-01-01", products: 40, basketLines: 4 };

async function importHistory(): Promise<ImportOutcome> {
  const importer = new Importer({
    endpoint: stack.endpoint,
    tokens: fixedToken(admin.authorization.slice("Bearer ".length)),
    currencyCode: "USD",
    concurrency: 2,
  });
  await importer.products(plan.products);
  await importer.customers(plan.customers);
  await importer.invoices("orders", plan.orders);
  await importer.invoices("returns", plan.returns);
  return importer.outcome;
}

const query = <T>(document: string, variables: Record<string, unknown> = {}) =>
  graphqlOk<T>(stack.endpoint, document, variables, admin);

/** What the plan sent: sales and refunds, in minor units, with the customers who bought. */
function expectedTotals() {
  const total = (invoice: ImportPlan["orders"][number]) =>
    invoice.lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
  return {
    orders: plan.orders.length,
    units: plan.orders.reduce((sum, invoice) => sum + invoice.lines.reduce((s, l) => s + l.quantity, 0), 0),
    sales: plan.orders.reduce((sum, invoice) => sum + total(invoice), 0),
    refunded: plan.returns.reduce((sum, invoice) => sum + total(invoice), 0),
    customers: new Set(plan.orders.flatMap((invoice) => invoice.customerExternalId ?? [])).size,
  };
}

interface Overview {
  salesOverview: {
    revenue: { current: { amount: number; currencyCode: string } };
    refunded: { current: { amount: number } };
    orders: { current: number };
    units: { current: number };
    customers: { current: number };
  };
}

const OVERVIEW = `query ($from: DateTime!, $to: DateTime!) {
  salesOverview(from: $from, to: $to) {
    revenue { current { amount currencyCode } }
    refunded { current { amount } }
    orders { current }
    units { current }
    customers { current }
  }
}`;

/** The whole history and a margin: from the first day to the day after the last invoice. */
function wholeRange(): { from: string; to: string } {
  const last = Math.max(...[...plan.orders, ...plan.returns].map((invoice) => invoice.at));
  return {
    from: `${HISTORY.start}T00:00:00.000Z`,
    to: new Date(Math.floor(last / DAY) * DAY + DAY).toISOString(),
  };
}

beforeAll(async () => {
  stack = await startStack({
    mongoUrl: inject("mongoUrl"),
    env: {
      OUTBOX_POLL_MS: "100",
      CHURN_TRAINING_CRON: "off",
      RECOMMENDATIONS_REFRESH_MS: "10000",
      MAX_IN_FLIGHT_REQUESTS: "0",
      MAX_EVENT_LOOP_DELAY_MS: "0",
    },
  });
  admin = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
  plan = demoHistoryPlan(HISTORY);
  first = await importHistory();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe("importing a store's history through the gateway", () => {
  it("creates every product, customer, order and return once", () => {
    expect(plan.orders.length).toBeGreaterThan(100);
    expect(plan.returns.length).toBeGreaterThan(0);
    expect(first.products).toEqual({ created: plan.products.length, existing: 0, failed: 0 });
    expect(first.customers).toEqual({ created: plan.customers.length, existing: 0, failed: 0 });
    expect(first.orders).toEqual({ created: plan.orders.length, existing: 0, failed: 0 });
    expect(first.returns).toEqual({ created: plan.returns.length, existing: 0, failed: 0 });
  });

  it("reaches insights as events, and every sales figure is what was imported", async () => {
    const expected = expectedTotals();
    const { salesOverview } = await until(
      "insights to hear every imported order and return",
      async () => {
        const overview = await query<Overview>(OVERVIEW, wholeRange());
        const figures = overview.salesOverview;
        return figures.orders.current === expected.orders &&
          figures.refunded.current.amount === expected.refunded
          ? overview
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(salesOverview.revenue.current).toEqual({
      amount: expected.sales - expected.refunded,
      currencyCode: "USD",
    });
    expect(salesOverview.units.current).toBe(expected.units);
    expect(salesOverview.customers.current).toBe(expected.customers);
  });

  it("changes nothing when the same history is imported again", async () => {
    const before = await query<Overview>(OVERVIEW, wholeRange());
    const again = await importHistory();
    expect(again.products).toEqual({ created: 0, existing: plan.products.length, failed: 0 });
    expect(again.customers).toEqual({ created: 0, existing: plan.customers.length, failed: 0 });
    expect(again.orders).toEqual({ created: 0, existing: plan.orders.length, failed: 0 });
    expect(again.returns).toEqual({ created: 0, existing: plan.returns.length, failed: 0 });
    expect(await query<Overview>(OVERVIEW, wholeRange())).toEqual(before);
  });

  it("finds an imported product by sku and an imported customer by external id", async () => {
    const sku = plan.products[0]?.sku ?? "";
    const { product } = await query<{ product: { sku: string; name: string } | null }>(
      "query ($sku: String!) { product(sku: $sku) { sku name } }",
      { sku },
    );
    expect(product?.sku).toBe(sku);
  });
});

describe("the models on the imported store", () => {
  it("trains a churn model through the gateway and scores the customers", async () => {
    const { trainChurnModel } = await query<{
      trainChurnModel: { run: { id: string } | null; userErrors: { code: string }[] };
    }>("mutation { trainChurnModel(input: { horizonDays: 30 }) { run { id } userErrors { code } } }");
    expect(trainChurnModel.userErrors).toEqual([]);
    const { churnModel } = await until(
      "the churn model to be trained",
      () =>
        query<{
          churnModel: {
            horizonDays: number;
            auc: number;
            holdoutSize: number;
            scoredCustomers: number;
          } | null;
        }>("{ churnModel { horizonDays auc holdoutSize scoredCustomers } }").then((answer) =>
          answer.churnModel ? answer : undefined,
        ),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(churnModel?.horizonDays).toBe(30);
    expect(churnModel?.holdoutSize).toBeGreaterThan(0);
    expect(churnModel?.auc).toBeGreaterThanOrEqual(0);
    expect(churnModel?.auc).toBeLessThanOrEqual(1);

    const { customerInsights } = await query<{
      customerInsights: {
        totalCount: number;
        edges: {
          node: {
            customer: { id: string; externalId: string | null };
            insights: { segment: string; churnRisk: { probability: number; band: string } };
          };
        }[];
      };
    }>(`{ customerInsights(first: 5) { totalCount edges { node {
      customer { id externalId } insights { segment churnRisk { probability band } } } } } }`);
    expect(customerInsights.totalCount).toBe(churnModel?.scoredCustomers);
    const top = customerInsights.edges[0]?.node;
    expect(plan.customers.map((customer) => customer.externalId)).toContain(top?.customer.externalId);
    expect(top?.insights.churnRisk.probability).toBeGreaterThanOrEqual(0);

    // The same scores on the customer, through users' User entity.
    const { user } = await query<{ user: { insights: { churnRisk: { probability: number } } | null } }>(
      "query ($id: ID!) { user(id: $id) { insights { churnRisk { probability } } } }",
      { id: top?.customer.id },
    );
    expect(user.insights?.churnRisk.probability).toBe(top?.insights.churnRisk.probability);
  });

  it("recommends imported products for a basket, never the basket itself", async () => {
    const basket = plan.orders.find((invoice) => invoice.lines.length >= 2);
    const { product } = await query<{ product: { id: string } | null }>(
      "query ($sku: String!) { product(sku: $sku) { id } }",
      { sku: basket?.lines[0]?.sku },
    );
    const productId = product?.id ?? "";
    const { basketRecommendations } = await until(
      "the recommendations refresh to see the imported sales",
      () =>
        query<{ basketRecommendations: { id: string; sku: string }[] }>(
          "query ($ids: [ID!]!) { basketRecommendations(productIds: $ids, first: 5) { id sku } }",
          { ids: [productId] },
        ).then((answer) => (answer.basketRecommendations.length > 0 ? answer : undefined)),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(basketRecommendations.map((item) => item.id)).not.toContain(productId);
    const skus = new Set(plan.products.map((planned) => planned.sku));
    for (const item of basketRecommendations) expect(skus).toContain(item.sku);

    const { product: forecast } = await query<{
      product: { demandForecast: { weeks: { units: number; low: number; high: number }[] } };
    }>("query ($id: ID!) { product(id: $id) { demandForecast(weeks: 4) { weeks { units low high } } } }", {
      id: productId,
    });
    expect(forecast.demandForecast.weeks).toHaveLength(4);
    for (const week of forecast.demandForecast.weeks) {
      expect(week.low).toBeLessThanOrEqual(week.units);
      expect(week.units).toBeLessThanOrEqual(week.high);
    }
  });
});
