import type { EventPayloads } from "@nexus/events";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, envelope, type TestEnv } from "../test-env.ts";

let env: TestEnv;
let analyst: string;

beforeAll(async () => {
  env = await createTestEnv("insights_carts");
  analyst = await env.auth.bearer(uuid(9999), "ADMIN");
});

afterAll(async () => {
  await env?.close();
});

beforeEach(() => env.reset());

const productId = (n: number) => n.toString(16).padStart(24, "0");
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600 * 1000);

const cart = (
  customer: number,
  hours: number,
  lines: EventPayloads["CartUpdated"]["lines"],
  currencyCode: string | null = "USD",
) => envelope("CartUpdated", { customerId: uuid(customer), currencyCode, lines }, hoursAgo(hours));
const order = (customer: number, hours: number) =>
  envelope(
    "OrderPlaced",
    {
      orderId: uuid(1000 + customer),
      customerId: uuid(customer),
      currencyCode: "USD",
      lines: [{ productId: productId(1), quantity: 1, unitPrice: 100 }],
    },
    hoursAgo(hours),
  );

const CARTS = `query ($olderThanHours: Int!, $first: Int, $after: String, $currencyCode: String) {
  abandonedCarts(olderThanHours: $olderThanHours, first: $first, after: $after, currencyCode: $currencyCode) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { node { customer { id } value { amount currencyCode } units updatedAt
      lines { product { id } quantity unitPrice { amount currencyCode } } } } } }`;

const run = (variables: Record<string, unknown>, authorization: string | null = analyst) =>
  env.run(CARTS, variables, authorization ?? undefined);

type Carts = {
  abandonedCarts: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string };
    edges: { node: { customer: { id: string } } }[];
  };
};
const customers = (data: unknown) =>
  (data as Carts).abandonedCarts.edges.map((edge) => edge.node.customer.id);

/**
 * 1: left 50 hours ago with a priced and an unpriced line; 2: left 30 hours ago; 3: changed
 * 10 hours ago; 4: left 40 hours ago but ordered 20 hours ago; 5: emptied; 6: in euros;
 * 7: left 35 hours ago, after an order 70 hours ago.
 */
async function carts() {
  const mug = { productId: productId(1), quantity: 2, unitPrice: 1500 };
  await env.deliver(
    cart(1, 50, [mug, { productId: productId(2), quantity: 1, unitPrice: null }]),
    cart(2, 30, [{ productId: productId(3), quantity: 1, unitPrice: 500 }]),
    cart(3, 10, [mug]),
    cart(4, 40, [mug]),
    order(4, 20),
    cart(5, 70, [mug]),
    cart(5, 60, [], null),
    cart(6, 45, [{ productId: productId(4), quantity: 3, unitPrice: 200 }], "EUR"),
    order(7, 70),
    cart(7, 35, [mug]),
  );
}

describe("abandonedCarts", () => {
  it("lists carts left long enough whose customer has not ordered since, newest first, in one query", async () => {
    await carts();
    const result = await run({ olderThanHours: 24 });
    expect(result.errors).toBeUndefined();
    expect(customers(result.data)).toEqual([uuid(2), uuid(7), uuid(1)]);
    expect((result.data as Carts).abandonedCarts.totalCount).toBe(3);
    expect(
      (result.data as { abandonedCarts: { edges: { node: unknown }[] } }).abandonedCarts.edges[2]?.node,
    ).toEqual({
      customer: { id: uuid(1) },
      value: { amount: 3000, currencyCode: "USD" },
      units: 3,
      updatedAt: expect.any(String),
      lines: [
        { product: { id: productId(1) }, quantity: 2, unitPrice: { amount: 1500, currencyCode: "USD" } },
        { product: { id: productId(2) }, quantity: 1, unitPrice: null },
      ],
    });
    expect(env.pg.queries).toHaveLength(1);
  });

  it("counts the hours back from now", async () => {
    await carts();
    expect(customers((await run({ olderThanHours: 8 })).data)).toEqual([uuid(3), uuid(2), uuid(7), uuid(1)]);
    expect(customers((await run({ olderThanHours: 31 })).data)).toEqual([uuid(7), uuid(1)]);
  });

  it("keeps currencies apart", async () => {
    await carts();
    const result = await run({ olderThanHours: 24, currencyCode: "EUR" });
    expect(result.data).toMatchObject({
      abandonedCarts: {
        totalCount: 1,
        edges: [{ node: { customer: { id: uuid(6) }, value: { amount: 600, currencyCode: "EUR" } } }],
      },
    });
  });

  it("pages by the time of the last change", async () => {
    await carts();
    const first = (await run({ olderThanHours: 24, first: 2 })).data as Carts;
    expect(customers(first)).toEqual([uuid(2), uuid(7)]);
    expect(first.abandonedCarts.pageInfo.hasNextPage).toBe(true);
    const second = await run({
      olderThanHours: 24,
      first: 2,
      after: first.abandonedCarts.pageInfo.endCursor,
    });
    expect(customers(second.data)).toEqual([uuid(1)]);
    expect(second.data).toMatchObject({
      abandonedCarts: { totalCount: 3, pageInfo: { hasNextPage: false, hasPreviousPage: true } },
    });
  });

  it.each([
    [{ olderThanHours: 0 }, "olderThanHours must be between 1 and 8760.", "olderThanHours"],
    [{ olderThanHours: 8761 }, "olderThanHours must be between 1 and 8760.", "olderThanHours"],
    [{ olderThanHours: 24, first: 101 }, "first must be between 1 and 100.", "first"],
    [{ olderThanHours: 24, after: "bm9wZQ" }, "after is not a cursor returned by this field.", "after"],
    [
      { olderThanHours: 24, currencyCode: "EURO" },
      "currencyCode must be an ISO 4217 code of three capital letters, e.g. USD.",
      "currencyCode",
    ],
  ])("refuses %j with BAD_USER_INPUT and no query", async (variables, message, field) => {
    const result = await run(variables);
    expect(result.data).toEqual({ abandonedCarts: null });
    expect(result.errors).toEqual([
      expect.objectContaining({ message, extensions: { code: "BAD_USER_INPUT", field } }),
    ]);
    expect(env.pg.queries).toHaveLength(0);
  });

  it("is for holders of insights:read only", async () => {
    expect(await run({ olderThanHours: 24 }, null)).toMatchObject({
      data: { abandonedCarts: null },
      errors: [{ extensions: { code: "UNAUTHENTICATED" } }],
    });
    expect(await run({ olderThanHours: 24 }, await env.auth.bearer(uuid(1), "CUSTOMER"))).toMatchObject({
      data: { abandonedCarts: null },
      errors: [{ extensions: { code: "FORBIDDEN" } }],
    });
  });
});
