/**
 * `pnpm bench:limits`: whether the per-client limits hold when the gateway is saturated. Starts
 * the whole supergraph in-process (fresh databases, embedded MongoDB), then
 *
 * 1. measures the gateway's capacity: requests per second for a large federated query
 *    (catalog and inventory), with enough clients at once to keep it busy and no limit in
 *    the way;
 * 2. starts a gateway with the limits on; one client uses up its rate window (every request
 *    served); then the gateway is driven at twice its capacity, open loop (requests are sent
 *    on a schedule, whether or not earlier ones were answered, as independent users do): 80%
 *    of it from sixteen clients within the rate limit, which alone offer more than the
 *    gateway can serve, 20% from the client over it, every one of whose requests should be
 *    refused.
 *
 * It reports the share of the over-limit client's requests that were refused (the target is at
 * least 99%), how long the limit took to decide (from the gateway's
 * `nexus_gateway_limit_decision_duration_seconds`), how many requests were shed with 503 and the
 * latency of the admitted ones. The load is generated in a worker thread, so the gateway's busy
 * event loop does not slow the schedule down.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const QUERY = `query LargeProductPage { products(first: 20) { totalCount edges { node { id name slug description
  price { amount currencyCode } rating { average count } inventory { available inStock }
  reviews(first: 5) { edges { node { id rating title body } } } } } } }`;

/** One scheduled request's outcome, as the worker reports it. */
interface Outcome {
  client: string;
  /** HTTP status, or 0 when the request failed or timed out. */
  status: number;
  code: string | null;
  ms: number;
}

interface LoadPlan {
  url: string;
  durationMs: number;
  /**
   * `open`: each client sends `rate` requests per second on a schedule. `closed`: `concurrency`
   * clients each send their next request when the last is answered.
   */
  load: { kind: "open"; rates: Record<string, number> } | { kind: "closed"; concurrency: number };
}

if (!isMainThread) {
  parentPort?.postMessage(await drive(workerData as LoadPlan));
} else {
  await main();
}

/** Sends the planned requests and records every outcome. */
async function drive({ url, durationMs, load }: LoadPlan): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const inFlight: Promise<void>[] = [];
  const body = JSON.stringify({ query: QUERY });
  const once = async (client: string) => {
    const started = performance.now();
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": client },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      const code = response.status === 200 ? null : (/"code":"(\w+)"/.exec(text)?.[1] ?? null);
      outcomes.push({ client, status: response.status, code, ms: performance.now() - started });
    } catch {
      outcomes.push({ client, status: 0, code: null, ms: performance.now() - started });
    }
  };
  const start = performance.now();
  if (load.kind === "closed") {
    await Promise.all(
      Array.from({ length: load.concurrency }, async (_, i) => {
        while (performance.now() - start < durationMs)
          await once(`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`);
      }),
    );
    return outcomes;
  }
  const { rates } = load;
  const sent: Record<string, number> = Object.fromEntries(Object.keys(rates).map((client) => [client, 0]));
  // Every millisecond, send what each client's schedule says is due by now.
  while (performance.now() - start < durationMs) {
    const elapsed = (performance.now() - start) / 1000;
    for (const [client, rate] of Object.entries(rates)) {
      while ((sent[client] ?? 0) < Math.floor(elapsed * rate)) {
        sent[client] = (sent[client] ?? 0) + 1;
        inFlight.push(once(client));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  return outcomes;
}

async function main(): Promise<void> {
  const { createLogger } = await import("@nexus/core");
  const { startGateway, loadConfig } = await import("@nexus/gateway");
  const { startEmbeddedMongo } = await import("@nexus/stores");
  const { TEST_REDIS_URL, testRedisPrefix } = await import("@nexus/testing");
  const { startStack } = await import("./stack.ts");
  const { graphql } = await import("./graphql-client.ts");

  const CAPACITY_SECONDS = Number(process.env.BENCH_CAPACITY_SECONDS ?? 10);
  const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 20);
  const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
  const NORMAL = Array.from({ length: 16 }, (_, i) => `198.51.100.${i + 1}`);
  const ABUSIVE = "203.0.113.66";
  /** Shares of the offered load, per client. */
  const SHARE = { normal: 0.05, abusive: 0.2 };

  const logger = createLogger("bench-limits", "silent");
  const mongo = await startEmbeddedMongo();
  const stack = await startStack({
    mongoUrl: mongo.url,
    // Catalog's product cache on, as in production; the stack's own gateway measures capacity,
    // so it sheds nothing and its limits are out of reach.
    env: { CATALOG_CACHE_TTL_SECONDS: "300" },
  });
  const stops: (() => Promise<void>)[] = [stack.stop, mongo.stop];
  try {
    const check = await graphql<unknown>(stack.endpoint, QUERY);
    if (check.status !== 200 || check.body.errors)
      throw new Error(`the query fails: ${JSON.stringify(check.body)}`);

    // 1. Capacity: CONCURRENCY clients, each sending its next request when the last is answered.
    await inWorker({
      url: stack.endpoint,
      durationMs: 3000,
      load: { kind: "closed", concurrency: CONCURRENCY },
    }); // warm-up
    const measured = await inWorker({
      url: stack.endpoint,
      durationMs: CAPACITY_SECONDS * 1000,
      load: { kind: "closed", concurrency: CONCURRENCY },
    });
    if (measured.some((o) => o.status !== 200)) throw new Error("the capacity run had failures");
    const capacity = {
      rps: measured.length / CAPACITY_SECONDS,
      latencies: measured.map((o) => o.ms),
    };
    const offered = capacity.rps * 2;

    // 2. A gateway with the limits on, over the same subgraphs. Each normal client sends
    // SHARE.normal x offered x LOAD_SECONDS requests in the run; the rate limit leaves them 25%
    // room.
    const ratePerMinute = Math.ceil(SHARE.normal * offered * LOAD_SECONDS * 1.25);
    const maxInFlight = process.env.BENCH_MAX_IN_FLIGHT ?? String(Math.max(8, Math.round(capacity.rps / 2)));
    const maxDelayMs = process.env.BENCH_MAX_EVENT_LOOP_DELAY_MS ?? "200";
    const users = stack.subgraphUrls.users;
    const gatewayEnv: Record<string, string> = {
      HOST: "127.0.0.1",
      GATEWAY_PORT: "0",
      LOG_LEVEL: "silent",
      REDIS_URL: TEST_REDIS_URL,
      GATEWAY_REDIS_PREFIX: testRedisPrefix("bench-limits"),
      JWKS_URL: users.replace(/\/graphql$/, "/.well-known/jwks.json"),
      PARTNER_TOKEN_URL: users.replace(/\/graphql$/, "/auth/partner-token"),
      JWT_ISSUER: "nexus-test",
      JWT_AUDIENCE: "nexus-test",
      // The gateway signs its subgraph calls with the stack's secret, as the stack's own does.
      SUBGRAPH_SECRET: stack.subgraphSecret,
      TRUSTED_PROXY_HOPS: "1",
      RATE_LIMIT_PER_MINUTE: String(ratePerMinute),
      COST_BUDGET_CAPACITY: "100000000",
      COST_BUDGET_REFILL_PER_SECOND: "100000000",
      MAX_IN_FLIGHT_REQUESTS: maxInFlight,
      MAX_EVENT_LOOP_DELAY_MS: maxDelayMs,
      ...Object.fromEntries(
        Object.entries(stack.subgraphUrls).map(([name, url]) => [`${name.toUpperCase()}_URL`, url]),
      ),
    };
    const limited = await startGateway(loadConfig(gatewayEnv), logger);
    stops.unshift(limited.stop);
    const metricsUrl = limited.url.replace(/\/graphql$/, "/metrics");
    // The over-limit client uses its window up first, eight requests at a time, all served
    // (a request shed while the new gateway warms up is sent again).
    let used = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (used < ratePerMinute) {
          used += 1;
          const { status } = await graphql<unknown>(limited.url, QUERY, {}, { "x-forwarded-for": ABUSIVE });
          if (status === 503) used -= 1;
          else if (status !== 200) throw new Error(`using up the window: HTTP ${status}`);
        }
      }),
    );
    const rates = Object.fromEntries([
      ...NORMAL.map((client) => [client, SHARE.normal * offered] as const),
      [ABUSIVE, SHARE.abusive * offered] as const,
    ]);
    const outcomes = await inWorker({
      url: limited.url,
      durationMs: LOAD_SECONDS * 1000,
      load: { kind: "open", rates },
    });
    const metrics = await (await fetch(metricsUrl)).text();

    // Report.
    const count = (list: Outcome[], test: (outcome: Outcome) => boolean) => list.filter(test).length;
    const abusive = outcomes.filter((outcome) => outcome.client === ABUSIVE);
    const normal = outcomes.filter((outcome) => outcome.client !== ABUSIVE);
    const overAdmitted = count(abusive, (o) => o.status === 200);
    const admitted = outcomes.filter((o) => o.status === 200).map((o) => o.ms);
    const shed = count(outcomes, (o) => o.status === 503);
    const decision = readHistogram(metrics, "nexus_gateway_limit_decision_duration_seconds");
    const ms = (value: number) => `${value.toFixed(value < 1 ? 3 : 1)} ms`;

    console.log("gateway limits at twice capacity (whole stack in one process; the machine is shared)\n");
    console.log(
      `capacity: ${capacity.rps.toFixed(1)} requests/s of LargeProductPage with ${CONCURRENCY} clients at once`,
    );
    console.log(
      `  latency p50 ${ms(percentile(capacity.latencies, 50))}, p99 ${ms(percentile(capacity.latencies, 99))}`,
    );
    console.log(
      `load: ${offered.toFixed(1)} requests/s offered for ${LOAD_SECONDS} s, ${outcomes.length} sent; rate limit ${ratePerMinute} per minute per client;`,
    );
    console.log(`  MAX_IN_FLIGHT_REQUESTS=${maxInFlight}, MAX_EVENT_LOOP_DELAY_MS=${maxDelayMs}\n`);
    console.log("| client | sent | 200 | 429 RATE_LIMITED | 503 SERVER_OVERLOADED | other |");
    console.log("|---|---|---|---|---|---|");
    for (const [name, list] of [
      ["16 within the limit", normal],
      ["over the limit", abusive],
    ] as const) {
      const ok = count(list, (o) => o.status === 200);
      const limitedCount = count(list, (o) => o.code === "RATE_LIMITED");
      const shedCount = count(list, (o) => o.status === 503);
      console.log(
        `| ${name} | ${list.length} | ${ok} | ${limitedCount} | ${shedCount} | ${list.length - ok - limitedCount - shedCount} |`,
      );
    }
    console.log(
      `\nover-limit client: ${abusive.length} requests past its limit of ${ratePerMinute}, ${overAdmitted} of them admitted: ${(
        (1 - overAdmitted / Math.max(1, abusive.length)) * 100
      ).toFixed(2)}% refused`,
    );
    if (decision) {
      const sources = Object.entries(decision.bySource)
        .map(([source, n]) => `${source} ${n}`)
        .join(", ");
      console.log(
        `limit decision time: p50 ${ms(decision.quantile(0.5) * 1000)}, p99 ${ms(decision.quantile(0.99) * 1000)} (${decision.total} decisions: ${sources}; interpolated within histogram buckets)`,
      );
      // Before the limits held locally, each of these was a request let through unlimited.
      console.log(`  decisions that took longer than the 250 ms Redis timeout: ${decision.above(0.25)}`);
    } else {
      console.log("limit decision time: not measured by this gateway");
    }
    const reasons = [...metrics.matchAll(/^nexus_gateway_shed_requests_total\{reason="(\w+)"\} (\d+)$/gm)]
      .map(([, reason, n]) => `${reason} ${n}`)
      .join(", ");
    console.log(
      `shed with 503: ${shed} of ${outcomes.length} (${((shed / outcomes.length) * 100).toFixed(1)}%; ${reasons || "none"})`,
    );
    console.log(
      `admitted (200) latency: p50 ${ms(percentile(admitted, 50))}, p99 ${ms(percentile(admitted, 99))} (${admitted.length} requests)`,
    );
  } finally {
    for (const stop of stops) await stop();
  }
}

/** Runs a load plan in a worker thread: its schedule keeps time while the gateway's loop is busy. */
function inWorker(plan: LoadPlan): Promise<Outcome[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: plan });
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** A Prometheus histogram summed over its label sets, with histogram_quantile's interpolation. */
function readHistogram(text: string, name: string) {
  const buckets = new Map<number, number>();
  const bySource: Record<string, number> = {};
  for (const [, labels = "", value = "0"] of text.matchAll(
    new RegExp(`^${name}_bucket\\{(.*)\\} (\\S+)$`, "gm"),
  )) {
    const le = /le="([^"]+)"/.exec(labels)?.[1] ?? "+Inf";
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(value));
  }
  for (const [, source = "", value = "0"] of text.matchAll(
    new RegExp(`^${name}_count\\{source="(\\w+)"\\} (\\S+)$`, "gm"),
  )) {
    bySource[source] = Number(value);
  }
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  return {
    total,
    bySource,
    /** Observations above `bound`, which must be a bucket boundary. */
    above(bound: number): number {
      return total - (sorted.find(([le]) => le === bound)?.[1] ?? total);
    },
    quantile(q: number): number {
      const rank = q * total;
      let lower = 0;
      let below = 0;
      for (const [bound, cumulative] of sorted) {
        if (cumulative >= rank) {
          if (!Number.isFinite(bound)) return lower;
          return lower + ((bound - lower) * (rank - below)) / Math.max(1, cumulative - below);
        }
        lower = bound;
        below = cumulative;
      }
      return lower;
    },
  };
}
