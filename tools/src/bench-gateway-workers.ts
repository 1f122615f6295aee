/**
 * `pnpm bench:gateway:workers`: gateway throughput at GATEWAY_WORKERS=1 and 2. Starts the
 * gateway's own entry (`node gateway/src/index.ts`) as a separate process over one fast
 * subgraph served from this process (a page of 50 products from memory, so the gateway's
 * planning, fetching and response building is what is measured), then drives it with
 * BENCH_CONNECTIONS concurrent keep-alive clients for BENCH_SECONDS per worker count. Every
 * policy is on (limits, cost, budget and rate in Redis), with the one client's rate and budget
 * raised so the load is not refused. Reports requests per second, p50/p99 latency and the ratio of 2 to 1.
 *
 * The load generator and the subgraph run on the same machine and take CPU from the workers, so
 * requests per second are what this machine serves with everything on it; the gateway's own CPU
 * per request (the primary and its workers, read from /proc, so Linux only) says what each core
 * given to the gateway serves.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { composeServices } from "@apollo/composition";
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

// The subgraph answers from memory without parsing or executing anything (the gateway sends
// the same fetch every time), so as little of the machine as possible goes to anything but
// the gateway.
const SUBGRAPH_BODY = JSON.stringify({ data: { products: PRODUCTS } });
const subgraph = createServer((req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(SUBGRAPH_BODY));
});
await new Promise<void>((resolve) => subgraph.listen(0, "127.0.0.1", resolve));
const subgraphUrl = `http://127.0.0.1:${(subgraph.address() as AddressInfo).port}/graphql`;
const tmp = mkdtempSync(join(tmpdir(), "nexus-bench-workers-"));
const composed = composeServices([{ name: "shop", url: subgraphUrl, typeDefs: parse(SDL) }]);
if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join("\n"));
const supergraphPath = join(tmp, "supergraph.graphql");
writeFileSync(supergraphPath, composed.supergraphSdl);

/** CPU seconds used so far by a process and its children (the cluster's workers), from /proc. */
function cpuSeconds(root: number): number {
  const ticksPerSecond = 100;
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pid = Number(entry);
    const parent = Number(fields[1]);
    if (pid === root || parent === root) total += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  }
  return total;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function measure(
  workers: number,
): Promise<{ rps: number; p50: number; p99: number; cpuMsPerRequest: number }> {
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
    // node:http with keep-alive rather than fetch: the load generator shares the machine.
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const payload = JSON.stringify({ query: QUERY });
    const send = () =>
      new Promise<void>((resolve, reject) => {
        const call = request(
          url,
          {
            method: "POST",
            agent,
            headers: {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(payload),
              "apollographql-client-name": "bench",
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => {
              const body = Buffer.concat(chunks).toString("utf8");
              // Every product came back, and no error: the whole answer, without parsing it.
              if (
                response.statusCode === 200 &&
                body.includes('"Product 49"') &&
                !body.includes('"errors"')
              ) {
                resolve();
              } else {
                reject(new Error(`gateway answered ${response.statusCode}: ${body.slice(0, 300)}`));
              }
            });
            response.on("error", reject);
          },
        );
        call.on("error", reject);
        call.end(payload);
      });
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
    const cpuBefore = cpuSeconds(child.pid ?? -1);
    const started = performance.now();
    await until(started + SECONDS * 1000, latencies);
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(child.pid ?? -1) - cpuBefore;
    latencies.sort((a, b) => a - b);
    return {
      rps: latencies.length / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuMsPerRequest: (cpu * 1000) / latencies.length,
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
  console.log(
    "| GATEWAY_WORKERS | requests/s | p50 | p99 | gateway CPU per request | requests/s per gateway core |",
  );
  console.log("|---|---|---|---|---|---|");
  const results: number[] = [];
  for (const workers of [1, 2]) {
    const { rps, p50, p99, cpuMsPerRequest } = await measure(workers);
    results.push(rps);
    console.log(
      `| ${workers} | ${rps.toFixed(0)} | ${p50.toFixed(1)} ms | ${p99.toFixed(1)} ms | ${cpuMsPerRequest.toFixed(2)} ms | ${(1000 / cpuMsPerRequest).toFixed(0)} |`,
    );
  }
  console.log(`\n2 workers / 1 worker: ${((results[1] ?? 0) / (results[0] ?? 1)).toFixed(2)}x`);
} finally {
  await new Promise((resolve) => subgraph.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
}
