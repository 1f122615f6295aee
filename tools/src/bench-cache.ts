/**
 * `pnpm bench:cache`: what the gateway's response cache buys on the storefront's hottest reads.
 * Starts the whole supergraph in-process (fresh databases, embedded MongoDB) with two Nexus
 * gateways over the same subgraphs: the stack's, RESPONSE_CACHE=on, and a second one with
 * RESPONSE_CACHE=off. Everything runs on this process's one event loop, so one core does the
 * gateways' and the subgraphs' work alike, as a replica would with a co-located subgraph. For
 * each operation, `BENCH_CONCURRENCY` clients send requests back to back for `BENCH_SECONDS`,
 * to one gateway and then the other, `BENCH_ROUNDS` times alternating, so both see the same
 * machine load. Reports requests/s and p50/p99 per operation and gateway, and the ratio.
 */
import { randomBytes } from "node:crypto";
import { createLogger } from "@nexus/core";
import { loadConfig as loadGatewayConfig, startGateway } from "@nexus/gateway";
import { startEmbeddedMongo } from "@nexus/stores";
import { TEST_REDIS_URL } from "@nexus/testing";
import { graphql, graphqlOk } from "./graphql-client.ts";
import { startStack } from "./stack.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** Product pages visited in turn: a storefront's catalog is read across many products. */
const PAGES = 20;

const OPERATIONS = {
  /** A category page: products with prices, ratings and images, the brand and price facets. */
  Listing: {
    query: `query Listing { products(first: 20, sort: NEWEST) { totalCount
      edges { node { id slug name price { amount currencyCode } rating { average count } images { url alt } } }
      facets { brands { value count } priceRange { min { amount } max { amount } } } } }`,
    variables: () => ({}),
  },
  /** A product page: catalog, its category path, inventory's stock and insights' bought-together. */
  ProductPage: {
    query: `query ProductPage($slug: String!) { product(slug: $slug) { id name description brand
      price { amount currencyCode } compareAtPrice { amount } images { url alt } rating { average count }
      category { id name ancestors { id name } } attributes { name label value }
      inventory { available inStock } frequentlyBoughtTogether(first: 4) { id name price { amount } } } }`,
    variables: (n: number) => ({ slug: slugs[n % slugs.length] }),
  },
} as const;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

const mongo = await startEmbeddedMongo();
// Catalog's product cache on, as in production: the comparison is with the best uncached path.
const stack = await startStack({
  mongoUrl: mongo.url,
  env: {
    CATALOG_CACHE_TTL_SECONDS: "300",
    RESPONSE_CACHE: "on",
    // BENCH_LOCAL_ENTRIES=0 measures Redis alone, without the in-process layer.
    RESPONSE_CACHE_LOCAL_ENTRIES: process.env.BENCH_LOCAL_ENTRIES ?? "1000",
  },
});
const users = stack.subgraphUrls.users;
const uncached = await startGateway(
  loadGatewayConfig({
    HOST: "127.0.0.1",
    GATEWAY_PORT: "0",
    LOG_LEVEL: "silent",
    REDIS_URL: TEST_REDIS_URL,
    GATEWAY_REDIS_PREFIX: `bench-cache-off-${randomBytes(4).toString("hex")}`,
    EVENTS_PREFIX: stack.eventsPrefix,
    SUBGRAPH_SECRET: stack.subgraphSecret,
    JWT_ISSUER: "nexus-test",
    JWT_AUDIENCE: "nexus-test",
    JWKS_URL: users.replace(/\/graphql$/, "/.well-known/jwks.json"),
    PARTNER_TOKEN_URL: users.replace(/\/graphql$/, "/auth/partner-token"),
    ...Object.fromEntries(
      Object.entries(stack.subgraphUrls).map(([name, url]) => [`${name.toUpperCase()}_URL`, url]),
    ),
    COST_BUDGET_CAPACITY: "100000000",
    COST_BUDGET_REFILL_PER_SECOND: "100000000",
    RATE_LIMIT_PER_MINUTE: "100000000",
    MAX_IN_FLIGHT_REQUESTS: "0",
    MAX_EVENT_LOOP_DELAY_MS: "0",
    RESPONSE_CACHE: "off",
  }),
  createLogger("bench-cache-off", "silent"),
);
const { products } = await graphqlOk<{ products: { edges: { node: { slug: string } }[] } }>(
  stack.endpoint,
  `{ products(first: ${PAGES}) { edges { node { slug } } } }`,
);
const slugs = products.edges.map((edge) => edge.node.slug);

type Target = "cache on" | "cache off";
const endpoints: Record<Target, string> = { "cache on": stack.endpoint, "cache off": uncached.url };

/** CONCURRENCY clients for SECONDS: every latency, and how many requests were answered. */
async function load(target: Target, name: keyof typeof OPERATIONS) {
  const operation = OPERATIONS[name];
  const latencies: number[] = [];
  let hits = 0;
  const until = performance.now() + SECONDS * 1000;
  let n = 0;
  const client = async () => {
    while (performance.now() < until) {
      n += 1;
      const started = performance.now();
      const { status, headers, body } = await graphql(
        endpoints[target],
        operation.query,
        operation.variables(n),
        {
          "apollographql-client-name": "bench",
        },
      );
      // The gateway sends `age` with an answer from its cache.
      if (headers.get("age") !== null) hits += 1;
      if (status !== 200 || body.errors) throw new Error(`${name} via ${target}: ${JSON.stringify(body)}`);
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return { latencies, hits, seconds: (performance.now() - started) / 1000 };
}

try {
  console.log(
    `response cache, ${CONCURRENCY} concurrent clients, ${SECONDS} s per run, ${ROUNDS} runs per gateway alternating, one process\n`,
  );
  console.log(
    "| operation | cache off req/s, p50 / p99 | cache on req/s, p50 / p99 | throughput ratio | hits (cache on) |",
  );
  console.log("|---|---|---|---|---|");
  for (const name of Object.keys(OPERATIONS) as (keyof typeof OPERATIONS)[]) {
    // Warm both: plans, connections, and the cache's first fill.
    for (const target of Object.keys(endpoints) as Target[]) {
      for (let i = 0; i < PAGES; i += 1) {
        await graphqlOk(endpoints[target], OPERATIONS[name].query, OPERATIONS[name].variables(i));
      }
    }
    const results: Record<Target, { latencies: number[]; hits: number; seconds: number }> = {
      "cache on": { latencies: [], hits: 0, seconds: 0 },
      "cache off": { latencies: [], hits: 0, seconds: 0 },
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      const order: Target[] = round % 2 === 0 ? ["cache off", "cache on"] : ["cache on", "cache off"];
      for (const target of order) {
        const run = await load(target, name);
        results[target].latencies.push(...run.latencies);
        results[target].hits += run.hits;
        results[target].seconds += run.seconds;
      }
    }
    const row = (target: Target) => {
      const { latencies, seconds } = results[target];
      const rate = latencies.length / seconds;
      return {
        rate,
        text: `${rate.toFixed(0)}, ${percentile(latencies, 50).toFixed(2)} / ${percentile(latencies, 99).toFixed(2)} ms`,
      };
    };
    const off = row("cache off");
    const on = row("cache on");
    const hitRate = (100 * results["cache on"].hits) / results["cache on"].latencies.length;
    console.log(
      `| ${name} | ${off.text} | ${on.text} | ${(on.rate / off.rate).toFixed(1)}x | ${hitRate.toFixed(1)}% |`,
    );
  }
} finally {
  await uncached.stop();
  await stack.stop();
  await mongo.stop();
}
