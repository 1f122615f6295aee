import { createLogger } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import { TEST_REDIS_URL, TEST_SUBGRAPH_SECRET, until } from "@nexus/testing";
import { Queue } from "bullmq";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { clearFacts, type FactOrder, insertOrders, productId, seededRandom, uuid } from "../test-facts.ts";
import { createCatalogClient } from "./catalog.client.ts";
import { evaluateRecommendations } from "./evaluation.service.ts";
import { fillList, rankRecommendations } from "./recommendations.model.ts";
import { refreshRecommendations } from "./recommendations.service.ts";
import { startRecommendationsRefresh } from "./recommendations.sweeper.ts";

let env: TestEnv;
let staff: string;
let customer: string;
const CUSTOMER = uuid(1);
const OTHER = uuid(2);

beforeAll(async () => {
  env = await createTestEnv("insights-recommendations");
  staff = await env.auth.bearer(uuid(9999), "ADMIN");
  customer = await env.auth.bearer(CUSTOMER);
});

afterAll(async () => {
  await env?.close();
});

beforeEach(async () => {
  await clearFacts(env.pg.db);
  env.catalogStatus.clear();
  env.catalogRequests.length = 0;
});

const DAY = 86_400_000;
const NOW = Date.now();
const daysAgo = (days: number) => new Date(NOW - days * DAY);
const p = productId;
const ids = (list: { id: string }[] | null | undefined) => (list ?? []).map((product) => product.id);

/** `count` orders of the same products, `days` ago. */
const orders = (
  count: number,
  products: number[],
  days = 10,
  customerId: string | null = null,
): FactOrder[] =>
  Array.from({ length: count }, () => ({
    customerId,
    placedAt: daysAgo(days),
    lines: products.map((n) => ({ productId: p(n), quantity: 1 })),
  }));

/**
 * 1 and 2 are bought together in 20 orders, 1 and 3 in 8, 1 and 4 in 1 (below the minimum
 * support); 9 sells 12 units on its own, 8 sells 6. By units: 1 (29), 2 (20), 9, 3, 8, 4; 47 orders.
 */
async function seedPairs() {
  await insertOrders(env.pg.db, [
    ...orders(20, [1, 2]),
    ...orders(8, [1, 3]),
    ...orders(1, [1, 4]),
    ...orders(12, [9]),
    ...orders(6, [8]),
  ]);
  await refreshRecommendations(env.pg.db);
}

const BASKET = `query ($ids: [ID!]!, $first: Int) { basketRecommendations(productIds: $ids, first: $first) { id } }`;

describe("unit: ranking", () => {
  it("adds evidence per source and the popularity prior weighted by how little each source says", () => {
    const neighbours = new Map([
      ["a", [{ productId: "x", score: 0.5 }]],
      [
        "b",
        [
          { productId: "x", score: 0.1 },
          { productId: "a", score: 0.9 },
        ],
      ],
    ]);
    const stats = new Map([
      ["a", { orders: 20, share: 0.1 }],
      ["b", { orders: 60, share: 0.2 }],
      ["x", { orders: 5, share: 0.05 }],
      ["p", { orders: 900, share: 0.6 }],
      ["q", { orders: 900, share: 0.6 }],
    ]);
    const rank = (sources: string[]) =>
      rankRecommendations({
        sources,
        neighboursOf: (id) => neighbours.get(id) ?? [],
        statsOf: (id) => stats.get(id),
        popular: ["q", "p", "b"],
        exclude: new Set(sources),
        priorOrders: 20,
      });
    // Prior weight 20 / (20 + 20) = 0.5: x = 0.5 + 0.05 * 0.5 = 0.525; p and q = 0.3 (q first:
    // more popular); b = 0.1.
    expect(rank(["a"])).toEqual(["x", "q", "p", "b"]);
    // Prior weight 0.5 + 20 / 80 = 0.75: x = 0.6 + 0.0375; p and q = 0.45.
    expect(rank(["a", "b"])).toEqual(["x", "q", "p"]);
    // A source never sold says nothing: the prior weighs fully and popularity decides.
    expect(rank(["unknown"])).toEqual(["q", "p", "b"]);
  });

  it("fills from the fallback without repeats or excluded ids", () => {
    expect(fillList(["a", "b"], ["b", "c", "d", "e"], new Set(["d"]), 4)).toEqual(["a", "b", "c", "e"]);
    expect(fillList(["a", "b", "c"], ["d"], new Set(), 2)).toEqual(["a", "b"]);
  });
});

describe("refresh", () => {
  it("keeps pairs above chance with the minimum support, scored as evidence, and popularity in the window", async () => {
    await seedPairs();
    await insertOrders(env.pg.db, orders(3, [7], 200));
    await refreshRecommendations(env.pg.db);
    const pairs = await env.pg.db
      .selectFrom("product_neighbours")
      .selectAll()
      .where("product_id", "=", p(1))
      .execute();
    expect(pairs.map((pair) => [pair.neighbour_id, pair.co_orders])).toEqual([
      [p(2), 20],
      [p(3), 8],
    ]);
    // Product 1 is in 29 orders; the prior weighs 20.
    expect(pairs[0]?.score).toBeCloseTo(20 / 49, 10);
    const popular = await env.pg.db
      .selectFrom("product_popularity")
      .selectAll()
      .orderBy("product_id")
      .execute();
    // Product 7 sold 190 days before the newest order: outside the 90 days, but its orders count.
    expect(popular.find((row) => row.product_id === p(7))).toEqual({
      product_id: p(7),
      orders: 3,
      units: 0,
      order_count: 0,
      share: 0,
    });
    expect(popular.find((row) => row.product_id === p(9))).toMatchObject({
      orders: 12,
      units: 12,
      share: 12 / 47,
    });
  });

  it("leaves out pairs no more frequent than chance", async () => {
    // 10 of 12 orders hold 5 and 7 hold 6: chance puts them together in 10 * 7 / 12 = 5.8
    // orders, and they meet in 5. 6 and 7 meet in 2 where chance says 7 * 2 / 12 = 1.2.
    await insertOrders(env.pg.db, [
      ...orders(4, [5, 6]),
      ...orders(5, [5]),
      ...orders(1, [5, 6, 7]),
      ...orders(1, [6, 7]),
      ...orders(1, [6]),
    ]);
    await refreshRecommendations(env.pg.db);
    const pairs = await env.pg.db
      .selectFrom("product_neighbours")
      .select(["product_id", "neighbour_id"])
      .execute();
    expect(pairs.map((pair) => [pair.product_id, pair.neighbour_id]).sort()).toEqual([
      [p(6), p(7)],
      [p(7), p(6)],
    ]);
  });

  it("ignores orders that are not sales, and pairs at most 20 products of one order", async () => {
    await insertOrders(env.pg.db, [
      ...orders(3, [1, 2]).map((order) => ({ ...order, outcome: "CANCELLED" as const })),
      ...orders(3, [1, 3]).map((order) => ({ ...order, outcome: "PLACED" as const })),
    ]);
    // 25 products, the first 20 by quantity (then id) paired: product 100 + n has quantity 30 - n.
    // Other orders make the pair count above chance.
    const big = Array.from({ length: 25 }, (_, n) => ({ productId: p(100 + n), quantity: 30 - n }));
    await insertOrders(env.pg.db, [
      { placedAt: daysAgo(1), lines: big },
      { placedAt: daysAgo(1), lines: big },
      ...orders(8, [500]),
    ]);
    await refreshRecommendations(env.pg.db);
    const paired = await env.pg.db.selectFrom("product_neighbours").select("product_id").distinct().execute();
    expect(paired.map((row) => row.product_id).sort()).toEqual(
      Array.from({ length: 20 }, (_, n) => p(100 + n)),
    );
  });

  it("runs as a BullMQ job scheduler at start-up", async () => {
    await seedPairs();
    await env.pg.db.deleteFrom("product_neighbours").execute();
    const redis = await connectRedis(TEST_REDIS_URL);
    const refresh = await startRecommendationsRefresh({
      db: env.pg.db,
      redis,
      prefix: env.prefix,
      logger: env.logger,
      everyMs: 60_000,
    });
    try {
      await until("the first refresh", async () => {
        const row = await env.pg.db.selectFrom("product_neighbours").select("product_id").executeTakeFirst();
        return row !== undefined;
      });
    } finally {
      await refresh.stop();
      await redis.quit();
    }
  });
});

describe("refreshRecommendations", () => {
  const REFRESH = "mutation { refreshRecommendations { queued userErrors { code } } }";

  it("rebuilds the neighbours for staff with insights:manage", async () => {
    // 1 and 2 always together, 9 alone: the pair is above chance.
    await insertOrders(env.pg.db, [...orders(5, [1, 2]), ...orders(5, [9])]);
    const result = await env.run(REFRESH, {}, staff);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ refreshRecommendations: { queued: true, userErrors: [] } });
    const pairs = await env.pg.db
      .selectFrom("product_neighbours")
      .select("neighbour_id")
      .where("product_id", "=", p(1))
      .execute();
    expect(pairs.map((pair) => pair.neighbour_id)).toEqual([p(2)]);
  });

  it("is refused to a customer and to an anonymous caller", async () => {
    const asCustomer = await env.run(REFRESH, {}, customer);
    expect(asCustomer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const anonymous = await env.run(REFRESH);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("queues a refresh for the job's worker when asked, besides the schedule", async () => {
    const redis = await connectRedis(TEST_REDIS_URL);
    const refresh = await startRecommendationsRefresh({
      db: env.pg.db,
      redis,
      prefix: env.prefix,
      logger: env.logger,
      everyMs: 24 * 3_600_000,
    });
    const queue = new Queue("insights-models", { connection: redis, prefix: env.prefix });
    try {
      // The scheduled run at start-up, on an empty store.
      await until("the first refresh", async () => {
        const counts = await new Queue("insights-models", {
          connection: redis,
          prefix: env.prefix,
        }).getJobCounts();
        return (counts.completed ?? 0) >= 1 ? counts : undefined;
      });
      await insertOrders(env.pg.db, [...orders(5, [1, 2]), ...orders(5, [9])]);
      await refresh.requestNow();
      await until("the requested refresh", async () => {
        const row = await env.pg.db.selectFrom("product_neighbours").select("product_id").executeTakeFirst();
        return row !== undefined;
      });
    } finally {
      await queue.close();
      await refresh.stop();
      await redis.quit();
    }
  });
});

describe("basketRecommendations", () => {
  it("ranks what goes with the basket, then popular products; never the basket; anonymous", async () => {
    await seedPairs();
    const result = await env.run(BASKET, { ids: [p(1)], first: 4 });
    expect(result.errors).toBeUndefined();
    // 2: 20/49 + 20/47 * 20/49; 3: 8/49 + 8/47 * 20/49; 9: 12/47 * 20/49; 8: 6/47 * 20/49.
    expect(ids(result.data?.basketRecommendations as { id: string }[])).toEqual([p(2), p(3), p(9), p(8)]);
    const withTwo = await env.run(BASKET, { ids: [p(1), p(2)], first: 3 });
    expect(ids(withTwo.data?.basketRecommendations as { id: string }[])).toEqual([p(3), p(9), p(8)]);
  });

  it("reads with three queries whatever the basket's size", async () => {
    await seedPairs();
    env.pg.queries.length = 0;
    const result = await env.run(BASKET, { ids: [1, 2, 3, 4, 8, 9, 50].map(p), first: 20 });
    expect(result.errors).toBeUndefined();
    expect(env.pg.queries).toHaveLength(3);
  });

  it("returns only products the catalog sells now, asking it once", async () => {
    await seedPairs();
    env.catalogStatus.set(p(2), "DRAFT");
    env.catalogStatus.set(p(9), null);
    const result = await env.run(BASKET, { ids: [p(1)], first: 3 });
    expect(ids(result.data?.basketRecommendations as { id: string }[])).toEqual([p(3), p(8), p(4)]);
    expect(env.catalogRequests).toHaveLength(1);
  });

  it("falls back to popular products for a basket with no neighbours", async () => {
    await seedPairs();
    const result = await env.run(BASKET, { ids: [p(50)], first: 2 });
    expect(ids(result.data?.basketRecommendations as { id: string }[])).toEqual([p(1), p(2)]);
  });

  it.each([
    [{ ids: [] }, "productIds"],
    [{ ids: Array.from({ length: 51 }, (_, n) => p(n + 1)) }, "productIds"],
    [{ ids: ["not-a-product"] }, "productIds"],
    [{ ids: [p(1)], first: 0 }, "first"],
    [{ ids: [p(1)], first: 21 }, "first"],
  ])("refuses %j", async (variables, field) => {
    const result = await env.run(BASKET, variables);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
  });
});

describe("Product.frequentlyBoughtTogether", () => {
  const QUERY = `query ($reps: [_Any!]!, $first: Int) {
    _entities(representations: $reps) { ... on Product { id frequentlyBoughtTogether(first: $first) { id } } }
  }`;

  it("resolves through _entities, neighbours only, for sale only, one query and one catalog call per batch", async () => {
    await seedPairs();
    env.catalogStatus.set(p(3), "ARCHIVED");
    env.pg.queries.length = 0;
    const result = await env.run(QUERY, {
      reps: [
        { __typename: "Product", id: p(1) },
        { __typename: "Product", id: p(2) },
        { __typename: "Product", id: p(9) },
      ],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: p(1), frequentlyBoughtTogether: [{ id: p(2) }] },
      { id: p(2), frequentlyBoughtTogether: [{ id: p(1) }] },
      { id: p(9), frequentlyBoughtTogether: [] },
    ]);
    expect(env.pg.queries.filter((query) => query.includes("product_neighbours"))).toHaveLength(1);
    expect(env.catalogRequests).toHaveLength(1);
  });

  it("validates first", async () => {
    const result = await env.run(QUERY, { reps: [{ __typename: "Product", id: p(1) }], first: 21 });
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("User.recommendedProducts", () => {
  const QUERY = `query ($reps: [_Any!]!) {
    _entities(representations: $reps) { ... on User { recommendedProducts(first: 3) { id } } }
  }`;
  const as = (userId: string) => ({ reps: [{ __typename: "User", id: userId }] });

  async function seedCustomer() {
    await seedPairs();
    // The customer bought 1 long ago and 3 last week: 3 is left out, 1 may come back.
    await insertOrders(env.pg.db, [...orders(1, [1], 300, CUSTOMER), ...orders(1, [3], 7, CUSTOMER)]);
  }

  it("gives the customer the neighbours of their purchases, not what they bought recently", async () => {
    await seedCustomer();
    const result = await env.run(QUERY, as(CUSTOMER), customer);
    expect(result.errors).toBeUndefined();
    const [user] = (result.data?._entities ?? []) as { recommendedProducts: { id: string }[] }[];
    // 1 (bought 300 days ago, most popular, 3's neighbour) may come back; 3 (last week) may not.
    expect(ids(user?.recommendedProducts)).toEqual([p(1), p(2), p(9)]);
  });

  it("lets staff with insights:read see anyone's", async () => {
    await seedCustomer();
    const result = await env.run(QUERY, as(CUSTOMER), staff);
    expect(result.errors).toBeUndefined();
  });

  it("validates first", async () => {
    const result = await env.run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { recommendedProducts(first: 21) { id } } } }`,
      as(CUSTOMER),
      customer,
    );
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
  });

  it("refuses another customer and anonymous callers", async () => {
    const other = await env.run(QUERY, as(OTHER), customer);
    expect(other.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const anonymous = await env.run(QUERY, as(CUSTOMER));
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("trendingProducts", () => {
  const QUERY = `query ($window: TrendWindow, $first: Int) { trendingProducts(window: $window, first: $first) { id } }`;

  it("ranks growth against the window before, with a minimum volume", async () => {
    await insertOrders(env.pg.db, [
      // 1: 2 -> 10 units; 2: 10 -> 12; 3: 0 -> 6; 4: 0 -> 4 (under the minimum of 5).
      ...orders(2, [1], 10),
      ...orders(10, [1], 2),
      ...orders(10, [2], 10),
      ...orders(12, [2], 2),
      ...orders(6, [3], 2),
      ...orders(4, [4], 2),
      // The newest sale: the windows end here.
      ...orders(1, [5], 0),
    ]);
    const week = await env.run(QUERY, { window: "WEEK" });
    expect(week.errors).toBeUndefined();
    expect(ids(week.data?.trendingProducts as { id: string }[])).toEqual([p(3), p(1), p(2)]);
    env.catalogStatus.set(p(3), "DRAFT");
    const filtered = await env.run(QUERY, { window: "WEEK", first: 1 });
    expect(ids(filtered.data?.trendingProducts as { id: string }[])).toEqual([p(1)]);
    // A day: only the newest sale's day counts; nothing has 5 units.
    const day = await env.run(QUERY, { window: "DAY" });
    expect(ids(day.data?.trendingProducts as { id: string }[])).toEqual([]);
  });

  it.each([0, 21])("refuses first: %i", async (first) => {
    const result = await env.run(QUERY, { first });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
  });
});

describe("catalog client", () => {
  it("caches answers for their lifetime", async () => {
    let now = 0;
    const client = createCatalogClient({
      url: env.catalogHttp.url,
      secrets: { current: TEST_SUBGRAPH_SECRET },
      logger: env.logger,
      cacheTtlMs: 1000,
      now: () => now,
    });
    env.catalogStatus.set(p(2), "DRAFT");
    expect([...(await client.findActiveIds([p(1), p(2)]))]).toEqual([p(1)]);
    expect([...(await client.findActiveIds([p(1), p(2)]))]).toEqual([p(1)]);
    expect(env.catalogRequests).toHaveLength(1);
    now = 1001;
    env.catalogStatus.set(p(1), null);
    expect([...(await client.findActiveIds([p(1), p(3)]))]).toEqual([p(3)]);
    expect(env.catalogRequests[1]).toEqual([
      { __typename: "Product", id: p(1) },
      { __typename: "Product", id: p(3) },
    ]);
  });

  it("leaves every product out when the catalog answers with an error", async () => {
    env.catalogStatus.set(p(2), "BROKEN");
    await seedPairs();
    const result = await env.run(BASKET, { ids: [p(1)], first: 3 });
    expect(result.errors).toBeUndefined();
    expect(result.data?.basketRecommendations).toEqual([]);
  });

  it("leaves products out when the catalog does not answer or is not signed for", async () => {
    const down = createCatalogClient({
      url: "http://127.0.0.1:9/graphql",
      secrets: { current: TEST_SUBGRAPH_SECRET },
      logger: createLogger("catalog-down", "silent"),
      timeoutMs: 500,
    });
    expect([...(await down.findActiveIds([p(1)]))]).toEqual([]);
    const unsigned = createCatalogClient({
      url: env.catalogHttp.url,
      secrets: { current: "another-secret-that-the-catalog-does-not-know" },
      logger: createLogger("catalog-unsigned", "silent"),
    });
    expect([...(await unsigned.findActiveIds([p(1)]))]).toEqual([]);
  });
});

describe("evaluateRecommendations", () => {
  it("finds co-purchase beating popularity on a history with bundles", async () => {
    // 12 bundles of 5 products; an order takes 2 or 3 products of one bundle (bundles more or
    // less popular) and sometimes one product of any bundle.
    const random = seededRandom(13);
    const history: FactOrder[] = [];
    for (let day = 365; day >= 0; day -= 1) {
      for (let n = 0; n < 12; n += 1) {
        const bundle = Math.floor(12 * random() ** 1.5);
        const size = 2 + Math.floor(random() * 2);
        const picked = new Set<number>();
        while (picked.size < size) picked.add(bundle * 5 + Math.floor(random() * 5));
        if (random() < 0.3) picked.add(Math.floor(random() * 60));
        history.push({
          placedAt: new Date(NOW - day * DAY - n * 60_000),
          lines: [...picked].map((k) => ({ productId: p(k + 1), quantity: 1 + Math.floor(random() * 3) })),
        });
      }
    }
    await insertOrders(env.pg.db, history);
    const evaluation = await evaluateRecommendations(env.pg.db, { holdoutDays: 90 });
    expect(evaluation.baskets).toBeGreaterThan(0);
    expect(evaluation.coPurchase.cases).toBe(evaluation.popularity.cases);
    expect(evaluation.coPurchase.rate).toBeGreaterThan(evaluation.popularity.rate);
    console.info("recommendations hit rate@10", JSON.stringify(evaluation));
  });

  it("is empty without sales", async () => {
    const evaluation = await evaluateRecommendations(env.pg.db, { holdoutDays: 90 });
    expect(evaluation).toMatchObject({ baskets: 0, coPurchase: { cases: 0 }, popularity: { cases: 0 } });
  });
});
