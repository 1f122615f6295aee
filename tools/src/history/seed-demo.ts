/**
 * The demo's purchase history: a generated history over the demo catalog's products, loaded
 * through the gateway by the same client as `pnpm import:orders`, so insights has months of
 * sales, customers and returns to show on a first start.
 */

import { type DemoProduct, demoProducts } from "@nexus/catalog/demo";
import { DEFAULT_CURRENCY } from "@nexus/core";
import { graphqlOk } from "../graphql-client.ts";
import { fixedToken, Importer, type ImportOutcome } from "../import/client.ts";
import { COLUMNS } from "../import/lines.ts";
import type { ImportPlan } from "../import/plan.ts";
import { readRecords } from "../import/read.ts";
import { type CatalogProduct, type HistoryOptions, type HistoryRow, historyRows } from "./generate.ts";

const DAY = 86_400_000;

/**
 * What the demo history is: 8 months up to yesterday, 300 customers of a retail shop (small
 * baskets, single items) over the demo catalog's active products, grouped by category. Customer
 * ids and invoice numbers are in ranges of their own so they do not meet a real file's.
 */
export function demoHistoryOptions(
  today: Date,
  products: readonly DemoProduct[] = demoProducts(),
): HistoryOptions {
  const months = 8;
  const yesterday = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) - DAY);
  // The generator covers [start, start + months): starting the day after the same day 8 months
  // back, it ends with yesterday.
  const start = new Date(
    Date.UTC(yesterday.getUTCFullYear(), yesterday.getUTCMonth() - months, yesterday.getUTCDate()) + DAY,
  );
  const catalog: CatalogProduct[] = products
    .filter((product) => product.status === "ACTIVE")
    .map((product) => ({
      sku: product.sku,
      name: product.name,
      unitPrice: product.price,
      group: product.categoryId,
    }));
  return {
    seed: 2026,
    customers: 300,
    months,
    start: start.toISOString().slice(0, 10),
    catalog,
    retail: true,
    basketLines: 3,
    firstCustomerId: 900_001,
    firstInvoiceNo: 900_001,
  };
}

/**
 * The generator writes prices with two decimals, and the demo's amounts are minor units of
 * whatever the store currency is (as the catalog seeds them: 2999 is 29.99 USD or 2999 yen), so
 * the demo history is always read back with two digits, giving the catalog's own amounts.
 */
const DEMO_PRICE_DIGITS = 2;

/** The demo history as an import plan (no CSV text in between). */
export function demoHistoryPlan(options: HistoryOptions): ImportPlan {
  const records = (function* () {
    yield [...COLUMNS];
    for (const row of historyRows(options)) yield COLUMNS.map((column) => row[column as keyof HistoryRow]);
  })();
  return readRecords(records, DEMO_PRICE_DIGITS).plan;
}

export type SeedResult =
  | { seeded: false; reason: "already-loaded" | "store-history" }
  | { seeded: true; outcome: ImportOutcome };

/** The category the catalog puts imported products in, created by the first import of a new sku. */
const IMPORTED_CATEGORY_SLUG = "imported";

/**
 * Loads the demo history unless the store has history already:
 * - a store's own import made the catalog's "Imported" category (the demo's products all exist,
 *   so loading the demo never makes it): nothing is sent;
 * - an earlier start loaded the demo history: after products and customers (both idempotent),
 *   the history's newest order is sent alone, and if the store has it nothing more is sent
 *   (orders go oldest first, so the newest is there only when all are).
 */
export async function seedDemoHistory(
  gatewayUrl: string,
  token: string,
  options: { today?: Date; log?: (line: string) => void; currencyCode?: string } = {},
): Promise<SeedResult> {
  const { category } = await graphqlOk<{ category: { id: string } | null }>(
    gatewayUrl,
    "query ($slug: String!) { category(slug: $slug) { id } }",
    { slug: IMPORTED_CATEGORY_SLUG },
    { authorization: `Bearer ${token}` },
  );
  if (category) return { seeded: false, reason: "store-history" };
  const plan = demoHistoryPlan(demoHistoryOptions(options.today ?? new Date()));
  const importer = new Importer({
    endpoint: gatewayUrl,
    tokens: fixedToken(token),
    // The store's: the catalog refuses product prices in any other.
    currencyCode: options.currencyCode ?? DEFAULT_CURRENCY,
    concurrency: 2,
    log: options.log,
  });
  const newest = plan.orders.at(-1);
  if (!newest) return { seeded: false, reason: "already-loaded" };
  await importer.products(plan.products);
  await importer.customers(plan.customers);
  await importer.invoices("orders", [newest]);
  if (importer.outcome.orders.existing > 0) return { seeded: false, reason: "already-loaded" };
  await importer.invoices("orders", plan.orders.slice(0, -1));
  await importer.invoices("returns", plan.returns);
  return { seeded: true, outcome: importer.outcome };
}

export type DemoModels =
  | { trained: true; auc: number; recencyAuc: number; scoredCustomers: number }
  | { trained: false; reason: "model-exists" | "insights-behind" | string };

/**
 * Trains the first churn model and rebuilds the recommendations once insights has taken in the
 * demo history (at least `orders` sale orders since `from`), so customer insights and "you may
 * also like" are there on a first start rather than after the nightly training. Nothing is done
 * when a churn model exists already.
 */
export async function trainDemoModels(
  gatewayUrl: string,
  token: string,
  { orders, from, timeoutMs = 120_000 }: { orders: number; from: Date; timeoutMs?: number },
): Promise<DemoModels> {
  const headers = { authorization: `Bearer ${token}` };
  const ask = <T>(query: string, variables: Record<string, unknown> = {}) =>
    graphqlOk<T>(gatewayUrl, query, variables, headers);
  const model = () =>
    ask<{ churnModel: { auc: number; recencyAuc: number; scoredCustomers: number } | null }>(
      "{ churnModel { auc recencyAuc scoredCustomers } }",
    ).then((answer) => answer.churnModel);
  if (await model()) return { trained: false, reason: "model-exists" };

  const today = new Date();
  const range = {
    from: new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate())).toISOString(),
    to: new Date(
      Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()) + DAY,
    ).toISOString(),
  };
  const deadline = Date.now() + timeoutMs;
  const pause = () => new Promise((resolve) => setTimeout(resolve, 500));
  // The import's events reach insights a little after the import returns.
  for (;;) {
    const { salesOverview } = await ask<{ salesOverview: { orders: { current: number } } }>(
      "query ($from: DateTime!, $to: DateTime!) { salesOverview(from: $from, to: $to) { orders { current } } }",
      range,
    );
    if (salesOverview.orders.current >= orders) break;
    if (Date.now() > deadline) return { trained: false, reason: "insights-behind" };
    await pause();
  }
  await ask("mutation { refreshRecommendations { queued } }");
  const { trainChurnModel } = await ask<{ trainChurnModel: { userErrors: { message: string }[] } }>(
    "mutation { trainChurnModel(input: {}) { userErrors { message } } }",
  );
  const refused = trainChurnModel.userErrors[0];
  if (refused) return { trained: false, reason: refused.message };
  for (;;) {
    const trained = await model();
    if (trained) return { trained: true, ...trained };
    if (Date.now() > deadline) return { trained: false, reason: "the training did not finish in time" };
    await pause();
  }
}
