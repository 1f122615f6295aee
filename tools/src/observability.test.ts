import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createSubgraphMetrics } from "@nexus/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

/**
 * deploy/observability as code: Prometheus' config and rules pass `promtool check` and every
 * rule's unit tests (`promtool test rules`), every alert links to a section of the runbook that
 * exists, and every metric a dashboard or a rule queries is one the code exposes, so neither can
 * drift from the metrics.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
const observability = join(root, "deploy/observability");
const run = promisify(execFile);

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTests {
  rule_files: string[];
  tests: { name?: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}
interface Target {
  expr?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: { name: string; query?: string | { query: string } }[] };
}

const rules = (): Rule[] => {
  const file = parse(readFileSync(join(observability, "prometheus/alerts.yml"), "utf8")) as {
    groups: { name: string; rules: Rule[] }[];
  };
  return file.groups.flatMap((group) => group.rules);
};

const dashboards = (): { file: string; board: Dashboard }[] =>
  readdirSync(join(observability, "grafana/dashboards"))
    .filter((file) => file.endsWith(".json"))
    .map((file) => ({
      file,
      board: JSON.parse(readFileSync(join(observability, "grafana/dashboards", file), "utf8")) as Dashboard,
    }));

const panelsOf = (panels: Panel[]): Panel[] =>
  panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);

/** Every PromQL expression of a dashboard: its panels' targets and its variables' queries. */
function expressionsOf(board: Dashboard): { where: string; expr: string }[] {
  const targets = panelsOf(board.panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr ?? "" })),
  );
  const variables = (board.templating?.list ?? []).map((variable) => ({
    where: `variable ${variable.name}`,
    expr: typeof variable.query === "string" ? variable.query : (variable.query?.query ?? ""),
  }));
  return [...targets, ...variables];
}

/** The `nexus_*` metric names an expression reads. */
const metricNames = (expr: string): string[] =>
  [...expr.matchAll(/\bnexus_[a-z0-9_]+/g)].map((match) => match[0]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/**
 * The metric names the services expose: every `"nexus_..."` literal in their sources, and the
 * process metrics prom-client adds under each service's prefix (read from a real registry).
 */
function exposedMetrics(): { names: Set<string>; processSuffixes: string[] } {
  const dirs = [
    "gateway/src",
    ...readdirSync(join(root, "packages")).map((name) => `packages/${name}/src`),
    ...readdirSync(join(root, "subgraphs")).map((name) => `subgraphs/${name}/src`),
  ].filter((dir) => existsSync(join(root, dir)));
  const names = new Set<string>();
  for (const file of dirs.flatMap((dir) => sourceFiles(join(root, dir)))) {
    for (const match of readFileSync(file, "utf8").matchAll(/"(nexus_[a-z0-9_]+)"/g))
      names.add(match[1] ?? "");
  }
  const probe = createSubgraphMetrics("probe");
  const processSuffixes = probe.registry
    .getMetricsAsArray()
    .map((metric) => metric.name)
    .filter((name) => name.startsWith("nexus_probe_"))
    .map((name) => name.slice("nexus_probe_".length));
  return { names, processSuffixes };
}

const SERVICES = ["gateway", "users", "catalog", "orders", "inventory", "insights", "notifications"];

/** Whether `name` (a series name: histograms add _bucket, _count, _sum) is one the code exposes. */
function isExposed(name: string, exposed: ReturnType<typeof exposedMetrics>): boolean {
  const base = name.replace(/_(bucket|count|sum)$/, "");
  if (exposed.names.has(name) || exposed.names.has(base)) return true;
  return SERVICES.some((service) =>
    exposed.processSuffixes.some(
      (suffix) => name === `nexus_${service}_${suffix}` || base === `nexus_${service}_${suffix}`,
    ),
  );
}

/** GitHub's anchor for a Markdown heading. */
const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

let promtoolMissing: string | undefined;
let workDir = "";

beforeAll(async () => {
  try {
    await run("promtool", ["--version"]);
  } catch (error) {
    promtoolMissing = `promtool (Debian's prometheus package) is needed to check deploy/observability/prometheus: ${error instanceof Error ? error.message : String(error)}`;
    return;
  }
  // The scrape config names a token file that docker-compose writes at start; give it one.
  workDir = mkdtempSync(join(tmpdir(), "nexus-prometheus-"));
  cpSync(join(observability, "prometheus"), workDir, { recursive: true });
  writeFileSync(join(workDir, "metrics-token"), "test-token");
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function promtool(...args: string[]): Promise<string> {
  if (promtoolMissing) throw new Error(promtoolMissing);
  try {
    const { stdout, stderr } = await run("promtool", args, { cwd: workDir });
    return stdout + stderr;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `promtool ${args.join(" ")} failed:\n${failed.stdout ?? ""}${failed.stderr ?? failed.message}`,
    );
  }
}

describe("Prometheus", () => {
  it("accepts the scrape config and the rules it loads", async () => {
    expect(await promtool("check", "config", "prometheus.yml")).toContain("SUCCESS");
    expect(await promtool("check", "rules", "alerts.yml")).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("passes every alert's unit tests", async () => {
    expect(await promtool("test", "rules", "alerts.test.yml")).toContain("SUCCESS");
  });

  it("has a unit test for every alert, expecting it to fire", () => {
    const tests = parse(readFileSync(join(observability, "prometheus/alerts.test.yml"), "utf8")) as RuleTests;
    expect(tests.rule_files).toEqual(["alerts.yml"]);
    const fired = new Set(
      tests.tests.flatMap((test) =>
        (test.alert_rule_test ?? [])
          .filter((check) => check.exp_alerts.length > 0)
          .map((check) => check.alertname),
      ),
    );
    const alerts = rules().flatMap((rule) => (rule.alert ? [rule.alert] : []));
    expect(alerts.length).toBeGreaterThan(10);
    expect(alerts.filter((alert) => !fired.has(alert))).toEqual([]);
  });

  it("scrapes the gateway and the six subgraphs at the ports docker-compose runs them on", () => {
    const config = parse(readFileSync(join(observability, "prometheus/prometheus.yml"), "utf8")) as {
      scrape_configs: {
        job_name: string;
        static_configs: { targets: string[] }[];
        authorization?: unknown;
      }[];
    };
    const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8")) as {
      services: Record<string, { healthcheck?: { test?: string[] } }>;
    };
    const targets = config.scrape_configs
      .filter((job) => job.job_name !== "prometheus")
      .flatMap((job) => {
        expect(job.authorization, `${job.job_name} sends the metrics token`).toEqual({
          credentials_file: "metrics-token",
        });
        return job.static_configs.flatMap((group) => group.targets);
      });
    expect(targets.map((target) => target.split(":")[0]).sort()).toEqual([...SERVICES].sort());
    for (const target of targets) {
      const [service, port] = target.split(":");
      // Each service's healthcheck calls its own port: the port the scrape must use.
      const probe = compose.services[service ?? ""]?.healthcheck?.test?.join(" ") ?? "";
      expect(probe, `docker-compose healthcheck of ${service}`).toContain(`127.0.0.1:${port}/`);
    }
  });
});

/** Grafana's variables, replaced by values Prometheus accepts, so promtool can parse a panel's query. */
const GRAFANA_VARIABLES: Record<string, string> = {
  $__rate_interval: "1m",
  $__range: "1h",
  $service: "orders",
  $currency: "USD",
};

describe("dashboard queries", () => {
  it("are all valid PromQL (promtool parses each as a recording rule)", async () => {
    if (promtoolMissing) throw new Error(promtoolMissing);
    const expressions = dashboards().flatMap(({ file, board }) =>
      expressionsOf(board)
        // label_values() is Grafana's, not PromQL.
        .filter(({ expr }) => !expr.startsWith("label_values("))
        .map(({ where, expr }) => ({
          where: `${file} ${where}`,
          expr: expr.replace(/\$[_a-z]+/g, (name) => GRAFANA_VARIABLES[name] ?? name),
        })),
    );
    expect(expressions.length).toBeGreaterThan(50);
    for (const { where, expr } of expressions) expect(expr, `${where}: unknown variable`).not.toContain("$");
    const rulesFile = {
      groups: [
        {
          name: "dashboards",
          rules: expressions.map(({ expr }, index) => ({ record: `dashboard:query:${index}`, expr })),
        },
      ],
    };
    writeFileSync(join(workDir, "dashboard-queries.yml"), stringify(rulesFile));
    expect(await promtool("check", "rules", "dashboard-queries.yml")).toContain(
      `SUCCESS: ${expressions.length} rules found`,
    );
  });
});

describe("alerts and the runbook", () => {
  it("give every alert a severity, a summary, a description and a runbook section that exists", () => {
    const runbook = readFileSync(join(root, "docs/runbook.md"), "utf8");
    const anchors = new Set(
      [...runbook.matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1] ?? "")),
    );
    for (const rule of rules()) {
      if (!rule.alert) continue;
      expect(["critical", "warning"], `${rule.alert} severity`).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, `${rule.alert} summary`).toBeTruthy();
      expect(rule.annotations?.description, `${rule.alert} description`).toBeTruthy();
      const [path, anchor] = (rule.annotations?.runbook_url ?? "").split("#");
      expect(path, `${rule.alert} runbook_url`).toBe("docs/runbook.md");
      expect(
        anchors.has(anchor ?? ""),
        `${rule.alert}: no heading with anchor #${anchor} in docs/runbook.md`,
      ).toBe(true);
    }
  });
});

describe("metric names", () => {
  const exposed = exposedMetrics();

  it("are found in the code, including the process metrics under each service's prefix", () => {
    for (const name of [
      "nexus_gateway_requests_total",
      "nexus_subgraph_requests_total",
      "nexus_event_lag_seconds",
      "nexus_orders_placed_total",
      "nexus_inventory_stock_ledger_drift_products",
    ]) {
      expect(exposed.names.has(name), name).toBe(true);
    }
    expect(exposed.processSuffixes).toContain("process_cpu_seconds_total");
    expect(isExposed("nexus_gateway_request_duration_seconds_bucket", exposed)).toBe(true);
    expect(isExposed("nexus_gateway_process_resident_memory_bytes", exposed)).toBe(true);
    expect(isExposed("nexus_gateway_no_such_metric_total", exposed)).toBe(false);
  });

  it("queried by the alert rules all exist", () => {
    const unknown = rules().flatMap((rule) =>
      metricNames(rule.expr)
        .filter((name) => !isExposed(name, exposed))
        .map((name) => `${rule.alert ?? rule.record}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it("queried by the dashboards all exist, and every dashboard reads the provisioned Prometheus", () => {
    const boards = dashboards();
    expect(boards.map(({ file }) => file).sort()).toEqual([
      "business.json",
      "gateway-overview.json",
      "saga-events.json",
      "subgraph-red.json",
    ]);
    const datasources = parse(
      readFileSync(join(observability, "grafana/provisioning/datasources/datasources.yml"), "utf8"),
    ) as { datasources: { uid: string; type: string }[] };
    const prometheus = datasources.datasources.find((source) => source.type === "prometheus");
    expect(new Set(boards.map(({ board }) => board.uid)).size).toBe(boards.length);
    for (const { file, board } of boards) {
      const expressions = expressionsOf(board);
      expect(expressions.length, `${file} has queries`).toBeGreaterThan(5);
      const unknown = expressions.flatMap(({ where, expr }) =>
        metricNames(expr)
          .filter((name) => !isExposed(name, exposed))
          .map((name) => `${file} ${where}: ${name}`),
      );
      expect(unknown).toEqual([]);
      for (const panel of panelsOf(board.panels).filter((candidate) => candidate.type !== "row")) {
        expect(panel.datasource?.uid, `${file} panel "${panel.title}"`).toBe(prometheus?.uid);
        expect(panel.targets?.length, `${file} panel "${panel.title}" has queries`).toBeGreaterThan(0);
      }
    }
  });
});

describe("docker-compose observability profile", () => {
  it("mounts only files that exist in deploy/observability", () => {
    const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8")) as {
      services: Record<string, { profiles?: string[]; volumes?: string[] }>;
    };
    const mounts = Object.values(compose.services)
      .filter((service) => service.profiles?.includes("observability"))
      .flatMap((service) => service.volumes ?? [])
      .map((volume) => volume.split(":")[0] ?? "")
      .filter((source) => source.startsWith("./"));
    expect(mounts.length).toBeGreaterThan(4);
    for (const source of mounts) {
      expect(existsSync(join(root, source)), `${source} exists`).toBe(true);
      expect(relative(root, join(root, source)).startsWith("deploy/observability/"), source).toBe(true);
    }
  });
});
