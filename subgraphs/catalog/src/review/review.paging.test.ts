import { encodeCursor } from "@nexus/core";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoProducts } from "../db/demo.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";

/**
 * A product's reviews (and the moderators' list) paged backward: from the end of either order the
 * pages are the forward pages in reverse, with reviews sharing a time and a vote count.
 */

let t: TestEnv;
let moderator: string;
const product = demoProducts().find((p) => p.status === "ACTIVE")?.id ?? "";
const REVIEWS = 41;

beforeAll(async () => {
  t = await createTestEnv("catalog_review_paging", { seed: true });
  moderator = await t.auth.bearer("mod-1", "ADMIN");
  // Many reviews share a second and a vote count, so only the id tells them apart.
  const start = Date.UTC(2026, 0, 1);
  await t.db.reviews.insertMany(
    Array.from({ length: REVIEWS }, (_, n) => ({
      _id: new ObjectId(),
      productId: new ObjectId(product),
      authorId: `buyer-${n}`,
      rating: 1 + (n % 5),
      title: `Review ${n}`,
      body: "Good value for the price.",
      status: n % 7 === 6 ? ("PENDING" as const) : ("APPROVED" as const),
      verifiedPurchase: false,
      submittedAt: new Date(start + (n % 4) * 1000),
      moderatedAt: null,
      moderatedBy: null,
      helpfulCount: n % 3,
      screening: null,
    })),
  );
});
afterAll(async () => t?.close());

const PRODUCT_REVIEWS = `query ($id: ID, $sort: ReviewSort, $first: Int, $after: String, $last: Int, $before: String) {
  product(id: $id) {
    reviews(sort: $sort, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { id helpfulCount submittedAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`;
const QUEUE = `query ($sort: ReviewSort, $first: Int, $after: String, $last: Int, $before: String) {
  reviews(filter: { status: PENDING }, sort: $sort, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id helpfulCount submittedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

interface Page {
  totalCount: number;
  edges: { cursor: string; node: { id: string; helpfulCount: number; submittedAt: string } }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}
type Variables = Record<string, unknown>;
type Fetch = (
  variables: Variables,
) => Promise<{ errors?: readonly { extensions?: unknown }[]; page: Page | null }>;

const ofProduct: Fetch = async (variables) => {
  const result = await t.run(PRODUCT_REVIEWS, { id: product, ...variables });
  const data = result.data as { product: { reviews: Page } } | null | undefined;
  return { errors: result.errors, page: data?.product?.reviews ?? null };
};
const ofQueue: Fetch = async (variables) => {
  const result = await t.run(QUEUE, variables, moderator);
  return { errors: result.errors, page: (result.data as { reviews: Page } | null)?.reviews ?? null };
};

async function load(fetch: Fetch, variables: Variables): Promise<Page> {
  const { errors, page } = await fetch(variables);
  expect(errors, JSON.stringify(variables)).toBeUndefined();
  if (!page) throw new Error("no page");
  return page;
}

const ids = (pages: readonly Page[]) => pages.flatMap((p) => p.edges.map((e) => e.node.id));

async function walk(fetch: Fetch, variables: Variables, size: number, backward: boolean): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 100; n++) {
    const page = await load(
      fetch,
      backward ? { ...variables, last: size, before: cursor } : { ...variables, first: size, after: cursor },
    );
    pages.push(page);
    if (!(backward ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage)) return pages;
    cursor = backward ? page.pageInfo.startCursor : page.pageInfo.endCursor;
  }
  throw new Error("did not reach the other end");
}

async function expectBothWays(fetch: Fetch, sort: string, size: number, expected: number) {
  const ahead = await walk(fetch, { sort }, size, false);
  const back = await walk(fetch, { sort }, size, true);
  const sequence = ids(ahead);
  expect(sequence).toHaveLength(expected);
  expect(new Set(sequence).size).toBe(expected);
  expect(ids([...back].reverse())).toEqual(sequence);
  expect(ahead[0]?.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: expected > size });
  expect(back[0]?.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: expected > size });
  expect(back.at(-1)?.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: expected > size });
  // Cursors work both ways: before a forward page is the page before it, after a backward page the one after.
  const second = ahead[1];
  if (second) {
    const previous = await load(fetch, { sort, last: size, before: second.pageInfo.startCursor });
    expect(ids([previous])).toEqual(ids([ahead[0] as Page]));
  }
  const secondLast = back[1];
  if (secondLast) {
    const next = await load(fetch, { sort, first: size, after: secondLast.pageInfo.endCursor });
    expect(ids([next])).toEqual(ids([back[0] as Page]));
  }
  return ahead.flatMap((p) => p.edges.map((e) => e.node));
}

describe("reviews paged backward", () => {
  /** What the store holds, the demo's reviews included. */
  const count = (status: "APPROVED" | "PENDING", productId?: string) =>
    t.db.reviews.countDocuments({ status, ...(productId ? { productId: new ObjectId(productId) } : {}) });

  it("a product's reviews in both orders, with equal times and equal votes", async () => {
    const approved = await count("APPROVED", product);
    expect(approved).toBeGreaterThanOrEqual(REVIEWS - 6);
    const newest = await expectBothWays(ofProduct, "NEWEST", 4, approved);
    const sameTime = newest.filter((r, i) => i > 0 && r.submittedAt === newest[i - 1]?.submittedAt);
    expect(sameTime.length).toBeGreaterThan(0);
    const helpful = await expectBothWays(ofProduct, "MOST_HELPFUL", 5, approved);
    const counts = helpful.map((r) => r.helpfulCount);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    await expectBothWays(ofProduct, "NEWEST", 100, approved);
  });

  it("the moderators' queue the same way", async () => {
    await expectBothWays(ofQueue, "MOST_HELPFUL", 23, await count("PENDING"));
    await expectBothWays(ofQueue, "NEWEST", 37, await count("PENDING"));
  });

  it("refuses mixed directions, sizes out of range and cursors of the other order at before", async () => {
    const newest = await load(ofProduct, { sort: "NEWEST", first: 1 });
    const cases: [Variables, string][] = [
      [{ first: 1, last: 1 }, "last"],
      [{ last: 1, after: newest.pageInfo.endCursor }, "after"],
      [{ first: 1, before: newest.pageInfo.endCursor }, "before"],
      [{ last: 0 }, "last"],
      [{ last: 101 }, "last"],
      [{ sort: "MOST_HELPFUL", last: 1, before: newest.pageInfo.endCursor }, "before"],
      [{ last: 1, before: encodeCursor(["MOST_HELPFUL", 0, 0, "0".repeat(24)]) }, "before"],
      [{ last: 1, before: encodeCursor([-1, "0".repeat(24)]) }, "before"],
    ];
    for (const [variables, field] of cases) {
      const { errors } = await ofProduct(variables);
      expect(errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({
        code: "BAD_USER_INPUT",
        field,
      });
    }
  });
});
