/**
 * The gateway's response cache through the whole stack: what every shopper reads is served from
 * the cache (`age` on a hit, `Cache-Control: public`), and an admin's price change, a stock
 * change or a category rename is visible within one second, through every cached answer that
 * held it; a PRIVATE answer is never served to another viewer.
 */
import { randomUUID } from "node:crypto";
import { graphql, graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let stack: Stack;
let admin: { authorization: string };
let productIds: string[] = [];

/** The promise: a change shows in every cached answer within this long. */
const FRESH_WITHIN_MS = 1000;

beforeAll(async () => {
  stack = await startStack({ mongoUrl: inject("mongoUrl") });
  admin = { authorization: await stack.auth.bearer(randomUUID(), "ADMIN") };
  const { products } = await graphqlOk<{ products: { edges: { node: { id: string } }[] } }>(
    stack.endpoint,
    "{ products(first: 10, sort: NEWEST) { edges { node { id } } } }",
  );
  productIds = products.edges.map((edge) => edge.node.id);
  expect(productIds.length).toBeGreaterThanOrEqual(4);
});
afterAll(() => stack?.stop());

const product = (n: number): string => {
  const id = productIds[n];
  if (!id) throw new Error(`no demo product ${n}`);
  return id;
};

const PRODUCT_PAGE = `query ProductPage($id: ID!) {
  product(id: $id) { id name price { amount currencyCode } category { id name } inventory { available } }
}`;
const LISTING = `query Listing {
  products(first: 10, sort: NEWEST) { totalCount edges { node { id name price { amount } } } }
}`;

interface Page {
  product: {
    id: string;
    name: string;
    price: { amount: number; currencyCode: string };
    category: { id: string; name: string };
    inventory: { available: number };
  };
}
interface Listing {
  products: { edges: { node: { id: string; price: { amount: number } } }[] };
}

/** One request; `hit` when the gateway answered from its cache (it then sends `age`). */
async function read<T>(
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const response = await graphql<T>(stack.endpoint, query, variables, headers);
  expect(response.body.errors).toBeUndefined();
  return {
    data: response.body.data as T,
    hit: response.headers.get("age") !== null,
    cacheControl: response.headers.get("cache-control"),
  };
}

/** Reads until the answer comes from the cache: the store after a miss is not awaited by the response. */
async function cached<T>(
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const result = await read<T>(query, variables, headers);
    if (result.hit) return result;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the answer was never served from the cache");
}

/** Polls from `since` until `check` holds; returns how long it took, failing past the promise. */
async function freshWithin(since: number, check: () => Promise<boolean>): Promise<number> {
  for (;;) {
    if (await check()) return performance.now() - since;
    if (performance.now() - since > FRESH_WITHIN_MS)
      throw new Error(`still stale after ${FRESH_WITHIN_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("response cache", () => {
  it("serves a product page and a listing from the cache, public for a CDN", async () => {
    const first = await read<Page>(PRODUCT_PAGE, { id: product(0) });
    expect(first.cacheControl).toBe("public, max-age=1");
    const again = await cached<Page>(PRODUCT_PAGE, { id: product(0) });
    expect(again.data).toEqual(first.data);
    // A signed-in customer shares the public entry: the operation is public as a whole.
    const customer = { authorization: await stack.auth.bearer(randomUUID()) };
    expect((await read<Page>(PRODUCT_PAGE, { id: product(0) }, customer)).hit).toBe(true);
    const listing = await cached<Listing>(LISTING);
    expect(listing.data.products.edges.length).toBeGreaterThan(0);
  });

  it("shows an admin's price change on the cached product page and listing within a second", async ({
    annotate,
  }) => {
    const id = product(1);
    const before = await cached<Page>(PRODUCT_PAGE, { id });
    await cached<Listing>(LISTING);
    const amount = before.data.product.price.amount + 1234;
    const started = performance.now();
    const { updateProduct } = await graphqlOk<{ updateProduct: { userErrors: unknown[] } }>(
      stack.endpoint,
      `mutation ($id: ID!, $amount: Int!, $currency: String!) {
        updateProduct(input: { id: $id, price: { amount: $amount, currencyCode: $currency } }) { userErrors { code } } }`,
      { id, amount, currency: before.data.product.price.currencyCode },
      admin,
    );
    expect(updateProduct.userErrors).toEqual([]);
    const pageMs = await freshWithin(started, async () => {
      const page = await read<Page>(PRODUCT_PAGE, { id });
      return page.data.product.price.amount === amount;
    });
    const listingMs = await freshWithin(started, async () => {
      const listing = await read<Listing>(LISTING);
      return listing.data.products.edges.find((edge) => edge.node.id === id)?.node.price.amount === amount;
    });
    expect(pageMs).toBeLessThan(FRESH_WITHIN_MS);
    expect(listingMs).toBeLessThan(FRESH_WITHIN_MS);
    await annotate(
      `new price on the product page ${Math.round(pageMs)} ms and in the listing ${Math.round(listingMs)} ms after the mutation was sent`,
    );
    // And the fresh answer is cached again.
    expect((await cached<Page>(PRODUCT_PAGE, { id })).data.product.price.amount).toBe(amount);
  });

  it("shows a stock change in a cached inventory { available } within a second", async () => {
    const id = product(2);
    const before = await cached<Page>(PRODUCT_PAGE, { id });
    const onHand = before.data.product.inventory.available + 7;
    const started = performance.now();
    const { setStock } = await graphqlOk<{ setStock: { userErrors: unknown[] } }>(
      stack.endpoint,
      `mutation ($id: ID!, $onHand: Int!) {
        setStock(input: { productId: $id, onHand: $onHand, reason: "recount" }) { userErrors { code } } }`,
      { id, onHand },
      admin,
    );
    expect(setStock.userErrors).toEqual([]);
    await freshWithin(started, async () => {
      const page = await read<Page>(PRODUCT_PAGE, { id });
      return page.data.product.inventory.available === onHand;
    });
  });

  it("shows a renamed category on a cached product page within a second", async () => {
    const id = product(3);
    const before = await cached<Page>(PRODUCT_PAGE, { id });
    const name = `Renamed ${randomUUID().slice(0, 8)}`;
    const started = performance.now();
    const { updateCategory } = await graphqlOk<{ updateCategory: { userErrors: unknown[] } }>(
      stack.endpoint,
      "mutation ($id: ID!, $name: String!) { updateCategory(input: { id: $id, name: $name }) { userErrors { code } } }",
      { id: before.data.product.category.id, name },
      admin,
    );
    expect(updateCategory.userErrors).toEqual([]);
    await freshWithin(started, async () => {
      const page = await read<Page>(PRODUCT_PAGE, { id });
      return page.data.product.category.name === name;
    });
  });

  it("never serves a viewer's PRIVATE answer to anyone else", async () => {
    const id = product(0);
    const query = `query Mine($id: ID!) { product(id: $id) { id name viewerReview { id title } } }`;
    const alice = { authorization: await stack.auth.bearer(randomUUID()) };
    const bob = { authorization: await stack.auth.bearer(randomUUID()) };
    const { addReview } = await graphqlOk<{ addReview: { userErrors: unknown[] } }>(
      stack.endpoint,
      `mutation ($id: ID!) { addReview(input: { productId: $id, rating: 5, title: "Alice's own", body: "Mine." }) {
        userErrors { code } } }`,
      { id },
      alice,
    );
    expect(addReview.userErrors).toEqual([]);
    type Mine = { product: { viewerReview: { title: string } | null } };
    const hers = await read<Mine>(query, { id }, alice);
    expect(hers.cacheControl).toBe("private, max-age=1");
    expect(hers.data.product.viewerReview?.title).toBe("Alice's own");
    // Cached for her alone.
    expect((await cached<Mine>(query, { id }, alice)).data.product.viewerReview?.title).toBe("Alice's own");
    const his = await read<Mine>(query, { id }, bob);
    expect(his.hit).toBe(false);
    expect(his.data.product.viewerReview).toBeNull();
    // Without a viewer a PRIVATE answer is not stored at all.
    const anonymous = await read<Mine>(query, { id });
    expect(anonymous.data.product.viewerReview).toBeNull();
    expect((await read<Mine>(query, { id })).hit).toBe(false);
  });

  it("keeps staff answers to the staff member: an admin sees a DRAFT product, a shopper does not", async () => {
    const id = product(3);
    const { updateProduct } = await graphqlOk<{ updateProduct: { userErrors: unknown[] } }>(
      stack.endpoint,
      "mutation ($id: ID!) { updateProduct(input: { id: $id, status: DRAFT }) { userErrors { code } } }",
      { id },
      admin,
    );
    expect(updateProduct.userErrors).toEqual([]);
    const query = "query Draft($id: ID!) { product(id: $id) { id name status } }";
    const staff = await cached<{ product: { status: string } | null }>(query, { id }, admin);
    expect(staff.data.product?.status).toBe("DRAFT");
    expect(staff.cacheControl).toBe("private, max-age=1");
    const shopper = await read<{ product: unknown }>(query, { id });
    expect(shopper.hit).toBe(false);
    expect(shopper.data.product).toBeNull();
    // The shopper's null is cached; putting the product on sale again shows it within a second.
    expect((await cached<{ product: unknown }>(query, { id })).data.product).toBeNull();
    const started = performance.now();
    await graphqlOk(
      stack.endpoint,
      "mutation ($id: ID!) { updateProduct(input: { id: $id, status: ACTIVE }) { userErrors { code } } }",
      { id },
      admin,
    );
    await freshWithin(
      started,
      async () => (await read<{ product: unknown }>(query, { id })).data.product !== null,
    );
  });

  it("does not cache what has no hint: the viewer's own account, mutations", async () => {
    const customer = { authorization: await stack.auth.bearer(randomUUID()) };
    const response = await graphql<unknown>(stack.endpoint, "{ me { id } }", {}, customer);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const again = await graphql<unknown>(stack.endpoint, "{ me { id } }", {}, customer);
    expect(again.headers.get("age")).toBeNull();
  });
});
