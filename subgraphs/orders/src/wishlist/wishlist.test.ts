import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CatalogUnavailableError } from "../catalog/catalog.client.ts";
import type { Deps } from "../context.ts";
import { createTestOperations, LAPTOP, SHOES, setStatus, TEE, UNKNOWN, useTestEnv } from "../test-env.ts";
import { MAX_WISHLIST_ITEMS } from "./wishlist.service.ts";

const env = useTestEnv("orders_wishlist");
const { A, B, ADMIN } = env;
const { run, data } = createTestOperations(env);

const as = (id: string) => ({ as: { id } });
const admin = { as: { id: ADMIN, role: "ADMIN" as const } };

const ADD = `mutation ($input: AddToWishlistInput!) { addToWishlist(input: $input) {
  item { productId product { id } addedAt } userErrors { field code message } } }`;
const REMOVE = `mutation ($input: RemoveFromWishlistInput!) { removeFromWishlist(input: $input) {
  removed userErrors { field code message } } }`;
const WISHLIST = `query ($reps: [_Any!]!, $first: Int, $after: String) {
  _entities(representations: $reps) { ... on User { id wishlist(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { productId product { id } addedAt } } } } } }`;

interface AddPayload {
  item: { productId: string; product: { id: string } | null; addedAt: string } | null;
  userErrors: { field: string[] | null; code: string; message: string }[];
}
interface WishlistPage {
  totalCount: number;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  edges: { cursor: string; node: { productId: string; product: { id: string } | null; addedAt: string } }[];
}

async function add(productId: string, who = A): Promise<AddPayload> {
  return (await data<{ addToWishlist: AddPayload }>(ADD, { input: { productId } }, as(who))).addToWishlist;
}

async function wishlist(
  customerId: string,
  args: { first?: number; after?: string } = {},
  options: Parameters<typeof run>[2] = as(customerId),
): Promise<WishlistPage> {
  const result = await data<{ _entities: { wishlist: WishlistPage }[] }>(
    WISHLIST,
    { reps: [{ __typename: "User", id: customerId }], ...args },
    options,
  );
  const [user] = result._entities;
  if (!user) throw new Error("no user entity");
  return user.wishlist;
}

/** A product id that is not in the fake catalog, one per index. */
const productId = (i: number) => `65b${i.toString(16).padStart(21, "0")}`;

/** Items written straight to the table, `count` of them a minute apart, newest last. */
async function seed(customerId: string, count: number, start = Date.UTC(2026, 0, 1)): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => productId(i));
  await env.pg.db
    .insertInto("wishlist_items")
    .values(
      ids.map((id, i) => ({
        customer_id: customerId,
        product_id: id,
        added_at: new Date(start + i * 60_000),
      })),
    )
    .execute();
  return ids;
}

const rows = () =>
  env.pg.db
    .selectFrom("wishlist_items")
    .select(["customer_id", "product_id"])
    .orderBy("product_id")
    .execute();

describe("addToWishlist", () => {
  it("adds a product for sale, once however often it is added, keeping its first addedAt", async () => {
    const first = await add(TEE);
    expect(first).toEqual({
      item: { productId: TEE, product: { id: TEE }, addedAt: expect.any(String) },
      userErrors: [],
    });
    const again = await add(TEE.toUpperCase());
    expect(again).toEqual(first);
    expect(await rows()).toEqual([{ customer_id: A, product_id: TEE }]);
    // Asked the catalog whether it is for sale, once per request.
    expect(env.catalogRequests.map((r) => r.representations)).toEqual([
      [{ __typename: "Product", id: TEE }],
      [{ __typename: "Product", id: TEE }],
    ]);
  });

  it("refuses products not for sale, unknown and malformed ids alike with PRODUCT_NOT_FOUND", async () => {
    setStatus(env, SHOES, "ARCHIVED");
    setStatus(env, LAPTOP, "DRAFT");
    for (const id of [SHOES, LAPTOP, UNKNOWN, "nope", ""]) {
      expect(await add(id)).toEqual({
        item: null,
        userErrors: [
          {
            code: "PRODUCT_NOT_FOUND",
            field: ["input", "productId"],
            message: "There is no such product for sale.",
          },
        ],
      });
    }
    expect(await rows()).toEqual([]);
  });

  it("refuses the change when the catalog cannot say, writing nothing", async () => {
    const down: Deps = {
      ...env.deps,
      catalog: { findProductsByIds: () => Promise.reject(new CatalogUnavailableError("down")) },
    };
    const result = await run(ADD, { input: { productId: TEE } }, { ...as(A), deps: down });
    expect(result.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
      ["The catalog is unavailable; the wishlist was not changed.", "INTERNAL_SERVER_ERROR"],
    ]);
    expect(await rows()).toEqual([]);
  });

  it(`holds ${MAX_WISHLIST_ITEMS} products at most, also under concurrent adds`, async () => {
    await seed(A, MAX_WISHLIST_ITEMS - 3);
    // Five products for sale race for the three places left.
    const extra = Array.from({ length: 5 }, (_, i) => `65d${i.toString(16).padStart(21, "0")}`);
    for (const id of extra) {
      env.catalogProducts.set(id, {
        id,
        name: `Extra ${id}`,
        status: "ACTIVE",
        price: { amount: 100, currencyCode: "USD" },
        category: { id: "65c000000000000000000001" },
      });
    }
    const results = await Promise.all(extra.map((id) => add(id)));
    const full = results.filter((r) => r.userErrors.length > 0);
    expect(results.filter((r) => r.item !== null)).toHaveLength(3);
    expect(full).toHaveLength(2);
    for (const r of full) {
      expect(r.userErrors).toEqual([
        {
          code: "WISHLIST_FULL",
          field: ["input", "productId"],
          message: `A wishlist holds ${MAX_WISHLIST_ITEMS} products at most; remove one to add another.`,
        },
      ]);
    }
    expect((await wishlist(A)).totalCount).toBe(MAX_WISHLIST_ITEMS);
    // Adding what is already there is not adding: it answers the item even when full.
    const added = results.find((r) => r.item !== null)?.item;
    expect(await add(added?.productId ?? "")).toEqual({ item: added, userErrors: [] });
    // B's wishlist is B's own: A's being full changes nothing for B.
    expect((await add(TEE, B)).userErrors).toEqual([]);
  });
});

describe("removeFromWishlist", () => {
  it("removes the product; removing one not there is harmless", async () => {
    await add(TEE);
    await add(SHOES);
    await add(TEE, B);
    const remove = async (productId: string, who = A) =>
      (await data<{ removeFromWishlist: unknown }>(REMOVE, { input: { productId } }, as(who)))
        .removeFromWishlist;
    expect(await remove(TEE.toUpperCase())).toEqual({ removed: true, userErrors: [] });
    expect(await remove(TEE)).toEqual({ removed: false, userErrors: [] });
    expect(await remove(UNKNOWN)).toEqual({ removed: false, userErrors: [] });
    // Another customer's item is not the viewer's to remove.
    expect(await remove(SHOES, B)).toEqual({ removed: false, userErrors: [] });
    expect(await rows()).toEqual(
      [
        { customer_id: B, product_id: TEE },
        { customer_id: A, product_id: SHOES },
      ].sort((x, y) => x.product_id.localeCompare(y.product_id)),
    );
    expect(await remove("not-a-product")).toEqual({
      removed: false,
      userErrors: [
        {
          code: "INVALID_PRODUCT_ID",
          field: ["input", "productId"],
          message: "A product id is 24 hexadecimal characters.",
        },
      ],
    });
  });

  it("requires a signed-in customer for both mutations", async () => {
    for (const [query, input] of [
      [ADD, { productId: TEE }],
      [REMOVE, { productId: TEE }],
    ] as const) {
      const result = await run(query, { input });
      expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
    expect(await rows()).toEqual([]);
  });
});

describe("User.wishlist", () => {
  it("pages newest first with cursors, counts them all, and reads each page in one query", async () => {
    const ids = await seed(A, 25);
    await seed(B, 3);
    const newestFirst = [...ids].reverse();
    env.pg.queries.length = 0;
    const first = await wishlist(A, { first: 10 });
    expect(env.pg.queries).toHaveLength(2);
    expect(first.totalCount).toBe(25);
    expect(first.edges.map((e) => e.node.productId)).toEqual(newestFirst.slice(0, 10));
    expect(first.edges[0]?.node).toEqual({
      productId: ids[24],
      product: { id: ids[24] },
      addedAt: new Date(Date.UTC(2026, 0, 1) + 24 * 60_000).toISOString(),
    });
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await wishlist(A, { first: 10, after: first.pageInfo.endCursor ?? "" });
    expect(second.edges.map((e) => e.node.productId)).toEqual(newestFirst.slice(10, 20));
    const third = await wishlist(A, { first: 10, after: second.pageInfo.endCursor ?? "" });
    expect(third.edges.map((e) => e.node.productId)).toEqual(newestFirst.slice(20));
    expect(third.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    // Default page size.
    expect((await wishlist(A)).edges).toHaveLength(20);
  });

  it("keeps items added in the same millisecond apart by product id", async () => {
    const at = Date.UTC(2026, 1, 1);
    await env.pg.db
      .insertInto("wishlist_items")
      .values([TEE, SHOES, LAPTOP].map((id) => ({ customer_id: A, product_id: id, added_at: new Date(at) })))
      .execute();
    const one = await wishlist(A, { first: 1 });
    const two = await wishlist(A, { first: 1, after: one.pageInfo.endCursor ?? "" });
    const three = await wishlist(A, { first: 5, after: two.pageInfo.endCursor ?? "" });
    expect([one, two, three].flatMap((p) => p.edges.map((e) => e.node.productId))).toEqual(
      [TEE, SHOES, LAPTOP].sort().reverse(),
    );
  });

  it("refuses page sizes and cursors it did not hand out", async () => {
    await seed(A, 2);
    for (const args of [
      { first: 0 },
      { first: 101 },
      { after: "garbage" },
      { after: Buffer.from('["x","y"]').toString("base64url") },
    ]) {
      const result = await run(WISHLIST, { reps: [{ __typename: "User", id: A }], ...args }, as(A));
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
  });

  it("is the owner's: another customer is FORBIDDEN, staff may read it, an empty one is empty", async () => {
    await seed(A, 2);
    const stranger = await run(WISHLIST, { reps: [{ __typename: "User", id: A }] }, as(B));
    expect(stranger.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    const anonymous = await run(WISHLIST, { reps: [{ __typename: "User", id: A }] });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await wishlist(A, {}, admin)).totalCount).toBe(2);
    expect(await wishlist(B)).toEqual({
      totalCount: 0,
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
      edges: [],
    });
  });

  it("serves several users' wishlists through _entities in one page query and one count query", async () => {
    await seed(A, 3);
    await seed(B, 2);
    const stranger = randomUUID();
    env.pg.queries.length = 0;
    const result = await data<{ _entities: { id: string; wishlist: WishlistPage }[] }>(
      WISHLIST,
      {
        reps: [A, B, stranger, "not-a-uuid"].map((id) => ({ __typename: "User", id })),
        first: 2,
      },
      admin,
    );
    expect(result._entities.map((u) => [u.id, u.wishlist.totalCount, u.wishlist.edges.length])).toEqual([
      [A, 3, 2],
      [B, 2, 2],
      [stranger, 0, 0],
      ["not-a-uuid", 0, 0],
    ]);
    expect(env.pg.queries).toHaveLength(2);
  });
});
