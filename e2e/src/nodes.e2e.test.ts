/**
 * Relay global object identification through the gateway: `node(id:)` and `nodes(ids:)` resolve
 * any node type's global id in users (the `Node` entity interface) and fetch its fields from the
 * owner, which shows exactly what the type's own query field would: an order to its customer and
 * staff, a hidden product or review to staff, staff objects to staff; everyone else gets null.
 * Ids of another type, malformed ids and legacy raw ids each get their documented answer.
 */
import { randomUUID } from "node:crypto";
import { parseGlobalId, toGlobalId } from "@nexus/core";
import { graphql, graphqlOk } from "@nexus/tools/graphql-client";
import { type Stack, startStack } from "@nexus/tools/stack";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

let stack: Stack;
let admin: { authorization: string };
let products: { id: string; name: string }[] = [];

const ADDRESS = {
  name: "Node Buyer",
  line1: "1 Test Way",
  city: "Berlin",
  postalCode: "10115",
  countryCode: "DE",
};

const bearer = async (role: "CUSTOMER" | "ADMIN" = "CUSTOMER") => ({
  authorization: await stack.auth.bearer(randomUUID(), role),
});

async function placeOrder(who: { authorization: string }, productId: string): Promise<string> {
  await graphqlOk(
    stack.endpoint,
    "mutation ($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }",
    { input: { productId, quantity: 1 } },
    who,
  );
  const { checkout } = await graphqlOk<{ checkout: { order: { id: string } | null; userErrors: unknown[] } }>(
    stack.endpoint,
    "mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id } userErrors { code } } }",
    { input: { idempotencyKey: randomUUID(), shippingAddress: ADDRESS } },
    who,
  );
  expect(checkout.userErrors).toEqual([]);
  const id = checkout.order?.id ?? "";
  expect(parseGlobalId(id)?.type).toBe("Order");
  return id;
}

const NODE = `query ($id: ID!) { node(id: $id) {
  __typename id
  ... on Order { orderStatus: status }
  ... on Product { name productStatus: status }
  ... on Category { slug }
  ... on User { name }
  ... on ShippingZone { name }
} }`;

/** The GraphQL body of an answer, errors included. */
const ask = async <T>(
  query: string,
  variables: Record<string, unknown>,
  headers?: { authorization: string },
) => (await graphql<T>(stack.endpoint, query, variables, headers)).body;

const node = (id: string, headers?: { authorization: string }) =>
  ask<{ node: Record<string, unknown> | null }>(NODE, { id }, headers);

beforeAll(async () => {
  stack = await startStack({ mongoUrl: inject("mongoUrl") });
  admin = await bearer("ADMIN");
  const { products: page } = await graphqlOk<{
    products: { edges: { node: { id: string; name: string } }[] };
  }>(stack.endpoint, "{ products(first: 4) { edges { node { id name } } } }");
  products = page.edges.map((edge) => edge.node);
}, 120_000);
afterAll(() => stack?.stop());

describe("node(id:) through the gateway", () => {
  it("shows an order to its customer and staff, and null to another customer probing its global id", async () => {
    const owner = await bearer();
    const orderId = await placeOrder(owner, products[0]?.id ?? "");
    const own = await node(orderId, owner);
    expect(own.errors).toBeUndefined();
    expect(own.data?.node).toMatchObject({
      __typename: "Order",
      id: orderId,
      // The saga may have confirmed it by now.
      orderStatus: expect.stringMatching(/^(PENDING|CONFIRMED)$/),
    });
    expect((await node(orderId, admin)).data?.node).toMatchObject({ __typename: "Order", id: orderId });

    const prober = await node(orderId, await bearer());
    expect(prober.data?.node).toBeNull();
    // As the root field answers the same probe.
    const root = await ask<{ order: unknown }>(
      "query ($id: ID!) { order(id: $id) { status } }",
      { id: orderId },
      await bearer(),
    );
    expect(root.data?.order ?? null).toBeNull();
  });

  it("refetches a product and a category by the global ids listings return", async () => {
    const product = products[1];
    const answer = await node(product?.id ?? "");
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.node).toEqual({
      __typename: "Product",
      id: product?.id,
      name: product?.name,
      productStatus: "ACTIVE",
    });
    const { categories } = await graphqlOk<{ categories: { id: string; slug: string }[] }>(
      stack.endpoint,
      "{ categories { id slug } }",
    );
    const category = categories[0];
    expect(parseGlobalId(category?.id ?? "")?.type).toBe("Category");
    expect((await node(category?.id ?? "")).data?.node).toEqual({
      __typename: "Category",
      id: category?.id,
      slug: category?.slug,
    });
  });

  it("hides a product taken off sale from shoppers, not from staff, as product(id:) does", async () => {
    const product = products[2]?.id ?? "";
    await graphqlOk(
      stack.endpoint,
      "mutation ($id: ID!) { updateProduct(input: { id: $id, status: DRAFT }) { userErrors { code } } }",
      { id: product },
      admin,
    );
    expect((await node(product)).data?.node).toBeNull();
    expect((await node(product, await bearer())).data?.node).toBeNull();
    expect((await node(product, admin)).data?.node).toMatchObject({ id: product, productStatus: "DRAFT" });
  });

  it("shows an account to itself and to staff only", async () => {
    const { register } = await graphqlOk<{ register: { accessToken: string; user: { id: string } } }>(
      stack.endpoint,
      "mutation ($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }",
      {
        input: { email: `node-${randomUUID()}@example.com`, password: "correct horse battery", name: "Nod" },
      },
    );
    const self = { authorization: `Bearer ${register.accessToken}` };
    expect((await node(register.user.id, self)).data?.node).toEqual({
      __typename: "User",
      id: register.user.id,
      name: "Nod",
    });
    expect((await node(register.user.id, admin)).data?.node).toMatchObject({ id: register.user.id });
    expect((await node(register.user.id, await bearer())).data?.node).toBeNull();
    expect((await node(register.user.id)).data?.node).toBeNull();
  });

  it("shows staff objects to staff only", async () => {
    const { createShippingZone } = await graphqlOk<{ createShippingZone: { zone: { id: string } | null } }>(
      stack.endpoint,
      `mutation ($input: CreateShippingZoneInput!) { createShippingZone(input: $input) { zone { id } userErrors { code } } }`,
      { input: { name: "Nodeland", countries: ["IS"] } },
      admin,
    );
    const zone = createShippingZone.zone?.id ?? "";
    expect(parseGlobalId(zone)?.type).toBe("ShippingZone");
    expect((await node(zone, admin)).data?.node).toEqual({
      __typename: "ShippingZone",
      id: zone,
      name: "Nodeland",
    });
    expect((await node(zone, await bearer())).data?.node).toBeNull();
  });

  it("answers a malformed id with BAD_USER_INPUT, a raw id or an unknown type with null", async () => {
    const malformed = await node("gid://nexus/Order/");
    expect(malformed.data?.node ?? null).toBeNull();
    expect(malformed.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    const raw = await node(parseGlobalId(products[0]?.id ?? "")?.raw ?? "");
    expect(raw.errors).toBeUndefined();
    expect(raw.data?.node).toBeNull();
    expect((await node("gid://nexus/Invoice/1")).data?.node).toBeNull();
  });
});

describe("ids at every other argument", () => {
  it("refuses another type's global id as BAD_USER_INPUT, and still accepts a legacy raw id", async () => {
    const product = products[0]?.id ?? "";
    const wrongType = await ask<{ order: unknown }>(
      "query ($id: ID!) { order(id: $id) { status } }",
      { id: product },
      admin,
    );
    expect(wrongType.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    const raw = parseGlobalId(product)?.raw ?? "";
    const legacy = await graphqlOk<{ product: { id: string } }>(
      stack.endpoint,
      "query ($id: ID!) { product(id: $id) { id } }",
      { id: raw },
    );
    expect(legacy.product.id).toBe(toGlobalId("Product", raw));
    // Counted, so operators see who still sends raw ids.
    const metrics = await (await fetch(new URL("/metrics", stack.subgraphUrls.catalog))).text();
    const counted = metrics
      .split("\n")
      .find((line) => line.startsWith("nexus_legacy_ids_total{") && line.includes('type="Product"'));
    expect(counted).toContain('subgraph="catalog"');
    expect(Number(counted?.split(" ").at(-1))).toBeGreaterThanOrEqual(1);
  });
});

describe("nodes(ids:)", () => {
  it("answers in order, with null (and an error for a malformed id) in each position it cannot show", async () => {
    const owner = await bearer();
    const orderId = await placeOrder(owner, products[3]?.id ?? "");
    const product = products[1]?.id ?? "";
    const answer = await ask<{ nodes: ({ __typename: string; id: string } | null)[] }>(
      `query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Order { status } ... on Product { name } } }`,
      { ids: [product, orderId, "gid://nexus/Order/", orderId] },
      await bearer(),
    );
    expect(answer.data?.nodes).toEqual([
      { __typename: "Product", id: product, name: products[1]?.name },
      null,
      null,
      null,
    ]);
    // The client's result type leaves out `path`, which the gateway sends.
    expect(
      answer.errors?.map((error) => [(error as { path?: unknown }).path, error.extensions?.code]),
    ).toContainEqual([["nodes", 2], "BAD_USER_INPUT"]);
  });

  it("refuses more than 100 ids", async () => {
    const ids = Array.from({ length: 101 }, () => products[0]?.id ?? "");
    const answer = await ask<{ nodes: unknown }>("query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", { ids });
    expect(answer.errors?.map((error) => error.extensions?.code)).toContain("BAD_USER_INPUT");
  });
});
