/**
 * `pnpm bench:gateway:workers`: gateway throughput at GATEWAY_WORKERS=1 and 2. Starts the
 * gateway's own entry (`node gateway/src/index.ts`) as a separate process over one fast
 * subgraph served from this process (a page of 50 products from memory, so the gateway's
 * planning, fetching and response building is what is measured), then drives it with
 * BENCH_CONNECTIONS concurrent keep-alive clients for BENCH_SECONDS per worker count. Every
 * policy is on (limits, cost, budget and rate in Redis), with the one client's rate and budget
 * raised so the load is not refused. Reports requests per second, p50/p99 latency and the ratio of 2 to 1.
 *
 * On a 2-core machine the load generator and the subgraph share the cores with the workers, so
 * the ratio is a floor of what two dedicated cores give.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeServices } from "@apollo/composition";
import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { createLogger, startHttpServer } from "@nexus/core";
import { parse } from "graphql";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ENTRY = fileURLToPath(new URL("../../gateway/src/index.ts", import.meta.url));

const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])
type Query { products(first: Int!): [Product!]! }
type Product @key(fields: "id") { id: ID! name: String! description: String! price: Int! tags: [String!]! }
`;
const PRODUCTS = Array.from({ length: 50 }, (_, i) => ({
  id: `p${i}`,
  name: `Product ${i}`,
  description: `A product of the benchmark, number ${i}, with a description of ordinary length.`,
  price: 1000 + i,
  tags: ["bench", `tag-${i % 7}`],
}));
const QUERY = "query Listing { products(first: 50) { id name description price tags } }";

const subgraph = await startHttpServer({
  apollo: new ApolloServer({
    schema: buildSubgraphSchema([
      {
        typeDefs: parse(SDL),
        resolvers: {
          Query: { products: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, first) },
        },
      },
    ]),
  }),
  host: "127.0.0.1",
  port: 0,
  logger: createLogger("bench-subgraph", "silent"),
  context: async () => ({}),
});
const tmp = mkdtempSync(join(tmpdir(), "nexus-bench-workers-"));
const composed = composeServices([{ name: "shop", url: subgraph.url, typeDefs: parse(SDL) }]);
if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join("\n"));
const supergraphPath = join(tmp, "supergraph.graphql");
writeFileSync(supergraphPath, composed.supergraphSdl);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function measure(workers: number): Promise<{ rps: number; p50: number; p99: number }> {
  const port = 4900 + workers;
  const child = spawn(process.execPath, [ENTRY], {
    env: {
      ...process.env,
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      GATEWAY_PORT: String(port),
      GATEWAY_WORKERS: String(workers),
      SUPERGRAPH_PATH: supergraphPath,
      GATEWAY_REDIS_PREFIX: `nexus:bench-workers:${process.pid}:${workers}`,
      // One client sends everything: its rate and budget are raised so none of it is refused,
      // and still checked in Redis on every request.
      RATE_LIMIT_PER_MINUTE: "100000000",
      COST_BUDGET_CAPACITY: "100000000",
      COST_BUDGET_REFILL_PER_SECOND: "100000000",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  try {
    const send = async () => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "apollographql-client-name": "bench" },
        body: JSON.stringify({ query: QUERY }),
      });
      const body = (await response.json()) as { data?: { products: unknown[] }; errors?: unknown };
      if (response.status !== 200 || body.data?.products.length !== 50) {
        throw new Error(`gateway answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
      }
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await send();
        break;
      } catch (error) {
        if (attempt > 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    // Warm every worker's plan cache and JIT before measuring.
    const until = (deadline: number, record: number[] | null) =>
      Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (performance.now() < deadline) {
            const started = performance.now();
            await send();
            record?.push(performance.now() - started);
          }
        }),
      );
    await until(performance.now() + 3000, null);
    const latencies: number[] = [];
    const started = performance.now();
    await until(started + SECONDS * 1000, latencies);
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      rps: latencies.length / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
    };
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

try {
  console.log(
    `gateway throughput: ${CONNECTIONS} connections, ${SECONDS} s per run, 50 products per response\n`,
  );
  console.log("| GATEWAY_WORKERS | requests/s | p50 | p99 |");
  console.log("|---|---|---|---|");
  const results: number[] = [];
  for (const workers of [1, 2]) {
    const { rps, p50, p99 } = await measure(workers);
    results.push(rps);
    console.log(`| ${workers} | ${rps.toFixed(0)} | ${p50.toFixed(1)} ms | ${p99.toFixed(1)} ms |`);
  }
  console.log(`\n2 workers / 1 worker: ${((results[1] ?? 0) / (results[0] ?? 1)).toFixed(2)}x`);
} finally {
  await subgraph.close();
  rmSync(tmp, { recursive: true, force: true });
}
