/**
 * `pnpm bench:insights [--file path.csv] [--currency GBP] [--horizon-days 90] [--holdout-days 90]
 *  [--forecast-weeks 13] [--reads 200] [--customers 4400] [--months 12] [--seed 1]
 *  [--concurrency 3]`: a store's history from import to insights on this machine. Starts the whole
 * supergraph in-process (fresh databases, embedded MongoDB), imports an invoice-lines CSV (the
 * file given, or a generated year) through the gateway as `pnpm import:orders` does, waits until
 * insights has taken in every event, trains the churn model, evaluates the recommendations and
 * the demand forecast offline on the imported history and measures the insights reads through
 * the gateway. Every step is timed; import + reaching insights + training is held against the
 * 5-minute target. What it prints is in tools/README.md.
 */
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CURRENCY, isCurrencyCode, minorUnits } from "@nexus/core";
import { queueName } from "@nexus/events";
import { evaluateForecast } from "@nexus/insights/evaluation/forecast";
import { evaluateRecommendations } from "@nexus/insights/evaluation/recommendations";
import { connectRedis, createPostgresDb, startEmbeddedMongo } from "@nexus/stores";
import { TEST_REDIS_URL, until } from "@nexus/testing";
import { Queue, QueueEvents } from "bullmq";
import { type Kysely, sql } from "kysely";
import { cliChecks } from "./cli.ts";
import { graphqlOk } from "./graphql-client.ts";
import { writeHistoryCsv } from "./history/generate.ts";
import { type ImportOutcome, importPlan, type TokenSource } from "./import/client.ts";
import { readInvoiceLines } from "./import/read.ts";
import { formatReport } from "./import/report.ts";
import { startStack } from "./stack.ts";

const USAGE = `Usage: pnpm bench:insights [--file path.csv] [--currency GBP] [--horizon-days 90]
       [--holdout-days 90] [--forecast-weeks 13] [--reads 200]
       [--customers 4400] [--months 12] [--seed 1] [--concurrency 3]

Without --file a history is generated (--customers, --months, --seed) in ${DEFAULT_CURRENCY}; a file is
read as GBP unless --currency says otherwise.`;

const { values } = parseArgs({
  options: {
    file: { type: "string" },
    currency: { type: "string" },
    "horizon-days": { type: "string", default: "90" },
    "holdout-days": { type: "string", default: "90" },
    "forecast-weeks": { type: "string", default: "13" },
    reads: { type: "string", default: "200" },
    customers: { type: "string", default: "4400" },
    months: { type: "string", default: "12" },
    seed: { type: "string", default: "1" },
    concurrency: { type: "string", default: "3" },
    help: { type: "boolean", default: false },
  },
});

const { fail, whole } = cliChecks(USAGE);

if (values.help) fail("");
// The generator prices in the default store currency; an export of a real store is most often
// the UK one's (GBP). The import's currency and STORE_CURRENCY are the same, whichever it is.
const currencyCode = (values.currency ?? (values.file ? "GBP" : DEFAULT_CURRENCY)).toUpperCase();
if (!isCurrencyCode(currencyCode)) fail(`--currency must be an ISO 4217 code, not "${values.currency}"`);
const horizonDays = whole("horizon-days", values["horizon-days"], 7, 365);
const holdoutDays = whole("holdout-days", values["holdout-days"], 1, 365);
const holdoutWeeks = whole("forecast-weeks", values["forecast-weeks"], 1, 52);
const reads = whole("reads", values.reads, 1, 100_000);
const concurrency = whole("concurrency", values.concurrency, 1, 8);
const generated = {
  customers: whole("customers", values.customers, 1, 1_000_000),
  months: whole("months", values.months, 1, 120),
  seed: whole("seed", values.seed, 0, 2 ** 32 - 1),
};

const DAY_MS = 86_400_000;
const TARGET_SECONDS = 300;
const WARMUP = 10;

const n = (value: number) => value.toLocaleString("en");
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const day = (date: Date) => date.toISOString().slice(0, 10);
const pct = (rate: number) => `${(rate * 100).toFixed(1)}%`;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const heading = (text: string) => console.log(`\n== ${text}`);

/** Runs `work`, printing how long it took; returns its result and the milliseconds. */
async function timed<T>(what: string, work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  const ms = performance.now() - started;
  console.log(`${what}: ${seconds(ms)}`);
  return { value, ms };
}

/** Sums a Prometheus counter's samples whose labels contain `labels`. */
function counter(metrics: string, name: string, labels = ""): number {
  let sum = 0;
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** What the gateway refused the importer: rate limit or cost budget (429), and load shedding (503). */
interface Refusals {
  http429: number;
  limitRejections: number;
  shed: number;
}
async function refusals(metricsUrl: string): Promise<Refusals> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`${metricsUrl} answered HTTP ${response.status}`);
  const metrics = await response.text();
  return {
    http429: counter(metrics, "nexus_gateway_requests_total", 'status="429"'),
    limitRejections: counter(metrics, "nexus_gateway_limit_rejections_total"),
    shed: counter(metrics, "nexus_gateway_shed_requests_total"),
  };
}

// ---- 1. Input ----
heading("1. Input");
let tempDir: string | null = null;
let file: string;
if (values.file) {
  // pnpm runs the script from the repository root; the path is the one typed where pnpm was called.
  file = resolve(process.env.INIT_CWD ?? process.cwd(), values.file);
  console.log(`file ${file} (given), currency ${currencyCode}`);
} else {
  tempDir = await mkdtemp(join(tmpdir(), "nexus-bench-insights-"));
  file = join(tempDir, "history.csv");
  const path = file;
  const { value: summary } = await timed("generated", () =>
    writeHistoryCsv(path, { ...generated, start: "2025-01-01" }),
  );
  console.log(
    `file ${file} (generated: ${n(generated.customers)} customers, ${generated.months} months, seed ${generated.seed}), currency ${currencyCode}`,
  );
  console.log(
    `  ${n(summary.lines)} lines, ${n(summary.invoices)} invoices (${n(summary.returns)} returns), ${n(summary.customers)} customers, ${n(summary.products)} codes, ${(summary.bytes / 1_048_576).toFixed(1)} MiB`,
  );
}

// ---- 2. Stack ----
heading("2. Stack");
const mongo = await startEmbeddedMongo();
const { value: stack } = await timed("stack started", () =>
  startStack({
    mongoUrl: mongo.url,
    env: {
      STORE_CURRENCY: currencyCode,
      // Trainings and refreshes happen when this bench asks for them, not on a schedule.
      CHURN_TRAINING_CRON: "off",
      RECOMMENDATIONS_REFRESH_MS: String(24 * 3_600_000),
      // The importer is an ordinary staff client: limits generous enough for a backfill, load
      // shedding off (the whole stack shares this process's event loop).
      MAX_IN_FLIGHT_REQUESTS: "0",
      MAX_EVENT_LOOP_DELAY_MS: "0",
      RATE_LIMIT_PER_MINUTE: "100000",
      COST_BUDGET_CAPACITY: "10000000",
      COST_BUDGET_REFILL_PER_SECOND: "1000000",
      // Catalog's product cache on, as in production, for the reads.
      CATALOG_CACHE_TTL_SECONDS: "300",
    },
  }),
);
console.log(
  `STORE_CURRENCY ${currencyCode}, CHURN_TRAINING_CRON off, load shedding off, RATE_LIMIT_PER_MINUTE 100000, COST_BUDGET 10000000 (+1000000/s)`,
);
type InsightsDb = Parameters<typeof evaluateRecommendations>[0];
type InsightsDatabase = InsightsDb extends Kysely<infer D> ? D : never;
const insightsDb: InsightsDb = createPostgresDb<InsightsDatabase>(stack.databases.insights);
const redis = await connectRedis(TEST_REDIS_URL);
const queues = { connection: redis, prefix: stack.eventsPrefix };
const insightsQueue = new Queue(queueName("insights"), queues);
const modelsQueue = new Queue("insights-models", queues);
const eventsConnection = redis.duplicate();
const modelsEvents = new QueueEvents("insights-models", {
  connection: eventsConnection,
  prefix: stack.eventsPrefix,
});
const metricsUrl = stack.endpoint.replace(/\/graphql$/, "/metrics");
const adminId = randomUUID();
// A fresh token for every request: a full-year import outlives one 15-minute token.
const tokens: TokenSource = {
  token: async () => (await stack.auth.bearer(adminId, "ADMIN")).replace(/^Bearer /, ""),
};
const admin = async () => ({ authorization: await stack.auth.bearer(adminId, "ADMIN") });
const query = async <T>(text: string, variables: Record<string, unknown> = {}) =>
  graphqlOk<T>(stack.endpoint, text, variables, await admin());

try {
  // ---- 3. Import ----
  heading("3. Import");
  const before = await refusals(metricsUrl);
  const importStarted = performance.now();
  const { stats, plan } = await readInvoiceLines(createReadStream(file), minorUnits(currencyCode));
  const outcome: ImportOutcome = await importPlan(plan, {
    endpoint: stack.endpoint,
    tokens,
    currencyCode,
    concurrency,
    log: (line) => process.stderr.write(`  ${line}\n`),
  });
  const importMs = performance.now() - importStarted;
  const after = await refusals(metricsUrl);
  console.log(formatReport({ stats, plan, outcome, elapsedMs: importMs }));
  console.log(
    `import: ${seconds(importMs)}, ${n(Math.round(stats.linesRead / (importMs / 1000)))} lines/s (concurrency ${concurrency})`,
  );
  const throttled = {
    http429: after.http429 - before.http429,
    limitRejections: after.limitRejections - before.limitRejections,
    shed: after.shed - before.shed,
  };
  console.log(
    throttled.http429 + throttled.limitRejections + throttled.shed === 0
      ? "gateway limits: the importer was never throttled (no 429, no limit rejection, no shed request)"
      : `gateway limits: THROTTLED: ${throttled.http429} HTTP 429, ${throttled.limitRejections} limit rejections, ${throttled.shed} shed requests (retried by the importer)`,
  );

  // ---- 4. Insights has everything ----
  heading("4. Insights catches up");
  const first = plan.orders[0]?.at;
  const last = plan.orders.at(-1)?.at;
  if (first === undefined || last === undefined) throw new Error("the file has no sale to import");
  const rangeTo = new Date(Math.floor(last / DAY_MS) * DAY_MS + DAY_MS);
  const rangeFrom = new Date(
    Math.max(Math.floor(first / DAY_MS) * DAY_MS, rangeTo.getTime() - 1095 * DAY_MS),
  );
  const ordersExpected = outcome.orders.created + outcome.orders.existing;
  let lastSeen = { unpublished: -1, jobs: -1, orders: -1 };
  const reachStarted = performance.now();
  // When orders' relay had published everything: the rest of the wait is insights' consumer.
  let relayDrainedMs: number | null = null;
  await until(
    "insights to hold every imported order",
    async () => {
      const { rows } = await sql<{ unpublished: number }>`
        SELECT count(*)::int AS unpublished FROM outbox WHERE published_at IS NULL`.execute(stack.ordersDb);
      const unpublished = rows[0]?.unpublished ?? -1;
      const counts = await insightsQueue.getJobCounts("waiting", "active", "delayed", "prioritized");
      const jobs = Object.values(counts).reduce((sum, count) => sum + count, 0);
      let orders = -1;
      if (unpublished === 0 && jobs === 0) {
        const { salesOverview } = await query<{ salesOverview: { orders: { current: number } } }>(
          "query ($from: DateTime!, $to: DateTime!) { salesOverview(from: $from, to: $to) { orders { current } } }",
          { from: rangeFrom.toISOString(), to: rangeTo.toISOString() },
        );
        orders = salesOverview.orders.current;
      }
      if (unpublished === 0) relayDrainedMs ??= performance.now() - reachStarted;
      lastSeen = { unpublished, jobs, orders };
      return orders === ordersExpected;
    },
    { timeoutMs: 30 * 60_000, intervalMs: 250 },
  ).catch((error: unknown) => {
    throw new Error(
      `${String(error)}; last seen ${JSON.stringify(lastSeen)}, expected ${ordersExpected} orders`,
    );
  });
  const reachMs = performance.now() - reachStarted;
  const { rows: eventRows } = await sql<{ events: number }>`
    SELECT count(*)::int AS events FROM outbox`.execute(stack.ordersDb);
  const events = eventRows[0]?.events ?? 0;
  console.log(`import: ${seconds(importMs)}`);
  console.log(
    `import done -> insights has everything (relay drained, events.insights idle, salesOverview ${day(rangeFrom)}..${day(rangeTo)} = ${n(ordersExpected)} orders): ${seconds(reachMs)}`,
  );
  console.log(
    `  of which orders' relay still publishing: ${seconds(relayDrainedMs ?? reachMs)}; insights' consumer after that: ${seconds(reachMs - (relayDrainedMs ?? reachMs))}`,
  );
  console.log(
    `events: ${n(events)} from orders' outbox, ${n(Math.round(events / ((importMs + reachMs) / 1000)))} events/s from the import's start to insights having them all`,
  );

  // ---- 5. Churn model ----
  heading("5. Churn model");
  interface ChurnModel {
    version: number;
    asOf: string;
    horizonDays: number;
    trainingSize: number;
    holdoutSize: number;
    positives: number;
    holdoutPositives: number;
    auc: number;
    recencyAuc: number;
    brier: number;
    trainingMs: number;
    scoredCustomers: number;
  }
  const CHURN_MODEL = `{ churnModel { version asOf horizonDays trainingSize holdoutSize positives holdoutPositives
    auc recencyAuc brier trainingMs scoredCustomers } }`;
  const previous = (await query<{ churnModel: ChurnModel | null }>(CHURN_MODEL)).churnModel?.version ?? 0;
  const trainStarted = performance.now();
  const { trainChurnModel } = await query<{
    trainChurnModel: { run: { id: string } | null; userErrors: { code: string; message: string }[] };
  }>(
    "mutation ($input: TrainChurnModelInput!) { trainChurnModel(input: $input) { run { id } userErrors { code message } } }",
    { input: { horizonDays } },
  );
  if (!trainChurnModel.run)
    throw new Error(
      `trainChurnModel refused: ${trainChurnModel.userErrors.map((e) => `${e.code} ${e.message}`).join("; ")}`,
    );
  const model = await until(
    "a new churn model",
    async () => {
      const { churnModel } = await query<{ churnModel: ChurnModel | null }>(CHURN_MODEL);
      return churnModel && churnModel.version > previous ? churnModel : undefined;
    },
    { timeoutMs: 30 * 60_000, intervalMs: 250 },
  );
  const trainMs = performance.now() - trainStarted;
  const asOf = new Date(model.asOf);
  const horizon = model.horizonDays * DAY_MS;
  console.log(
    `training (request -> model served): ${seconds(trainMs)}; the fit itself ${seconds(model.trainingMs)}; model v${model.version}, ${n(model.scoredCustomers)} customers scored`,
  );
  console.log(
    `horizon ${model.horizonDays} days; training: features at ${day(new Date(asOf.getTime() - 2 * horizon))}, outcomes to ${day(new Date(asOf.getTime() - horizon))}; holdout: features at ${day(new Date(asOf.getTime() - horizon))}, outcomes to ${day(asOf)} (asOf)`,
  );
  console.log(
    `training ${n(model.trainingSize)} customers (${n(model.positives)} churned), holdout ${n(model.holdoutSize)} (${n(model.holdoutPositives)} churned)`,
  );
  console.log(
    `holdout AUC ${model.auc.toFixed(3)} (recency alone ${model.recencyAuc.toFixed(3)}), Brier ${model.brier.toFixed(3)}`,
  );

  // ---- 6. Recommendations and forecast ----
  heading("6. Recommendations and forecast quality");
  await timed("recommendations refresh", async () => {
    // The refresh worker's own job, queued now rather than on its schedule.
    await modelsEvents.waitUntilReady();
    const job = await modelsQueue.add(
      "recommendations-refresh",
      {},
      { removeOnComplete: 10, removeOnFail: 50 },
    );
    await job.waitUntilFinished(modelsEvents, 10 * 60_000);
  });
  const { value: recommendations } = await timed(
    `evaluateRecommendations (holdout ${holdoutDays} days)`,
    () => evaluateRecommendations(insightsDb, { holdoutDays }),
  );
  if (recommendations.holdoutFrom) {
    const holdoutEnd = new Date(recommendations.holdoutFrom.getTime() + holdoutDays * DAY_MS);
    console.log(
      `holdout ${recommendations.holdoutFrom.toISOString()} .. ${holdoutEnd.toISOString()} (newest sale): ${n(recommendations.baskets)} baskets of 2+ products, ${n(recommendations.coPurchase.cases)} cases`,
    );
  }
  console.log(
    `hit rate@10: co-purchase ${pct(recommendations.coPurchase.rate)} (${n(recommendations.coPurchase.hits)}), popularity ${pct(recommendations.popularity.rate)} (${n(recommendations.popularity.hits)})`,
  );
  const { value: forecast } = await timed(`evaluateForecast (holdout ${holdoutWeeks} weeks)`, () =>
    evaluateForecast(insightsDb, { holdoutWeeks }),
  );
  if (forecast.holdoutFrom) {
    const holdoutEnd = new Date(forecast.holdoutFrom.getTime() + holdoutWeeks * 7 * DAY_MS);
    console.log(
      `holdout weeks ${day(forecast.holdoutFrom)} .. ${day(holdoutEnd)} (excluded), ${n(forecast.products)} products with 26+ weeks of history`,
    );
  }
  console.log(
    `forecast MAE ${forecast.model.mae.toFixed(2)} units/product-week, WAPE ${forecast.model.wape.toFixed(3)}; naive last-4-weeks mean MAE ${forecast.naive.mae.toFixed(2)}, WAPE ${forecast.naive.wape.toFixed(3)}`,
  );

  // ---- 7. Reads ----
  heading(`7. Reads through the gateway (${reads} each, after ${WARMUP} warm-up)`);
  const newestDay = rangeTo.getTime();
  const { productPerformance } = await query<{
    productPerformance: { edges: { node: { product: { id: string } } }[] };
  }>(
    "query ($from: DateTime!, $to: DateTime!) { productPerformance(from: $from, to: $to, first: 3) { edges { node { product { id } } } } }",
    { from: rangeFrom.toISOString(), to: rangeTo.toISOString() },
  );
  const productIds = productPerformance.edges.map((edge) => edge.node.product.id);
  const { rows: orderRows } = await sql<{ id: string }>`
    SELECT id FROM orders ORDER BY placed_at DESC LIMIT 1`.execute(stack.ordersDb);
  const orderId = orderRows[0]?.id;
  if (productIds.length === 0 || !orderId) throw new Error("no product or order to read");
  const last30 = { from: new Date(newestDay - 30 * DAY_MS).toISOString(), to: rangeTo.toISOString() };
  const last90 = { from: new Date(newestDay - 90 * DAY_MS).toISOString(), to: rangeTo.toISOString() };
  const READS: Record<string, { text: string; variables: Record<string, unknown> }> = {
    salesOverview: {
      text: `query ($from: DateTime!, $to: DateTime!) { salesOverview(from: $from, to: $to) {
        revenue { current { amount currencyCode } changeRatio } orders { current previous }
        units { current } customers { current } averageOrderValue { current { amount } }
        returningCustomerShare { current } } }`,
      variables: last30,
    },
    salesTrend: {
      text: `query ($from: DateTime!, $to: DateTime!) { salesTrend(from: $from, to: $to, interval: DAY) {
        from revenue { amount } orders units } }`,
      variables: last90,
    },
    productPerformance: {
      text: `query ($from: DateTime!, $to: DateTime!) { productPerformance(from: $from, to: $to, first: 20) {
        totalCount edges { node { product { id name } revenue { amount } units orders returnRate } } } }`,
      variables: { from: rangeFrom.toISOString(), to: rangeTo.toISOString() },
    },
    customerInsights: {
      text: `{ customerInsights(first: 20) { totalCount edges { node { valueAtRisk { amount }
        insights { segment rfm { score } churnRisk { probability band drivers } } } } } }`,
      variables: {},
    },
    basketRecommendations: {
      text: "query ($ids: [ID!]!) { basketRecommendations(productIds: $ids) { id name } }",
      variables: { ids: productIds },
    },
    demandForecast: {
      text: `query ($id: ID!) { product(id: $id) { id demandForecast(weeks: 4) { method historyWeeks
        categorySeasonality weeks { weekStart units low high } } } }`,
      variables: { id: productIds[0] },
    },
    riskAssessment: {
      text: "query ($id: ID!) { order(id: $id) { id riskAssessment { score level reasons { code weight } } } }",
      variables: { id: orderId },
    },
  };
  const headers = await admin();
  for (const [name, { text, variables }] of Object.entries(READS)) {
    for (let i = 0; i < WARMUP; i++) await graphqlOk(stack.endpoint, text, variables, headers);
    const times: number[] = [];
    for (let i = 0; i < reads; i++) {
      const started = performance.now();
      await graphqlOk(stack.endpoint, text, variables, headers);
      times.push(performance.now() - started);
    }
    console.log(
      `${name.padEnd(22)} p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
    );
  }

  // ---- 8. Total ----
  heading("8. Total");
  const totalMs = importMs + reachMs + trainMs;
  console.log(
    `import ${seconds(importMs)} + reaching insights ${seconds(reachMs)} + training ${seconds(trainMs)} = ${seconds(totalMs)}: ${totalMs <= TARGET_SECONDS * 1000 ? "within" : "OVER"} the ${TARGET_SECONDS / 60}-minute target`,
  );
} finally {
  await modelsEvents.close();
  await modelsQueue.close();
  await insightsQueue.close();
  eventsConnection.disconnect();
  redis.disconnect();
  await insightsDb.destroy();
  await stack.stop();
  await mongo.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
}
