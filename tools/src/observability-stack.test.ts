import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort, until } from "@nexus/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, stringify } from "yaml";
import { graphqlOk } from "./graphql-client.ts";
import { type Stack, startStack } from "./stack.ts";

/**
 * deploy/observability against a running stack: a real Prometheus (Debian's `prometheus`) loads
 * the repository's scrape config and rules, with only the targets moved to where the in-process
 * stack listens, and scrapes every service with the metrics token while customers buy. Then
 * every dashboard query must answer with data, except the few listed below that only an
 * incident produces, so a wrong label or metric name in a panel fails here.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
const observability = join(root, "deploy/observability");
const METRICS_TOKEN = "observability-stack-test-token";
const ADDRESS = {
  name: "Metrics Buyer",
  line1: "1 Test Way",
  city: "Berlin",
  postalCode: "10115",
  countryCode: "DE",
};

/** Panel queries with no series unless something goes wrong or a feature is used, by "file: panel #target". */
const EMPTY_WITHOUT_INCIDENT = new Set([
  "gateway-overview.json: 5xx share #0", // no 5xx answered
  "gateway-overview.json: Limit rejections #0",
  "gateway-overview.json: Load shed (503 SERVER_OVERLOADED) #0",
  "gateway-overview.json: Retries and deduplicated fetches #0",
  "gateway-overview.json: Retries and deduplicated fetches #1",
  "gateway-overview.json: Cache hit ratio #0", // no APQ or partner key used
  "gateway-overview.json: Persisted operations by client and result #0",
  "subgraph-red.json: Errors by code #0", // orders answered without errors
  "subgraph-red.json: Internal error share #0",
  "subgraph-red.json: Circuit breaker and retries #1",
  "subgraph-red.json: Cache hit ratio #0", // catalog's cache only
]);
/** Grafana's variables as the test evaluates them: orders is the subgraph that sees the traffic. */
const VARIABLES: Record<string, string> = {
  $__rate_interval: "1m",
  $__range: "10m",
  $service: "orders",
  $currency: "USD",
};

const run = promisify(execFile);
let prometheusMissing: string | undefined;
let prometheus: ChildProcess | undefined;
let prometheusUrl = "";
let workDir = "";
let stack: Stack;

interface QueryResult {
  status: string;
  error?: string;
  data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(expr: string): Promise<QueryResult> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await response.json()) as QueryResult;
}

async function scalar(expr: string): Promise<number | undefined> {
  const value = (await query(expr)).data?.result[0]?.value[1];
  return value === undefined ? undefined : Number(value);
}

beforeAll(async () => {
  try {
    await run("prometheus", ["--version"]);
  } catch (error) {
    prometheusMissing = `prometheus (Debian's prometheus package) is needed to scrape the stack: ${error instanceof Error ? error.message : String(error)}`;
    return;
  }
  stack = await startStack({
    mongoUrl: inject("mongoUrl"),
    env: { OUTBOX_POLL_MS: "100", METRICS_TOKEN },
  });

  // The repository's config, scraping every second, with the targets where this stack listens.
  const config = parse(readFileSync(join(observability, "prometheus/prometheus.yml"), "utf8")) as {
    global: Record<string, string>;
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  const port = await freePort();
  const hostOf = (url: string) => new URL(url).host;
  const where: Record<string, string> = {
    ...Object.fromEntries(Object.entries(stack.subgraphUrls).map(([name, url]) => [name, hostOf(url)])),
    gateway: hostOf(stack.endpoint),
    localhost: `127.0.0.1:${port}`,
  };
  config.global = { scrape_interval: "1s", evaluation_interval: "1s" };
  for (const job of config.scrape_configs) {
    for (const group of job.static_configs) {
      group.targets = group.targets.map((target) => {
        const moved = where[target.split(":")[0] ?? ""];
        if (!moved) throw new Error(`no stack service for scrape target ${target}`);
        return moved;
      });
    }
  }
  workDir = mkdtempSync(join(tmpdir(), "nexus-prometheus-stack-"));
  writeFileSync(join(workDir, "prometheus.yml"), stringify(config));
  writeFileSync(join(workDir, "alerts.yml"), readFileSync(join(observability, "prometheus/alerts.yml")));
  writeFileSync(join(workDir, "metrics-token"), METRICS_TOKEN);
  prometheusUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    "prometheus",
    [
      `--config.file=${join(workDir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(workDir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: "ignore" },
  );
  await until(
    "Prometheus to be ready",
    async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.ok === true,
    { timeoutMs: 30_000 },
  );
  // Targets are found a few seconds after start: wait until every one has been scraped.
  await until("Prometheus to scrape every target", async () => (await scalar("count(up == 1)")) === 8, {
    timeoutMs: 30_000,
    intervalMs: 250,
  });

  // Customers buy: four orders confirmed, two declined at payment, one of the confirmed cancelled.
  const { products } = await graphqlOk<{ products: { edges: { node: { id: string } }[] } }>(
    stack.endpoint,
    "{ products(first: 3) { edges { node { id } } } }",
  );
  const ids = products.edges.map((edge) => edge.node.id);
  const admin = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
  for (const productId of ids) {
    await graphqlOk(
      stack.endpoint,
      "mutation ($input: AdjustStockInput!) { adjustStock(input: $input) { userErrors { code } } }",
      { input: { productId, delta: 1000, reason: "observability test stock" } },
      admin,
    );
  }
  const { register } = await graphqlOk<{ register: { accessToken: string } }>(
    stack.endpoint,
    "mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }",
    {
      input: {
        email: `metrics-${randomUUID().slice(0, 8)}@example.test`,
        password: "metrics-password-1",
        name: "M",
      },
    },
  );
  const customer = { authorization: `Bearer ${register.accessToken}` };
  const placed: string[] = [];
  for (const [index, paymentToken] of [
    undefined,
    "tok_test_decline",
    undefined,
    undefined,
    "tok_test_decline",
    undefined,
  ].entries()) {
    await graphqlOk(
      stack.endpoint,
      "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }",
      { input: { productId: ids[index % ids.length], quantity: 1 } },
      customer,
    );
    const { checkout } = await graphqlOk<{ checkout: { order: { id: string } | null } }>(
      stack.endpoint,
      "mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } } }",
      { input: { idempotencyKey: randomUUID(), shippingAddress: ADDRESS, paymentToken } },
      customer,
    );
    if (checkout.order) placed.push(checkout.order.id);
  }
  expect(placed).toHaveLength(6);
  // And a client sends a query the schema does not have (an error by code at the gateway).
  const invalid = await fetch(stack.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ noSuchField }" }),
  });
  expect(invalid.status).toBe(400);
  await until(
    "every order to leave PENDING",
    async () => {
      const { rows } = await sql<{ pending: number }>`
        SELECT count(*)::int AS pending FROM orders WHERE status = 'PENDING'`.execute(stack.ordersDb);
      return rows[0]?.pending === 0;
    },
    { timeoutMs: 30_000 },
  );
  await graphqlOk(
    stack.endpoint,
    "mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { userErrors { code } } }",
    { input: { orderId: placed[0], reason: "changed my mind" } },
    customer,
  );
  // Orders reads its totals at most every 15 s; wait for the cancellation to be scraped.
  await until(
    "Prometheus to scrape the cancellation",
    async () => (await scalar('max(nexus_orders_cancelled_total{currency="USD"})')) === 1,
    { timeoutMs: 40_000, intervalMs: 500 },
  );
  // A few more scrapes, so every series that appeared meanwhile has the two samples rate() needs.
  await until("a few more scrapes", async () => ((await scalar("min(count_over_time(up[5s]))")) ?? 0) >= 4, {
    timeoutMs: 30_000,
    intervalMs: 250,
  });
  await new Promise((resolve) => setTimeout(resolve, 3000));
}, 180_000);

afterAll(async () => {
  prometheus?.kill("SIGTERM");
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const ready = () => {
  if (prometheusMissing) throw new Error(prometheusMissing);
};

describe("Prometheus with the repository's config, scraping a running stack", () => {
  it("scrapes the gateway and every subgraph with the metrics token, and loads every rule", async () => {
    ready();
    const targets = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as {
      data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] };
    };
    const services = targets.data.activeTargets.filter((target) => target.labels.job !== "prometheus");
    expect(services).toHaveLength(7);
    expect(services.map((target) => `${target.health} ${target.lastError}`.trim())).toEqual(
      Array(7).fill("up"),
    );
    const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((group) => group.rules);
    expect(loaded.length).toBeGreaterThan(10);
    expect(
      loaded.filter((rule) => rule.health === "err").map((rule) => `${rule.name}: ${rule.lastError}`),
    ).toEqual([]);
  });

  it("reports the business counters the orders database holds", async () => {
    ready();
    expect(await scalar('max(nexus_orders_placed_total{currency="USD"})')).toBe(6);
    expect(await scalar('max(nexus_orders_confirmed_total{currency="USD"})')).toBe(4);
    expect(await scalar('max(nexus_orders_rejected_total{currency="USD"})')).toBe(2);
    expect(await scalar('max(nexus_orders_cancelled_total{currency="USD"})')).toBe(1);
    expect(await scalar('max(nexus_payments_failed_total{currency="USD"})')).toBe(2);
    const { rows } = await sql<{ revenue: number }>`
      SELECT sum(total_amount)::int AS revenue FROM orders WHERE status IN ('CONFIRMED', 'CANCELLED')`.execute(
      stack.ordersDb,
    );
    expect(await scalar('max(nexus_orders_revenue_minor_units_total{currency="USD"})')).toBe(
      rows[0]?.revenue,
    );
    expect(await scalar("max(nexus_inventory_stock_ledger_drift_products)")).toBe(0);
  });

  it("answers every dashboard query, with data for all but the incident-only ones", async () => {
    ready();
    const empty: string[] = [];
    const failed: string[] = [];
    for (const file of readdirSync(join(observability, "grafana/dashboards"))) {
      const board = JSON.parse(readFileSync(join(observability, "grafana/dashboards", file), "utf8")) as {
        panels: { title: string; targets?: { expr: string }[] }[];
      };
      for (const panel of board.panels) {
        for (const [index, target] of (panel.targets ?? []).entries()) {
          const key = `${file}: ${panel.title} #${index}`;
          const result = await query(target.expr.replace(/\$[_a-z]+/g, (name) => VARIABLES[name] ?? name));
          if (result.status !== "success") failed.push(`${key}: ${result.error}`);
          else if ((result.data?.result.length ?? 0) === 0) empty.push(key);
        }
      }
    }
    expect(failed).toEqual([]);
    expect(empty.filter((key) => !EMPTY_WITHOUT_INCIDENT.has(key))).toEqual([]);
  });
});
