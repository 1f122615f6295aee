import { createLogger } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import { TEST_REDIS_URL, TEST_SUBGRAPH_SECRET, until } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { clearFacts, type FactOrder, insertOrders, productId, seededRandom, uuid } from "../test-facts.ts";
import { createCatalogClient } from "./catalog.client.ts";
import { evaluateRecommendations } from "./evaluation.service.ts";
import { fillList, rankNeighbours } from "./recommendations.model.ts";
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
 * 1 and 2 are bought together 5 times, 1 and 3 twice, 1 and 4 once (below the minimum support);
 * 9 sells 6 units on its own, 8 sells 4. By units: 1 (8), 9, 2, 8, 3, 4.
 */
async function seedPairs() {
  await insertOrders(env.pg.db, [
    ...orders(5, [1, 2]),
    ...orders(2, [1, 3]),
    ...orders(1, [1, 4]),
    ...orders(6, [9]),
    ...orders(4, [8]),
  ]);
  await refreshRecommendations(env.pg.db);
}

const BASKET = `query ($ids: [ID!]!, $first: Int) { basketRecommendations(productIds: $ids, first: $first) { id } }`;

describe("unit: ranking", () => {
  it("adds up neighbour scores weighted by source, excludes, ties by id", () => {
    const neighbours = new Map([
      [
        "a",
        [
          { productId: "x", score: 0.5 },
          { productId: "y", score: 0.4 },
        ],
      ],
      [
        "b",
        [
          { productId: "y", score: 0.4 },
          { productId: "a", score: 0.9 },
          { productId: "z", score: 0.5 },
        ],
      ],
    ]);
    const ranked = rankNeighbours(
      (id) => neighbours.get(id) ?? [],
      new Map([
        ["a", 1],
        ["b", 1],
      ]),
      new Set(["a", "b"]),
    );
    expect(ranked).toEqual(["y", "x", "z"]);
  });

  it("fills from the fallback without repeats or excluded ids", () => {
    expect(fillList(["a", "b"], ["b", "c", "d", "e"], new Set(["d"]), 4)).toEqual(["a", "b", "c", "e"]);
    expect(fillList(["a", "b", "c"], ["d"], new Set(), 2)).toEqual(["a", "b"]);
  });
});

describe("refresh", () => {
  it("keeps pairs with the minimum support, scored by cosine, and popularity in the window", async () => {
    await seedPairs();
    await insertOrders(env.pg.db, orders(3, [7], 200));
    await refreshRecommendations(env.pg.db);
    const pairs = await env.pg.db
      .selectFrom("product_neighbours")
      .selectAll()
      .where("product_id", "=", p(1))
      .execute();
    expect(pairs.map((pair) => [pair.neighbour_id, pair.co_orders])).toEqual([
      [p(2), 5],
      [p(3), 2],
    ]);
    // Product 1 is in 8 orders, 2 in 5: 5 / sqrt(8 * 5).
    expect(pairs[0]?.score).toBeCloseTo(5 / Math.sqrt(40), 10);
    const popular = await env.pg.db.selectFrom("product_popularity").select("product_id").execute();
    // Product 7 sold 190 days before the newest order: outside the 90 days.
    expect(popular.map((row) => row.product_id)).not.toContain(p(7));
    expect(popular.map((row) => row.product_id)).toContain(p(9));
  });

  it("ignores orders that are not sales, and pairs at most 20 products of one order", async () => {
    await insertOrders(env.pg.db, [
      ...orders(3, [1, 2]).map((order) => ({ ...order, outcome: "CANCELLED" as const })),
      ...orders(3, [1, 3]).map((order) => ({ ...order, outcome: "PLACED" as const })),
    ]);
    // 25 products, the first 20 by quantity (then id) paired: product 100 + n has quantity 30 - n.
    const big = Array.from({ length: 25 }, (_, n) => ({ productId: p(100 + n), quantity: 30 - n }));
    await insertOrders(env.pg.db, [
      { placedAt: daysAgo(1), lines: big },
      { placedAt: daysAgo(1), lines: big },
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

describe("basketRecommendations", () => {
  it("ranks the basket's neighbours, then popular products; never the basket; anonymous", async () => {
    await seedPairs();
    const result = await env.run(BASKET, { ids: [p(1)], first: 4 });
    expect(result.errors).toBeUndefined();
    expect(ids(result.data?.basketRecommendations as { id: string }[])).toEqual([p(2), p(3), p(9), p(8)]);
    const withTwo = await env.run(BASKET, { ids: [p(1), p(2)], first: 3 });
    expect(ids(withTwo.data?.basketRecommendations as { id: string }[])).toEqual([p(3), p(9), p(8)]);
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
    expect(ids(result.data?.basketRecommendations as { id: string }[])).toEqual([p(1), p(9)]);
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
    expect(ids(user?.recommendedProducts)).toEqual([p(2), p(1), p(9)]);
  });

  it("lets staff with insights:read see anyone's", async () => {
    await seedCustomer();
    const result = await env.run(QUERY, as(CUSTOMER), staff);
    expect(result.errors).toBeUndefined();
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

  it("validates first", async () => {
    const result = await env.run(QUERY, { first: 0 });
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
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
