/**
 * Subgraph chaos on the real stack: the gateway reaches each subgraph through a proxy that
 * can refuse connections (a stopped subgraph), hold requests (a slow one) or answer 503.
 * One query touches all five subgraphs; with any one of them stopped or slower than the
 * subgraph timeout, the answer must still carry everything the other four serve, an error
 * naming the failed subgraph at each path it left empty, and arrive within the timeout.
 */
import { randomBytes } from "node:crypto";
import { rawId, until } from "@nexus/testing";
import { type GraphQLResult, graphql, graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, type SubgraphName, startStack } from "@nexus/tools/stack";
import type { SubgraphProxy } from "@nexus/tools/subgraph-proxy";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const TIMEOUT_MS = 1000;
const BREAKER_FAILURES = 5;
const BREAKER_COOLDOWN_MS = 500;

/**
 * Every subgraph in its own branch, so that one failing leaves the others' branches whole:
 * `me` (users) with its orders (orders) and their products (catalog, inventory); one order
 * (orders) with a nullable catalog field of its products; a product (catalog); low stock
 * (inventory); best sellers (insights).
 */
const CHAOS = `query Chaos($orderId: ID!, $productId: ID!) {
  me {
    id
    name
    orders(first: 5) {
      totalCount
      edges { node { id lines { quantity product { id name inventory { available } } } } }
    }
  }
  order(id: $orderId) { id status lines { productName quantity product { id compareAtPrice { amount } } } }
  product(id: $productId) { id name price { amount } }
  lowStockProducts(first: 2) { totalCount }
  topProducts(first: 3) { unitsSold product { id } }
}`;

interface OrderLineData {
  productName: string;
  quantity: number;
  product: { id: string; compareAtPrice: { amount: number } | null };
}
interface ChaosData {
  me: {
    id: string;
    name: string;
    orders: {
      totalCount: number;
      edges: { node: { id: string; lines: { quantity: number; product: unknown }[] } }[];
    } | null;
  } | null;
  order: { id: string; status: string; lines: OrderLineData[] } | null;
  product: { id: string; name: string; price: { amount: number } } | null;
  lowStockProducts: { totalCount: number } | null;
  topProducts: { unitsSold: number; product: { id: string } }[] | null;
}
type Path = (string | number)[];
type ChaosError = NonNullable<GraphQLResult<ChaosData>["errors"]>[number] & { path?: Path };

let stack: Stack;
let proxies: Record<SubgraphName, SubgraphProxy>;
let admin = "";
let variables: { orderId: string; productId: string };
let baseline: ChaosData;

async function chaosQuery(): Promise<{
  elapsedMs: number;
  data: ChaosData | undefined;
  errors: ChaosError[];
}> {
  const started = performance.now();
  const { body } = await graphql<ChaosData>(stack.endpoint, CHAOS, variables, { authorization: admin });
  return {
    elapsedMs: performance.now() - started,
    data: body.data,
    errors: (body.errors ?? []) as ChaosError[],
  };
}

/** Waits until the whole query is served again, as after a subgraph comes back. */
async function untilRecovered(): Promise<void> {
  await until("the full answer", async () => {
    const { data, errors } = await chaosQuery();
    return errors.length === 0 && JSON.stringify(data) === JSON.stringify(baseline) ? true : undefined;
  });
}

beforeAll(async () => {
  stack = await startStack({
    mongoUrl: inject("mongoUrl"),
    proxySubgraphs: true,
    env: {
      SUBGRAPH_TIMEOUT_MS: String(TIMEOUT_MS),
      SUBGRAPH_RETRY_BACKOFF_MS: "20",
      CIRCUIT_BREAKER_FAILURES: String(BREAKER_FAILURES),
      CIRCUIT_BREAKER_COOLDOWN_MS: String(BREAKER_COOLDOWN_MS),
    },
  });
  if (!stack.proxies) throw new Error("the stack was started without proxies");
  proxies = stack.proxies;
  const endpoint = stack.endpoint;

  // A customer with one order of two products. The chaos query is sent with an ADMIN token for
  // the same account, so that inventory's and insights' protected fields are part of it.
  const { register } = await graphqlOk<{ register: { accessToken: string; user: { id: string } } }>(
    endpoint,
    `mutation ($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }`,
    {
      input: {
        email: `chaos-${randomBytes(4).toString("hex")}@example.com`,
        password: "chaos password",
        name: "Chaos",
      },
    },
  );
  const customer = { authorization: `Bearer ${register.accessToken}` };
  admin = await stack.auth.bearer(rawId(register.user.id), "ADMIN");

  const { products } = await graphqlOk<{
    products: { edges: { node: { id: string; inventory: { available: number } } }[] };
  }>(endpoint, "{ products(first: 20) { edges { node { id inventory { available } } } } }");
  const picked = products.edges
    .map((edge) => edge.node)
    .filter((product) => product.inventory.available >= 2);
  const lines = picked.slice(0, 2).map((product, i) => ({ productId: product.id, quantity: i + 1 }));
  for (const line of lines) {
    await graphqlOk(
      endpoint,
      "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }",
      { input: line },
      customer,
    );
  }
  const { checkout } = await graphqlOk<{ checkout: { order: { id: string } } }>(
    endpoint,
    `mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } userErrors { code message } } }`,
    {
      input: {
        idempotencyKey: "chaos",
        shippingAddress: {
          name: "Chaos",
          line1: "1 Test Way",
          city: "Berlin",
          postalCode: "10115",
          countryCode: "DE",
        },
      },
    },
    customer,
  );
  variables = { orderId: checkout.order.id, productId: lines[0]?.productId ?? "" };

  // The order is settled (confirmed, counted by insights) before the full answer is taken as
  // the baseline every scenario is compared with.
  baseline = await until("the order to be confirmed and counted", async () => {
    const { data, errors } = await chaosQuery();
    const counted = lines.every(({ productId }) =>
      data?.topProducts?.some((top) => top.product.id === productId),
    );
    return errors.length === 0 && data?.order?.status === "CONFIRMED" && counted ? data : undefined;
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/**
 * What each subgraph's failure costs: the answer expected without it, and the paths left
 * empty. Non-null fields bubble up as GraphQL requires: a product without its catalog `name`
 * (String!) or its `inventory` (InventoryLevel!) nulls the line's product, the nearest nullable
 * field, and the orders stay; the nullable `compareAtPrice` of `order` only nulls itself.
 */
function expectedWithout(subgraph: SubgraphName): { data: ChaosData; paths: Path[] } {
  const meLines = (baseline.me?.orders?.edges[0]?.node.lines ?? []).map((_, i) => [
    "me",
    "orders",
    "edges",
    0,
    "node",
    "lines",
    i,
    "product",
  ]);
  const orderLines = baseline.order?.lines ?? [];
  const me = baseline.me && { ...baseline.me, orders: null };
  const meWithoutProducts = baseline.me && {
    ...baseline.me,
    orders: baseline.me.orders && {
      ...baseline.me.orders,
      edges: baseline.me.orders.edges.map((edge) => ({
        node: { ...edge.node, lines: edge.node.lines.map((line) => ({ ...line, product: null })) },
      })),
    },
  };
  switch (subgraph) {
    case "users":
      return { data: { ...baseline, me: null }, paths: [["me"]] };
    case "orders":
      return { data: { ...baseline, me, order: null }, paths: [["me", "orders"], ["order"]] };
    case "catalog":
      return {
        data: {
          ...baseline,
          me: meWithoutProducts,
          product: null,
          order: baseline.order && {
            ...baseline.order,
            lines: orderLines.map((line) => ({
              ...line,
              product: { ...line.product, compareAtPrice: null },
            })),
          },
        },
        paths: [
          ["product"],
          ...meLines.map((path) => [...path, "name"]),
          ...orderLines.map((_, i) => ["order", "lines", i, "product", "compareAtPrice"]),
        ],
      };
    case "inventory":
      return {
        data: { ...baseline, me: meWithoutProducts, lowStockProducts: null },
        paths: [["lowStockProducts"], ...meLines.map((path) => [...path, "inventory"])],
      };
    case "insights":
      return { data: { ...baseline, topProducts: null }, paths: [["topProducts"]] };
    case "notifications":
      // The chaos query asks nothing of notifications, so its outage changes nothing.
      return { data: baseline, paths: [] };
  }
}

function expectErrorsAt(errors: ChaosError[], subgraph: SubgraphName, reason: string, paths: Path[]): void {
  for (const error of errors) {
    expect(error).toMatchObject({
      message: `Subgraph "${subgraph}" ${reason}.`,
      extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: subgraph },
    });
  }
  const key = (path: Path | undefined) => JSON.stringify(path);
  expect(errors.map((error) => key(error.path)).toSorted()).toEqual(paths.map(key).toSorted());
}

const SUBGRAPHS: SubgraphName[] = ["users", "catalog", "orders", "inventory", "insights"];

describe("with one subgraph stopped", () => {
  it.for(SUBGRAPHS)(
    "%s: the others' fields are served, with its errors at every missing path, at once",
    async (subgraph, { annotate }) => {
      await proxies[subgraph].stop();
      try {
        const { elapsedMs, data, errors } = await chaosQuery();
        const expected = expectedWithout(subgraph);
        expect(data).toEqual(expected.data);
        expectErrorsAt(errors, subgraph, "is unreachable", expected.paths);
        // A refused connection is known at once: retries take tens of ms, no timeout is waited for.
        expect(elapsedMs).toBeLessThan(TIMEOUT_MS);
        await annotate(`answered in ${Math.round(elapsedMs)} ms with ${errors.length} errors`);
      } finally {
        await proxies[subgraph].start();
      }
      await untilRecovered();
    },
  );
});

describe("with one subgraph slower than the subgraph timeout", () => {
  it.for(SUBGRAPHS)(
    "%s: the others' fields are served, with its errors at every missing path, within the timeout",
    async (subgraph, { annotate }) => {
      proxies[subgraph].delay(TIMEOUT_MS + 1000);
      try {
        const { elapsedMs, data, errors } = await chaosQuery();
        const expected = expectedWithout(subgraph);
        expect(data).toEqual(expected.data);
        expectErrorsAt(errors, subgraph, `did not answer within ${TIMEOUT_MS} ms`, expected.paths);
        expect(elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
        // The subgraph's timeout, plus what the other fetches of the plan take: not the delay.
        expect(elapsedMs).toBeLessThan(TIMEOUT_MS + 900);
        await annotate(
          `answered in ${Math.round(elapsedMs)} ms (timeout ${TIMEOUT_MS} ms, delay ${TIMEOUT_MS + 1000} ms)`,
        );
      } finally {
        await proxies[subgraph].start();
      }
      await untilRecovered();
    },
  );
});

describe("a subgraph that keeps failing", () => {
  const PRODUCT = "query ($id: ID!) { product(id: $id) { id name } }";
  const productQuery = async () => {
    const started = performance.now();
    const { body } = await graphql<{ product: unknown }>(
      stack.endpoint,
      PRODUCT,
      { id: variables.productId },
      { authorization: admin },
    );
    // extensions.cost is the limits' business, not this test's.
    const { extensions: _cost, ...rest } = body as typeof body & { extensions?: unknown };
    return { elapsedMs: performance.now() - started, body: rest };
  };
  const circuitState = async () => {
    const text = await (await fetch(stack.endpoint.replace(/\/graphql$/, "/metrics"))).text();
    const line = text
      .split("\n")
      .find((l) => l.startsWith('nexus_gateway_subgraph_circuit_state{subgraph="catalog"}'));
    return Number(line?.split(" ")[1]);
  };

  it("is cut off after CIRCUIT_BREAKER_FAILURES failed fetches, and called again once it recovers", async ({
    annotate,
  }) => {
    const catalog = proxies.catalog;
    catalog.failWith(503);
    try {
      for (let i = 0; i < BREAKER_FAILURES; i += 1) {
        const before = catalog.requests();
        const { body } = await productQuery();
        expect(body.errors?.[0]?.message).toBe('Subgraph "catalog" answered HTTP 503.');
        // A query: the first attempt and SUBGRAPH_RETRIES (2) more.
        expect(catalog.requests() - before).toBe(3);
      }
      expect(await circuitState()).toBe(2);

      const before = catalog.requests();
      const { elapsedMs, body } = await productQuery();
      expect(body).toEqual({
        data: { product: null },
        errors: [
          {
            message: `Subgraph "catalog" is unavailable: circuit open after ${BREAKER_FAILURES} consecutive failures.`,
            path: ["product"],
            extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: "catalog" },
          },
        ],
      });
      expect(catalog.requests()).toBe(before);
      await annotate(`answered in ${Math.round(elapsedMs)} ms while the circuit was open`);
    } finally {
      await catalog.start();
    }
    // After the cooldown one trial fetch goes through, succeeds and closes the circuit.
    await until("the circuit to close", async () => {
      const { body } = await productQuery();
      return body.errors === undefined ? true : undefined;
    });
    expect(await circuitState()).toBe(0);
  });
});
