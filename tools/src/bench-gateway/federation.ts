/**
 * `pnpm bench:gateway`: CPU per request of the Nexus gateway, every policy on, against a bare
 * `@apollo/gateway` in `@apollo/server` and Hive Gateway with its router runtime, on the shape
 * of the public federation gateway benchmark (federation-benchmark.ts). Each gateway is its
 * own process pinned to core 1 and served in turn, in one run, while this process (load
 * generator and subgraphs) keeps to core 0. Each gets the same warm-up, then BENCH_SECONDS of
 * load from BENCH_CONNECTIONS clients, every request with a token of its own; its CPU time is
 * read from /proc, so CPU ms per request is what it spent, whatever the load generator did.
 *
 *   BENCH_SECONDS (20, per gateway, in BENCH_ROUNDS (4) turns)  BENCH_CONNECTIONS (50)  BENCH_WARMUP_SECONDS (5)
 *   BENCH_GATEWAYS (bare,nexus,hive)  BENCH_PROFILE_DIR: write a CPU profile of the Nexus gateway there
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestAuth, freePort, serveJwks, TEST_TOKEN_AUDIENCE } from "@nexus/testing";
import {
  BENCHMARK_QUERY,
  composeBenchmarkSupergraph,
  startBenchmarkSubgraphs,
} from "./federation-benchmark.ts";
import { type LoadResult, percentile, runLoad } from "./load.ts";
import { cpuSeconds, peakRssBytes, stealSeconds } from "./process-stats.ts";

const positive = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
const SECONDS = positive("BENCH_SECONDS", 20);
const WARMUP_SECONDS = positive("BENCH_WARMUP_SECONDS", 5);
const CONNECTIONS = positive("BENCH_CONNECTIONS", 50);
const ROUNDS = positive("BENCH_ROUNDS", 4);
const GATEWAY_NAMES = ["bare", "nexus", "hive"] as const;
type GatewayName = (typeof GATEWAY_NAMES)[number];
const GATEWAYS = (process.env.BENCH_GATEWAYS ?? GATEWAY_NAMES.join(",")).split(",").map((name) => {
  if (!(GATEWAY_NAMES as readonly string[]).includes(name)) {
    throw new Error(`BENCH_GATEWAYS: "${name}" is not one of ${GATEWAY_NAMES.join(", ")}`);
  }
  return name as GatewayName;
});
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR ? resolve(process.env.BENCH_PROFILE_DIR) : undefined;
/** The core the gateways run on; everything else keeps to core 0. */
const GATEWAY_CORE = "1";
const METRICS_TOKEN = "bench-metrics-token";

const LABELS: Record<GatewayName, string> = {
  bare: "bare @apollo/gateway",
  nexus: "Nexus gateway, every policy on",
  hive: "Hive Gateway, router runtime",
};

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const require = createRequire(import.meta.url);

// This process and every thread it already has go to core 0, so the gateway's core is its own.
execFileSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" });

const subgraphs = await startBenchmarkSubgraphs();
const workDir = mkdtempSync(join(tmpdir(), "nexus-bench-gateway-"));
const supergraphPath = join(workDir, "supergraph.graphql");
writeFileSync(supergraphPath, composeBenchmarkSupergraph(subgraphs.urls));
const auth = await createTestAuth();
const jwks = await serveJwks(auth.jwks);

// A distinct valid token for every request, signed before the clock starts so that signing
// does not slow the load down: enough for every gateway's warm-up and turns at up to 400
// requests a second (the fastest here serves about 200).
const tokens: string[] = [];
const tokenCount = Math.min(500_000, (SECONDS + WARMUP_SECONDS + ROUNDS) * 400 * GATEWAYS.length);
for (let i = 0; i < tokenCount; i += 1) tokens.push(await auth.bearer(`bench-user-${i}`));
let nextToken = 0;
let reusedTokens = 0;
const headers = () => {
  if (nextToken === tokens.length) {
    nextToken = 0;
    reusedTokens += 1;
  }
  return { authorization: tokens[nextToken++] as string, "apollographql-client-name": "bench" };
};

function commandOf(name: GatewayName, port: number): { args: string[]; env: Record<string, string> } {
  if (name === "bare") {
    return {
      args: [join(repoRoot, "tools/src/bench-gateway/bare-gateway.ts")],
      env: { SUPERGRAPH_PATH: supergraphPath, PORT: String(port) },
    };
  }
  if (name === "hive") {
    const bin = join(require.resolve("@graphql-hive/gateway/package.json"), "../dist/bin.js");
    return {
      args: [
        bin,
        "supergraph",
        supergraphPath,
        "--hive-router-runtime",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
      ],
      env: {},
    };
  }
  const profile = PROFILE_DIR ? ["--cpu-prof", "--cpu-prof-dir", PROFILE_DIR] : [];
  return {
    args: [...profile, join(repoRoot, "gateway/src/index.ts")],
    env: {
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      GATEWAY_PORT: String(port),
      GATEWAY_WORKERS: "1",
      SUPERGRAPH_PATH: supergraphPath,
      JWKS_URL: jwks.url,
      JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
      JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
      SUBGRAPH_SECRET: "bench-subgraph-secret-0123456789abcdef",
      METRICS_TOKEN,
      GATEWAY_REDIS_PREFIX: `nexus:bench-gateway:${process.pid}`,
      // Every policy stays on; the limits are raised only so that none refuses the benchmark.
      MAX_COST: "1000000",
      COST_BUDGET_CAPACITY: "100000000",
      COST_BUDGET_REFILL_PER_SECOND: "100000000",
      RATE_LIMIT_PER_MINUTE: "1000000",
    },
  };
}

async function startGateway(
  name: GatewayName,
): Promise<{ child: ChildProcess; url: string; output: string[] }> {
  const port = await freePort();
  const { args, env } = commandOf(name, port);
  const child = spawn("taskset", ["-c", GATEWAY_CORE, process.execPath, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const output: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const url = `http://127.0.0.1:${port}/graphql`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${LABELS[name]} exited: ${output.join("")}`);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers() },
        body: JSON.stringify({ query: BENCHMARK_QUERY }),
      });
      if (response.status === 200) return { child, url, output };
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(`${LABELS[name]} did not answer within 60 s: ${output.join("")}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

async function stopGateway(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  await exited;
}

/** The answer every gateway must give, byte for byte: the first complete one. */
let reference: string | undefined;
let responseBytes = 0;
const check = (status: number, body: string) => {
  if (status !== 200) throw new Error(`HTTP ${status}: ${body.slice(0, 300)}`);
  const parsed = JSON.parse(body) as { data?: unknown; errors?: unknown };
  if (parsed.errors) throw new Error(`errors: ${JSON.stringify(parsed.errors).slice(0, 300)}`);
  const data = JSON.stringify(parsed.data);
  if (reference === undefined) {
    reference = data;
    responseBytes = Buffer.byteLength(body);
  } else if (data !== reference) {
    throw new Error("the answer differs from the first gateway's");
  }
};

interface Measured {
  name: GatewayName;
  load: LoadResult;
  cpuMsPerRequest: number;
  coreShare: number;
  /** Time the hypervisor gave the gateway's core to someone else: high means a noisy run. */
  stealShare: number;
  peakRss: number;
}

const results: Measured[] = [];
const skipped: string[] = [];
const body = JSON.stringify({ query: BENCHMARK_QUERY, operationName: "TestQuery" });
interface Running {
  name: GatewayName;
  child: ChildProcess;
  url: string;
  cpuSeconds: number;
  stealSeconds: number;
  loads: LoadResult[];
}
const running: Running[] = [];
/** How the Nexus gateway's rate limit and budget decided, by source, from its /metrics. */
let decisions: Record<string, number> = {};
async function limitDecisions(graphqlUrl: string): Promise<Record<string, number>> {
  const response = await fetch(graphqlUrl.replace(/\/graphql$/, "/metrics"), {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const counts: Record<string, number> = {};
  const pattern = /^nexus_gateway_limit_decision_duration_seconds_count\{source="(\w+)"\} (\d+)/gm;
  for (const [, source, count] of (await response.text()).matchAll(pattern)) {
    counts[source as string] = Number(count);
  }
  return counts;
}
try {
  for (const name of GATEWAYS) {
    try {
      const { child, url, output } = await startGateway(name);
      running.push({ name, child, url, cpuSeconds: 0, stealSeconds: 0, loads: [] });
      if (name === "hive" && output.join("").includes("Could not load the @graphql-hive/router-runtime")) {
        skipped.push(`${LABELS.hive}: the router runtime did not load, so the default runtime was measured`);
      }
    } catch (error) {
      skipped.push(`${LABELS[name]}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const common = { body, connections: CONNECTIONS, headers, check };
  for (const gateway of running) {
    const warmup = await runLoad({ ...common, url: gateway.url, durationMs: WARMUP_SECONDS * 1000 });
    if (warmup.requests === 0)
      throw new Error(`${LABELS[gateway.name]}: no answer in warm-up: ${warmup.firstFailure}`);
  }
  // The gateways take turns, ROUNDS times each: a stretch of load from elsewhere on a shared
  // machine then lands on all of them instead of on whichever was being measured.
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const gateway of running) {
      const pid = gateway.child.pid as number;
      // A second unmeasured first: the subgraphs close connections idle for 5 s, and a gateway
      // that waited its turn would otherwise start on sockets closed under it.
      await runLoad({ ...common, url: gateway.url, durationMs: 1000 });
      const cpuBefore = cpuSeconds(pid);
      const stealBefore = stealSeconds(GATEWAY_CORE);
      gateway.loads.push(
        await runLoad({ ...common, url: gateway.url, durationMs: (SECONDS * 1000) / ROUNDS }),
      );
      gateway.cpuSeconds += cpuSeconds(pid) - cpuBefore;
      gateway.stealSeconds += stealSeconds(GATEWAY_CORE) - stealBefore;
    }
  }
  for (const gateway of running) {
    const load: LoadResult = {
      requests: gateway.loads.reduce((sum, part) => sum + part.requests, 0),
      latenciesMs: gateway.loads.flatMap((part) => part.latenciesMs),
      failures: gateway.loads.reduce((sum, part) => sum + part.failures, 0),
      firstFailure: gateway.loads.find((part) => part.firstFailure !== null)?.firstFailure ?? null,
      elapsedMs: gateway.loads.reduce((sum, part) => sum + part.elapsedMs, 0),
    };
    results.push({
      name: gateway.name,
      load,
      cpuMsPerRequest: (gateway.cpuSeconds * 1000) / Math.max(1, load.requests),
      coreShare: gateway.cpuSeconds / (load.elapsedMs / 1000),
      stealShare: gateway.stealSeconds / (load.elapsedMs / 1000),
      peakRss: peakRssBytes(gateway.child.pid as number),
    });
  }
  const nexus = running.find((gateway) => gateway.name === "nexus");
  if (nexus) decisions = await limitDecisions(nexus.url);
} finally {
  for (const gateway of running) await stopGateway(gateway.child);
  await jwks.close();
  await subgraphs.stop();
  rmSync(workDir, { recursive: true, force: true });
}

const fixed = (value: number, digits = 1) => value.toFixed(digits);
console.log(
  `federation benchmark shape: ${(responseBytes / 1024).toFixed(1)} KB per answer, ${CONNECTIONS} connections, ` +
    `${SECONDS} s each after ${WARMUP_SECONDS} s warm-up, gateway pinned to core ${GATEWAY_CORE}, load and subgraphs on core 0` +
    `${reusedTokens > 0 ? `, tokens reused ${reusedTokens} times` : ", a distinct token per request"}\n`,
);
console.log(
  "| gateway | RPS (one core) | p50 | p99 | CPU per request | core busy | core stolen | peak RSS | failed |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const { name, load, cpuMsPerRequest, coreShare, stealShare, peakRss } of results) {
  console.log(
    `| ${LABELS[name]} | ${fixed(load.requests / (load.elapsedMs / 1000))} | ${fixed(percentile(load.latenciesMs, 50))} ms | ` +
      `${fixed(percentile(load.latenciesMs, 99))} ms | ${fixed(cpuMsPerRequest, 2)} ms | ${fixed(coreShare * 100, 0)}% | ${fixed(stealShare * 100, 0)}% | ` +
      `${fixed(peakRss / 1024 / 1024, 0)} MB | ${load.failures}${load.firstFailure ? ` (${load.firstFailure.slice(0, 120)})` : ""} |`,
  );
}
const bare = results.find((result) => result.name === "bare");
const nexus = results.find((result) => result.name === "nexus");
if (bare && nexus) {
  const tax = nexus.cpuMsPerRequest / bare.cpuMsPerRequest - 1;
  console.log(
    `\npolicy tax: Nexus spends ${fixed(Math.abs(tax) * 100, 0)}% ${tax >= 0 ? "more" : "less"} CPU per request than the bare gateway`,
  );
}
if (Object.keys(decisions).length > 0) {
  // `local`: Redis did not answer in time and the replica's own buckets decided (fail-open).
  const described = Object.entries(decisions).map(([source, count]) => `${source} ${count}`);
  console.log(`Nexus rate limit and budget decisions by source: ${described.join(", ")}`);
}
for (const line of skipped) console.log(`\nnot measured: ${line}`);
if (results.some((result) => result.load.failures > 0)) process.exitCode = 1;
