import { parseGlobalId } from "@nexus/core";
import { globalId, rawId } from "@nexus/testing";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoProducts } from "../db/demo.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { parseWordList } from "./screening.model.ts";

let t: TestEnv;
let admin: string;
const PRODUCTS = demoProducts();
const ACTIVE = PRODUCTS.filter((p) => p.status === "ACTIVE");
const ARCHIVED = PRODUCTS.filter((p) => p.status === "ARCHIVED");

beforeAll(async () => {
  t = await createTestEnv("catalog_helpful", { seed: true });
  admin = await t.auth.bearer("moderator-1", "ADMIN");
});
afterAll(async () => {
  await t?.close();
});

const REVIEW_FIELDS = "id status helpfulCount viewerMarkedHelpful verifiedPurchase";
const ADD = `mutation ($input: AddReviewInput!) {
  addReview(input: $input) { review { ${REVIEW_FIELDS} } userErrors { field code } }
}`;
const MODERATE = `mutation ($input: ModerateReviewInput!) {
  moderateReview(input: $input) { review { id status } userErrors { code } }
}`;
const MARK = `mutation ($input: MarkReviewHelpfulInput!) {
  markReviewHelpful(input: $input) { review { ${REVIEW_FIELDS} } userErrors { field message code } }
}`;
const UNMARK = `mutation ($input: UnmarkReviewHelpfulInput!) {
  unmarkReviewHelpful(input: $input) { review { ${REVIEW_FIELDS} } userErrors { field message code } }
}`;

interface ReviewView {
  id: string;
  status: string;
  helpfulCount: number;
  viewerMarkedHelpful: boolean;
  verifiedPurchase: boolean;
}
type Payload = { review: ReviewView | null; userErrors: { field: string[] | null; code: string }[] };

const as = (userId: string) => t.auth.bearer(userId);

async function add(userId: string, productId: string, body = "Does what it says.", title = "Fine") {
  const result = await t.run(ADD, { input: { productId, rating: 4, title, body } }, await as(userId));
  expect(result.errors).toBeUndefined();
  return (result.data as { addReview: Payload }).addReview;
}

/** A review by `userId`, approved by a moderator. */
async function approved(userId: string, productId: string) {
  const review = (await add(userId, productId)).review;
  if (!review) throw new Error("review refused");
  await t.run(MODERATE, { input: { reviewId: review.id, decision: "APPROVE" } }, admin);
  return review.id;
}

async function mark(userId: string, reviewId: string, mutation = MARK) {
  const result = await t.run(mutation, { input: { reviewId } }, await as(userId));
  expect(result.errors).toBeUndefined();
  const data = result.data as { markReviewHelpful?: Payload; unmarkReviewHelpful?: Payload };
  const payload = data.markReviewHelpful ?? data.unmarkReviewHelpful;
  if (!payload) throw new Error("no payload");
  return payload;
}
const unmark = (userId: string, reviewId: string) => mark(userId, reviewId, UNMARK);

/** What the database holds for a review, by its global id (or a raw one). */
async function stored(id: string) {
  const reviewId = parseGlobalId(id)?.raw ?? id;
  const review = await t.db.reviews.findOne({ _id: new ObjectId(reviewId) });
  const votes = await t.db.reviewVotes.countDocuments({ reviewId: new ObjectId(reviewId) });
  return { helpfulCount: review?.helpfulCount, votes };
}

/** A product with none of the seeded reviews, so lists hold only what a test writes. */
async function freshProduct(index: number) {
  const id = ACTIVE[index]?.id ?? "";
  await t.db.reviews.deleteMany({ productId: new ObjectId(id) });
  return id;
}

describe("markReviewHelpful", () => {
  it("counts one vote per customer, shows the viewer's own vote and takes it back", async () => {
    const reviewId = await approved("author-1", await freshProduct(1));
    const first = await mark("voter-1", reviewId);
    expect(first).toEqual({
      review: {
        id: reviewId,
        status: "APPROVED",
        helpfulCount: 1,
        viewerMarkedHelpful: true,
        verifiedPurchase: false,
      },
      userErrors: [],
    });
    // Again: nothing changes.
    expect((await mark("voter-1", reviewId)).review).toMatchObject({
      helpfulCount: 1,
      viewerMarkedHelpful: true,
    });
    expect((await mark("voter-2", reviewId)).review).toMatchObject({
      helpfulCount: 2,
      viewerMarkedHelpful: true,
    });
    expect(await stored(reviewId)).toEqual({ helpfulCount: 2, votes: 2 });

    expect((await unmark("voter-1", reviewId)).review).toMatchObject({
      helpfulCount: 1,
      viewerMarkedHelpful: false,
    });
    expect((await unmark("voter-1", reviewId)).review).toMatchObject({
      helpfulCount: 1,
      viewerMarkedHelpful: false,
    });
    // A customer who never voted takes nothing back.
    expect((await unmark("voter-3", reviewId)).review).toMatchObject({ helpfulCount: 1 });
    expect(await stored(reviewId)).toEqual({ helpfulCount: 1, votes: 1 });
    expect((await mark("voter-1", reviewId)).review).toMatchObject({ helpfulCount: 2 });
  });

  it("refuses one's own review, unpublished reviews, hidden products' reviews and unknown ids", async () => {
    const product = await freshProduct(2);
    const own = await approved("author-2", product);
    const ownResult = await mark("author-2", own);
    expect(ownResult).toMatchObject({
      review: null,
      userErrors: [{ field: ["input", "reviewId"], code: "OWN_REVIEW" }],
    });
    expect(ownResult.userErrors).toHaveLength(1);

    const pending = (await add("author-3", product))?.review?.id ?? "";
    const rejected = (await add("author-4", product))?.review?.id ?? "";
    await t.run(MODERATE, { input: { reviewId: rejected, decision: "REJECT" } }, admin);
    const archivedProduct = ARCHIVED[0]?.id ?? "";
    await t.db.reviews.deleteMany({ productId: new ObjectId(archivedProduct) });
    const { insertedId: archived } = await t.db.reviews.insertOne({
      _id: new ObjectId(),
      productId: new ObjectId(archivedProduct),
      authorId: "author-5",
      rating: 5,
      title: "Old",
      body: "Before it was archived",
      status: "APPROVED",
      verifiedPurchase: false,
      submittedAt: new Date(),
      moderatedAt: new Date(),
      moderatedBy: "moderator-1",
      helpfulCount: 0,
      screening: null,
    });
    for (const reviewId of [
      pending,
      rejected,
      archived.toHexString(),
      new ObjectId().toHexString(),
      "not-an-id",
    ]) {
      const refused = await mark("voter-1", reviewId);
      expect(refused).toMatchObject({
        review: null,
        userErrors: [{ field: ["input", "reviewId"], code: "REVIEW_NOT_FOUND" }],
      });
      expect(refused.userErrors).toHaveLength(1);
      expect(await unmark("voter-1", reviewId)).toMatchObject({
        review: null,
        userErrors: [{ code: "REVIEW_NOT_FOUND" }],
      });
    }
    for (const reviewId of [own, pending, rejected, archived.toHexString()]) {
      expect(await stored(reviewId)).toEqual({ helpfulCount: 0, votes: 0 });
    }

    const anonymous = await t.run(MARK, { input: { reviewId: own } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(await stored(own)).toEqual({ helpfulCount: 0, votes: 0 });
  });

  it("counts exactly once per customer under concurrent votes and retractions", async () => {
    const reviewId = await approved("author-6", await freshProduct(3));
    const voters = Array.from({ length: 25 }, (_, i) => `concurrent-voter-${i}`);
    const results = await Promise.all(voters.flatMap((voter) => [0, 1, 2].map(() => mark(voter, reviewId))));
    expect(results.every((r) => r.userErrors.length === 0 && r.review?.viewerMarkedHelpful === true)).toBe(
      true,
    );
    expect(await stored(reviewId)).toEqual({ helpfulCount: 25, votes: 25 });
    await Promise.all(
      voters.slice(0, 10).flatMap((voter) => [unmark(voter, reviewId), unmark(voter, reviewId)]),
    );
    expect(await stored(reviewId)).toEqual({ helpfulCount: 15, votes: 15 });
    // Marks and unmarks of one customer racing each other still leave count = votes.
    await Promise.all(
      voters.slice(10, 20).flatMap((voter) => [mark(voter, reviewId), unmark(voter, reviewId)]),
    );
    const final = await stored(reviewId);
    expect(final.helpfulCount).toBe(final.votes);
  }, 120_000);
});

describe("sorting by helpfulness", () => {
  const LIST = `query ($id: ID!, $sort: ReviewSort, $first: Int, $after: String) {
    product(id: $id) {
      reviews(sort: $sort, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id helpfulCount viewerMarkedHelpful } }
      }
    }
  }`;
  type Page = {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: { id: string; helpfulCount: number; viewerMarkedHelpful: boolean } }[];
  };
  const page = async (variables: Record<string, unknown>, authorization?: string) => {
    const result = await t.run(LIST, variables, authorization);
    expect(result.errors).toBeUndefined();
    return (result.data as { product: { reviews: Page } }).product.reviews;
  };

  it("lists most helpful first, newest first among equals, across pages, with one vote query", async () => {
    const product = await freshProduct(4);
    // Reviews a..f, oldest first; votes 2, 0, 3, 2, 0, 1.
    const ids: string[] = [];
    for (const author of ["a", "b", "c", "d", "e", "f"]) {
      ids.push(await approved(`sort-author-${author}`, product));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const votes = [2, 0, 3, 2, 0, 1];
    for (const [i, count] of votes.entries()) {
      for (let v = 0; v < count; v++) await mark(`sort-voter-${v}`, ids[i] ?? "");
    }
    const expected = [ids[2], ids[3], ids[0], ids[5], ids[4], ids[1]];

    const viewer = await as("sort-voter-1");
    t.mongo.commands.length = 0;
    const all = await page({ id: product, sort: "MOST_HELPFUL", first: 100 }, viewer);
    expect(all.edges.map((e) => e.node.id)).toEqual(expected);
    expect(all.edges.map((e) => e.node.helpfulCount)).toEqual([3, 2, 2, 1, 0, 0]);
    // sort-voter-1 voted for every review with 2 or more votes.
    expect(all.edges.map((e) => e.node.viewerMarkedHelpful)).toEqual([true, true, true, false, false, false]);
    expect(t.count("find", "review_votes")).toBe(1);

    const seen: string[] = [];
    let after: string | null = null;
    do {
      const current: Page = await page({ id: product, sort: "MOST_HELPFUL", first: 4, after });
      seen.push(...current.edges.map((e) => e.node.id));
      after = current.pageInfo.hasNextPage ? current.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(expected);

    const newest = await page({ id: product, first: 100 });
    expect(newest.edges.map((e) => e.node.id)).toEqual([...ids].reverse());
    expect(newest.edges.every((e) => e.node.viewerMarkedHelpful === false)).toBe(true);
  });

  it("refuses a cursor of the other order", async () => {
    const product = ACTIVE[4]?.id ?? "";
    const newest = await page({ id: product, first: 1 });
    const helpful = await page({ id: product, first: 1, sort: "MOST_HELPFUL" });
    for (const [sort, after] of [
      ["MOST_HELPFUL", newest.pageInfo.endCursor],
      ["NEWEST", helpful.pageInfo.endCursor],
    ]) {
      const result = await t.run(LIST, { id: product, sort, after });
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
  });

  it("sorts moderators' lists and entity references' reviews the same way", async () => {
    const product = ACTIVE[4]?.id ?? "";
    const moderators = await t.run(
      `query ($p: ID) { reviews(filter: { productId: $p, status: APPROVED }, sort: MOST_HELPFUL, first: 2) { edges { node { helpfulCount } } } }`,
      { p: product },
      admin,
    );
    expect(moderators.data).toEqual({
      reviews: { edges: [{ node: { helpfulCount: 3 } }, { node: { helpfulCount: 2 } }] },
    });
    const entities = await t.run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id reviews(sort: MOST_HELPFUL, first: 1) { edges { node { helpfulCount viewerMarkedHelpful } } } } } }`,
      { reps: [{ __typename: "Product", id: product }] },
      await as("sort-voter-2"),
    );
    expect(entities.errors).toBeUndefined();
    expect(entities.data).toEqual({
      _entities: [
        {
          id: globalId("Product", product),
          reviews: { edges: [{ node: { helpfulCount: 3, viewerMarkedHelpful: true } }] },
        },
      ],
    });
  });
});

describe("screening", () => {
  const SCREENING = `query ($p: ID) {
    reviews(filter: { productId: $p, status: PENDING }) {
      edges { node { id status screening { held reasons detail autoApproved } } }
    }
  }`;
  const RATING = `query ($id: ID!) { product(id: $id) { rating { count } } }`;
  const ratingCount = async (id: string) =>
    ((await t.run(RATING, { id })).data as { product: { rating: { count: number } } }).product.rating.count;
  const buyer = async (customerId: string, productId: string) => {
    await t.db.purchases.insertOne({
      _id: `${customerId}:${productId}`,
      customerId,
      productId: new ObjectId(productId),
      orderId: "screening-test",
      deliveredAt: new Date(),
    });
  };

  it("holds a review with a link for moderators, who see why; its author does not", async () => {
    const product = await freshProduct(5);
    const held = await add("spammer-1", product, "Cheaper at cheapwatches.com, believe me");
    expect(held.review?.status).toBe("PENDING");
    const list = await t.run(SCREENING, { p: product }, admin);
    expect(list.data).toEqual({
      reviews: {
        edges: [
          {
            node: {
              id: held.review?.id,
              status: "PENDING",
              screening: {
                held: true,
                reasons: ["LINK"],
                detail: 'link "cheapwatches.com"',
                autoApproved: false,
              },
            },
          },
        ],
      },
    });
    const own = await t.run(
      `query ($id: ID!) { product(id: $id) { viewerReview { id screening { reasons } } } }`,
      { id: product },
      await as("spammer-1"),
    );
    expect(own.data).toEqual({ product: { viewerReview: { id: held.review?.id, screening: null } } });
    expect(own.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("approves a clean review by a verified buyer at once, holds a flagged one, and screens every edit", async () => {
    const product = await freshProduct(6);
    await buyer("buyer-1", product);
    await buyer("buyer-2", product);

    const clean = await add("buyer-1", product, "Sturdy, quiet, 3.5mm jack works, e.g. with old amps.");
    expect(clean.review).toMatchObject({ status: "APPROVED", verifiedPurchase: true });
    expect(await ratingCount(product)).toBe(1);
    const stored = await t.db.reviews.findOne({ _id: new ObjectId(rawId(clean.review?.id)) });
    expect(stored).toMatchObject({
      status: "APPROVED",
      moderatedBy: null,
      screening: { reasons: [], autoApproved: true },
    });
    expect(stored?.moderatedAt).toBeInstanceOf(Date);

    const flagged = await add("buyer-2", product, "<b>Great</b> product");
    expect(flagged.review).toMatchObject({ status: "PENDING", verifiedPurchase: true });

    // The verified buyer edits in a blocked word: back to PENDING and out of the rating.
    const edited = await add("buyer-1", product, "Honestly shit sound");
    expect(edited.review).toMatchObject({ id: clean.review?.id, status: "PENDING" });
    expect(await ratingCount(product)).toBe(0);
    const list = (await t.run(SCREENING, { p: product }, admin)).data as {
      reviews: { edges: { node: { id: string; screening: { reasons: string[]; detail: string } } }[] };
    };
    expect(
      list.reviews.edges.map((e) => [e.node.id, e.node.screening.reasons, e.node.screening.detail]).sort(),
    ).toEqual(
      [
        [clean.review?.id, ["BLOCKED_WORD"], 'blocked word "shit"'],
        [flagged.review?.id, ["MARKUP"], 'markup "<b>"'],
      ].sort(),
    );
    // Clean again: approved again.
    expect((await add("buyer-1", product, "Fine after all.")).review?.status).toBe("APPROVED");
    expect(await ratingCount(product)).toBe(1);
  });

  it("leaves clean reviews by customers who did not buy, and everything with auto-approval off, to moderators", async () => {
    const product = await freshProduct(7);
    expect((await add("browser-1", product)).review?.status).toBe("PENDING");
    const strict = await createTestEnv("catalog_helpful_strict", {
      seed: false,
      reviews: { autoApproveVerified: false, blockedWords: parseWordList(["refurbished"]) },
    });
    try {
      await strict.db.products.insertOne({
        ...(await t.db.products.findOne({ _id: new ObjectId(product) })),
      } as never);
      await strict.db.purchases.insertOne({
        _id: `buyer-9:${product}`,
        customerId: "buyer-9",
        productId: new ObjectId(product),
        orderId: "screening-test",
        deliveredAt: new Date(),
      });
      const run = async (body: string) =>
        (
          (
            await strict.run(
              ADD,
              { input: { productId: product, rating: 5, title: "t", body } },
              await strict.auth.bearer("buyer-9"),
            )
          ).data as { addReview: Payload }
        ).addReview.review;
      expect(await run("Clean and verified")).toMatchObject({ status: "PENDING", verifiedPurchase: true });
      const stored = await strict.db.reviews.findOne({ authorId: "buyer-9" });
      expect(stored?.screening).toEqual({ reasons: [], detail: "", autoApproved: false });
      await run("Sold as new but refurbished");
      expect((await strict.db.reviews.findOne({ authorId: "buyer-9" }))?.screening).toEqual({
        reasons: ["BLOCKED_WORD"],
        detail: 'blocked word "refurbished"',
        autoApproved: false,
      });
      // The default list is replaced, not extended.
      await run("viagra");
      expect((await strict.db.reviews.findOne({ authorId: "buyer-9" }))?.screening?.reasons).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});
