/**
 * `pnpm bench:gateway latency`: what the gateway's edge adds to latency. Starts the whole supergraph
 * in-process (fresh databases, embedded MongoDB) with the Nexus gateway, every policy on, and
 * beside it a bare `@apollo/gateway` in `@apollo/server` over the same subgraphs with none of
 * them. The same operations go to both, one request at a time and alternating, so both see
 * the same subgraphs, caches and machine load. Reports p50/p95 per operation and gateway, and
 * the difference: the latency the policies add.
 */
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { createLogger, startHttpServer, subgraphAuthHeaders } from "@nexus/core";
import { declareAccessDirectivesEnforced, loadConfig as loadGatewayConfig } from "@nexus/gateway";
import { startEmbeddedMongo } from "@nexus/stores";
import { DEMO_ACCOUNTS } from "@nexus/users/demo";
import { placeDemoOrders } from "../demo-orders.ts";
import { graphql, graphqlOk } from "../graphql-client.ts";
import { startStack } from "../stack.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const WARMUP = 30;

const OPERATIONS = {
  /** Anonymous product page: catalog, then inventory for its stock. */
  ProductPage: {
    query: `query ProductPage { product(slug: "$SLUG") { id name description price { amount currencyCode }
      rating { average count } inventory { available } } }`,
    signedIn: false,
  },
  /** A customer's order history: orders, then catalog for every line's product. */
  OrderHistory: {
    query: `query OrderHistory { me { orders(first: 5) { edges { node { id status total { amount }
      lines { quantity product { name price { amount } } } } } } } }`,
    signedIn: true,
  },
} as const;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const ms = (value: number) => `${value.toFixed(2)} ms`;

const mongo = await startEmbeddedMongo();
// Catalog's product cache on, as in production: the subgraphs' share of the latency stays small
// and steady, so the difference between the two gateways stands out of the noise.
const stack = await startStack({ mongoUrl: mongo.url, env: { CATALOG_CACHE_TTL_SECONDS: "300" } });
await placeDemoOrders(stack.endpoint);
interface BareContext {
  authorization: string | undefined;
}
// What `@apollo/gateway` alone gives: plan and fetch, forwarding only the token the subgraphs need.
const bare = await startHttpServer<BareContext>({
  apollo: new ApolloServer<BareContext>({
    gateway: new ApolloGateway({
      supergraphSdl: declareAccessDirectivesEnforced(loadGatewayConfig({}).supergraphSdl),
      buildService: ({ name }) =>
        new RemoteGraphQLDataSource<BareContext>({
          url: stack.subgraphUrls[name as keyof typeof stack.subgraphUrls],
          // The subgraphs answer only signed calls, whoever plans them.
          fetcher: (url, init) =>
            fetch(url, {
              ...init,
              headers: {
                ...init?.headers,
                ...subgraphAuthHeaders({ current: stack.subgraphSecret }, String(init?.body ?? "")),
              },
            }),
          willSendRequest({ request, context }) {
            if (context.authorization) request.http?.headers.set("authorization", context.authorization);
          },
        }),
    }),
  }),
  host: "127.0.0.1",
  port: 0,
  logger: createLogger("bench-bare-gateway", "silent"),
  context: async (req) => ({ authorization: req.headers.authorization }),
});
try {
  const customer = DEMO_ACCOUNTS.find((account) => account.role === "CUSTOMER");
  if (!customer) throw new Error("no demo customer");
  const { login } = await graphqlOk<{ login: { accessToken: string } }>(
    stack.endpoint,
    `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`,
    { input: { email: customer.email, password: customer.password } },
  );
  const authorization = `Bearer ${login.accessToken}`;
  const { products } = await graphqlOk<{ products: { edges: { node: { slug: string } }[] } }>(
    stack.endpoint,
    "{ products(first: 1) { edges { node { slug } } } }",
  );
  const slug = products.edges[0]?.node.slug ?? "";

  console.log(`gateway latency, ${ROUNDS} requests per operation and gateway, one at a time, alternating\n`);
  console.log("| operation | bare @apollo/gateway p50 / p95 | Nexus gateway p50 / p95 | added p50 / p95 |");
  console.log("|---|---|---|---|");
  for (const [name, operation] of Object.entries(OPERATIONS)) {
    const headers: Record<string, string> = { "apollographql-client-name": "bench" };
    if (operation.signedIn) headers.authorization = authorization;
    const timings = { bare: [] as number[], nexus: [] as number[] };
    const once = async (target: "bare" | "nexus", record: boolean) => {
      const started = performance.now();
      const { status, body } = await graphql(
        target === "bare" ? bare.url : stack.endpoint,
        operation.query.replace("$SLUG", slug),
        {},
        headers,
      );
      const elapsed = performance.now() - started;
      if (status !== 200 || body.errors) throw new Error(`${name} via ${target}: ${JSON.stringify(body)}`);
      if (record) timings[target].push(elapsed);
    };
    for (let round = 0; round < WARMUP + ROUNDS; round += 1) {
      const order = round % 2 === 0 ? (["bare", "nexus"] as const) : (["nexus", "bare"] as const);
      for (const target of order) await once(target, round >= WARMUP);
    }
    const stats = (values: number[]) => [percentile(values, 50), percentile(values, 95)] as const;
    const [bare50, bare95] = stats(timings.bare);
    const [nexus50, nexus95] = stats(timings.nexus);
    console.log(
      `| ${name} | ${ms(bare50)} / ${ms(bare95)} | ${ms(nexus50)} / ${ms(nexus95)} | ${ms(nexus50 - bare50)} / ${ms(nexus95 - bare95)} |`,
    );
  }
} finally {
  await bare.close();
  await stack.stop();
  await mongo.stop();
}
