import { randomUUID } from "node:crypto";
import { createLogger } from "@nexus/core";
import { type EventEnvelope, queueName } from "@nexus/events";
import { rawId, until } from "@nexus/testing";
import { Queue } from "bullmq";
import { ObjectId } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoProducts } from "../db/demo.ts";
import { applyCatalogEvent, type CatalogConsumer, startCatalogConsumer } from "../events/catalog.consumer.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";

let t: TestEnv;
let consumer: CatalogConsumer;
let queue: Queue;
let admin: string;
const ACTIVE = demoProducts().filter((p) => p.status === "ACTIVE");

beforeAll(async () => {
  t = await createTestEnv("catalog_reviews", { seed: true });
  admin = await t.auth.bearer("moderator-1", "ADMIN");
  consumer = startCatalogConsumer({
    db: t.db,
    redis: t.redis,
    prefix: t.prefix,
    logger: createLogger("c", "silent"),
    cache: t.cache,
    search: t.search,
    autoApproveVerified: true,
  });
  queue = new Queue(queueName("catalog"), { connection: t.redis, prefix: t.prefix });
});
afterAll(async () => {
  await consumer?.stop();
  await queue?.close();
  await t?.close();
});

const ADD = `mutation ($input: AddReviewInput!) {
  addReview(input: $input) { review { id rating title status verifiedPurchase author { id } product { id } } userErrors { field code } }
}`;
const MODERATE = `mutation ($input: ModerateReviewInput!) {
  moderateReview(input: $input) { review { id status moderatedAt } userErrors { field code } }
}`;
const RATING = `query ($id: ID!) { product(id: $id) { rating { average count } reviews(first: 100) { totalCount edges { node { id rating } } } } }`;

type AddResult = {
  addReview: {
    review: { id: string; status: string; verifiedPurchase: boolean } | null;
    userErrors: { code: string }[];
  };
};

async function add(userId: string, productId: string, rating: number, title = "Title") {
  const result = await t.run(
    ADD,
    { input: { productId, rating, title, body: "Body" } },
    await t.auth.bearer(userId),
  );
  expect(result.errors).toBeUndefined();
  return (result.data as AddResult).addReview;
}

async function rating(productId: string) {
  const result = await t.run(RATING, { id: productId });
  return (
    result.data as {
      product: { rating: { average: number; count: number }; reviews: { totalCount: number } };
    }
  ).product;
}

/** Brute force: the rating of a product counted from its APPROVED reviews in the database. */
async function counted(productId: string) {
  const approved = await t.db.reviews
    .find({ productId: new ObjectId(productId), status: "APPROVED" })
    .toArray();
  const sum = approved.reduce((s, r) => s + r.rating, 0);
  return {
    average: approved.length ? Math.round((sum / approved.length) * 100) / 100 : 0,
    count: approved.length,
  };
}

describe("addReview and moderation", () => {
  it("needs a signed-in viewer; moderation needs reviews:moderate", async () => {
    const product = ACTIVE[10]?.id;
    const anonymous = await t.run(ADD, { input: { productId: product, rating: 5, title: "x", body: "" } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const customer = await t.run(
      MODERATE,
      { input: { reviewId: new ObjectId().toHexString(), decision: "APPROVE" } },
      await t.auth.bearer("c"),
    );
    expect(customer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const queue = await t.run(`{ reviews { totalCount } }`, {}, await t.auth.bearer("c"));
    expect(queue.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("validates the input", async () => {
    const draft = demoProducts().find((p) => p.status === "DRAFT")?.id;
    const cases: [Record<string, unknown>, string][] = [
      [{ productId: ACTIVE[0]?.id, rating: 0, title: "t", body: "" }, "INVALID_RATING"],
      [{ productId: ACTIVE[0]?.id, rating: 6, title: "t", body: "" }, "INVALID_RATING"],
      [{ productId: ACTIVE[0]?.id, rating: 3, title: "   ", body: "" }, "INVALID_TITLE"],
      [{ productId: ACTIVE[0]?.id, rating: 3, title: "t", body: "x".repeat(5001) }, "INVALID_BODY"],
      [{ productId: "nope", rating: 3, title: "t", body: "" }, "PRODUCT_NOT_FOUND"],
      [{ productId: draft, rating: 3, title: "t", body: "" }, "PRODUCT_NOT_FOUND"],
    ];
    for (const [input, code] of cases) {
      const result = await t.run(ADD, { input }, await t.auth.bearer("validator"));
      expect((result.data as AddResult).addReview).toMatchObject({ review: null, userErrors: [{ code }] });
    }
    expect(await t.db.reviews.countDocuments({ authorId: "validator" })).toBe(0);
  });

  it("keeps one review per customer, publishes only approved ones and counts only those", async () => {
    const product = ACTIVE[20]?.id ?? "";
    const before = await rating(product);
    const first = await add("alice", product, 1, "First");
    expect(first.review).toMatchObject({ status: "PENDING", verifiedPurchase: false });
    expect(await rating(product)).toEqual(before);

    const approved = await t.run(
      MODERATE,
      { input: { reviewId: first.review?.id, decision: "APPROVE" } },
      admin,
    );
    expect(approved.data).toMatchObject({
      moderateReview: { review: { status: "APPROVED" }, userErrors: [] },
    });
    const afterApprove = await rating(product);
    expect(afterApprove.rating).toEqual(await counted(product));
    expect(afterApprove.rating.count).toBe(before.rating.count + 1);
    expect(afterApprove.reviews.totalCount).toBe(afterApprove.rating.count);

    // Editing replaces the review and takes it out of the rating until approved again.
    const edited = await add("alice", product, 5, "Second");
    expect(edited.review?.id).toBe(first.review?.id);
    expect(edited.review?.status).toBe("PENDING");
    expect(await t.db.reviews.countDocuments({ productId: new ObjectId(product), authorId: "alice" })).toBe(
      1,
    );
    expect((await rating(product)).rating).toEqual(before.rating);

    const pending = await t.run(
      `query ($p: ID) { reviews(filter: { productId: $p }) { totalCount edges { node { id title } } } }`,
      { p: product },
      admin,
    );
    const edges = (pending.data as { reviews: { edges: { node: { id: string; title: string } }[] } }).reviews
      .edges;
    expect(edges.filter((e) => e.node.id === first.review?.id)).toEqual([
      { node: { id: first.review?.id, title: "Second" } },
    ]);

    await t.run(MODERATE, { input: { reviewId: first.review?.id, decision: "REJECT" } }, admin);
    expect((await rating(product)).rating).toEqual(before.rating);
    const missing = await t.run(
      MODERATE,
      { input: { reviewId: new ObjectId().toHexString(), decision: "APPROVE" } },
      admin,
    );
    expect(missing.data).toMatchObject({
      moderateReview: { review: null, userErrors: [{ code: "REVIEW_NOT_FOUND" }] },
    });
  });

  it("keeps the rating exactly consistent under 50 concurrent reviews and moderations", async () => {
    const product = ACTIVE[30]?.id ?? "";
    const authors = Array.from({ length: 50 }, (_, i) => `concurrent-${i}`);
    const added = await Promise.all(authors.map((author, i) => add(author, product, (i % 5) + 1)));
    expect(added.every((a) => a.userErrors.length === 0)).toBe(true);
    // Approve all at once, then concurrently edit some and reject others.
    await Promise.all(
      added.map((a) => t.run(MODERATE, { input: { reviewId: a.review?.id, decision: "APPROVE" } }, admin)),
    );
    expect((await rating(product)).rating).toEqual(await counted(product));
    await Promise.all([
      ...authors.slice(0, 10).map((author) => add(author, product, 2)),
      ...added
        .slice(10, 25)
        .map((a) => t.run(MODERATE, { input: { reviewId: a.review?.id, decision: "REJECT" } }, admin)),
      ...added
        .slice(40)
        .map((a) => t.run(MODERATE, { input: { reviewId: a.review?.id, decision: "APPROVE" } }, admin)),
    ]);
    const final = await rating(product);
    expect(final.rating).toEqual(await counted(product));
    const seeded = await t.db.reviews.countDocuments({
      productId: new ObjectId(product),
      status: "APPROVED",
      authorId: { $nin: authors },
    });
    expect(final.rating.count).toBe(seeded + 25);
  }, 180_000);
});

describe("verified purchases from OrderDelivered", () => {
  const deliver = async (customerId: string, productIds: string[], id = randomUUID()) => {
    const event: EventEnvelope<"OrderDelivered"> = {
      id,
      type: "OrderDelivered",
      aggregateId: randomUUID(),
      occurredAt: new Date().toISOString(),
      payload: { orderId: randomUUID(), customerId, productIds },
    };
    await queue.add(event.type, event, { jobId: event.id });
    return event;
  };
  const processed = (eventId: string) =>
    until(`catalog to process ${eventId}`, async () =>
      (await t.db.processedEvents.countDocuments({ _id: eventId })) === 1 ? true : undefined,
    );

  it("marks existing reviews verified, and new reviews after the delivery, idempotently", async () => {
    const [a, b, c] = [ACTIVE[40]?.id ?? "", ACTIVE[41]?.id ?? "", ACTIVE[42]?.id ?? ""];
    const existing = await add("buyer", a, 4);
    const other = await add("someone-else", a, 4);
    expect(existing.review?.verifiedPurchase).toBe(false);

    const event = await deliver("buyer", [a, b, "not-a-product-id"]);
    await processed(event.id);
    const stored = await t.db.reviews.findOne({ _id: new ObjectId(rawId(existing.review?.id)) });
    expect(stored?.verifiedPurchase).toBe(true);
    expect(
      (await t.db.reviews.findOne({ _id: new ObjectId(rawId(other.review?.id)) }))?.verifiedPurchase,
    ).toBe(false);
    expect((await add("buyer", b, 5)).review?.verifiedPurchase).toBe(true);
    expect((await add("buyer", c, 5)).review?.verifiedPurchase).toBe(false);

    // Redelivery of the same event (new job id, same event id) changes nothing.
    const purchases = await t.db.purchases.find({ customerId: "buyer" }).toArray();
    await queue.add("OrderDelivered", event, { jobId: `${event.id}-again` });
    const marker = await deliver("marker", [c]);
    await processed(marker.id);
    expect(await t.db.purchases.find({ customerId: "buyer" }).toArray()).toEqual(purchases);
    expect(purchases.map((p) => p.productId.toHexString()).sort()).toEqual([a, b].sort());
  });

  it("approves the buyer's clean reviews waiting in the queue, and only those, with the rating and cache", async () => {
    const [clean, flagged, legacy] = [ACTIVE[43]?.id ?? "", ACTIVE[44]?.id ?? "", ACTIVE[45]?.id ?? ""];
    const waiting = await add("buyer-2", clean, 5);
    expect(waiting.review).toMatchObject({ status: "PENDING", verifiedPurchase: false });
    const held = (
      await t.run(
        ADD,
        { input: { productId: flagged, rating: 5, title: "Deal", body: "Cheaper at cheapwatches.com" } },
        await t.auth.bearer("buyer-2"),
      )
    ).data as AddResult;
    expect(held.addReview.review?.status).toBe("PENDING");
    const { insertedId: old } = await t.db.reviews.insertOne({
      _id: new ObjectId(),
      productId: new ObjectId(legacy),
      authorId: "buyer-2",
      rating: 1,
      title: "Before screening",
      body: "Written before screening existed",
      status: "PENDING",
      verifiedPurchase: false,
      submittedAt: new Date(),
      moderatedAt: null,
      moderatedBy: null,
      helpfulCount: 0,
      screening: null,
    });
    // Read through the cache first, so a stale cached rating would show below.
    const before = await rating(clean);

    const event = await deliver("buyer-2", [clean, flagged, legacy]);
    await processed(event.id);
    const approved = await t.db.reviews.findOne({ _id: new ObjectId(rawId(waiting.review?.id)) });
    expect(approved).toMatchObject({
      status: "APPROVED",
      verifiedPurchase: true,
      moderatedBy: null,
      screening: { reasons: [], detail: "", autoApproved: true },
    });
    expect((await rating(clean)).rating.count).toBe(before.rating.count + 1);
    expect((await rating(clean)).rating).toEqual(await counted(clean));
    expect(await t.db.reviews.findOne({ _id: new ObjectId(rawId(held.addReview.review?.id)) })).toMatchObject(
      {
        status: "PENDING",
        verifiedPurchase: true,
        screening: { reasons: ["LINK"] },
      },
    );
    expect(await t.db.reviews.findOne({ _id: old })).toMatchObject({
      status: "PENDING",
      verifiedPurchase: true,
    });

    // Redelivered: nothing moves.
    await queue.add("OrderDelivered", event, { jobId: `${event.id}-again` });
    const marker = await deliver("marker-2", [clean]);
    await processed(marker.id);
    expect((await rating(clean)).rating).toEqual(await counted(clean));
    expect((await rating(clean)).rating.count).toBe(before.rating.count + 1);
  });

  it("leaves them to moderators when auto-approval is off", async () => {
    const product = ACTIVE[46]?.id ?? "";
    const waiting = await add("buyer-3", product, 4);
    await applyCatalogEvent(
      t.db,
      {
        id: randomUUID(),
        type: "OrderDelivered",
        aggregateId: randomUUID(),
        occurredAt: new Date().toISOString(),
        payload: { orderId: randomUUID(), customerId: "buyer-3", productIds: [product] },
      },
      createLogger("c", "silent"),
      { cache: t.cache, search: t.search, autoApproveVerified: false },
    );
    expect(await t.db.reviews.findOne({ _id: new ObjectId(rawId(waiting.review?.id)) })).toMatchObject({
      status: "PENDING",
      verifiedPurchase: true,
    });
  });
});

describe("Review and Category as nodes (_entities)", () => {
  const ENTITIES = `query ($reps: [_Any!]!) { _entities(representations: $reps) {
    ... on Review { id status } ... on Category { id slug } } }`;

  it("shows a pending review to its author and moderators, an approved one to everyone", async () => {
    const product = ACTIVE[47]?.id ?? "";
    const written = await add("node-writer", product, 4);
    const review = written.review;
    if (!review) throw new Error("no review");
    const reps = { reps: [{ __typename: "Review", id: review.id }] };
    const seenBy = async (authorization?: string) =>
      (await t.run(ENTITIES, reps, authorization)).data as { _entities: unknown[] };
    if (review.status === "PENDING") {
      expect(await seenBy()).toEqual({ _entities: [null] });
      expect(await seenBy(await t.auth.bearer("someone-else"))).toEqual({ _entities: [null] });
      expect(await seenBy(await t.auth.bearer("node-writer"))).toEqual({
        _entities: [{ id: review.id, status: "PENDING" }],
      });
      expect(await seenBy(admin)).toEqual({ _entities: [{ id: review.id, status: "PENDING" }] });
      await t.run(MODERATE, { input: { reviewId: review.id, decision: "APPROVE" } }, admin);
    }
    expect(await seenBy()).toEqual({ _entities: [{ id: review.id, status: "APPROVED" }] });
    await t.run(MODERATE, { input: { reviewId: review.id, decision: "REJECT" } }, admin);
    expect(await seenBy(await t.auth.bearer("someone-else"))).toEqual({ _entities: [null] });
  });

  it("resolves a category by its global id for anyone", async () => {
    const { categories } = (await t.run("{ categories { id slug } }")).data as {
      categories: { id: string; slug: string }[];
    };
    const category = categories[0];
    expect(category?.id).toMatch(/^gid:\/\/nexus\/Category\/[0-9a-f]{24}$/);
    expect((await t.run(ENTITIES, { reps: [{ __typename: "Category", id: category?.id }] })).data).toEqual({
      _entities: [category],
    });
  });
});
