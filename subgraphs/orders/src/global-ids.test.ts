/**
 * Orders' answers as clients get them: every node id and every id marked `@globalId` in the SDL
 * is `gid://nexus/<Type>/<raw>`, inputs take either form, and `_entities` resolves the staff node
 * types for staff only. The other tests read answers in raw ids (`withRawIds`); this one does not.
 */
import { globalId } from "@nexus/testing";
import { describe, expect, it } from "vitest";
import { ADDRESS, CLOTHING, createTestOperations, type RunOptions, TEE, useTestEnv } from "./test-env.ts";

const env = useTestEnv("orders");
const { A, B, ADMIN } = env;
const { run } = createTestOperations(env);

const customer = (id: string) => ({ as: { id }, globalIds: true });
const staff = { as: { id: ADMIN, role: "ADMIN" as const }, globalIds: true };

async function ok<T>(query: string, variables: Record<string, unknown>, options: RunOptions): Promise<T> {
  const result = await run(query, variables, options);
  expect(result.errors).toBeUndefined();
  return result.data as T;
}

const ENTITIES = `query ($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Order { id status } ... on TaxRate { id categoryId } ... on ShippingZone { id name }
  ... on Discount { id productIds } } }`;

describe("global ids at orders' edge", () => {
  it("answers a cart and an order with global ids, and takes them back", async () => {
    const added = await ok<{
      addToCart: { cart: { lines: { productId: string; product: { id: string } }[] } };
    }>(
      `mutation ($input: AddToCartInput!) { addToCart(input: $input) { cart { lines { productId product { id } } } } }`,
      { input: { productId: globalId("Product", TEE), quantity: 1 } },
      customer(A),
    );
    const product = globalId("Product", TEE);
    expect(added.addToCart.cart.lines).toEqual([{ productId: product, product: { id: product } }]);

    const { checkout } = await ok<{ checkout: { order: { id: string; lines: { productId: string }[] } } }>(
      `mutation ($input: CheckoutInput!) { checkout(input: $input) { order { id lines { productId } } } }`,
      { input: { idempotencyKey: "gid-1", shippingAddress: ADDRESS } },
      customer(A),
    );
    expect(checkout.order.id).toMatch(/^gid:\/\/nexus\/Order\/[0-9a-f-]{36}$/);
    expect(checkout.order.lines).toEqual([{ productId: product }]);

    const order = `query ($id: ID!) { order(id: $id) { id } }`;
    expect(await ok(order, { id: checkout.order.id }, customer(A))).toEqual({
      order: { id: checkout.order.id },
    });
    const raw = checkout.order.id.split("/").at(-1);
    // A legacy raw id still works until raw ids are retired.
    expect(await ok(order, { id: raw }, customer(A))).toEqual({ order: { id: checkout.order.id } });
    const wrongType = await run(order, { id: product }, customer(A));
    expect(wrongType.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);

    const reps = { reps: [{ __typename: "Order", id: checkout.order.id }] };
    expect(await ok(ENTITIES, reps, customer(A))).toEqual({
      _entities: [{ id: checkout.order.id, status: "PENDING" }],
    });
    expect(await ok(ENTITIES, reps, customer(B))).toEqual({ _entities: [null] });
  });

  it("encodes staff objects and their references, and resolves them through _entities for staff only", async () => {
    const { setTaxRate } = await ok<{ setTaxRate: { taxRate: { id: string; categoryId: string } } }>(
      `mutation ($input: SetTaxRateInput!) { setTaxRate(input: $input) { taxRate { id categoryId } } }`,
      {
        input: { countryCode: "DE", categoryId: globalId("Category", CLOTHING), name: "VAT", ratePercent: 7 },
      },
      staff,
    );
    expect(setTaxRate.taxRate.id).toMatch(/^gid:\/\/nexus\/TaxRate\//);
    expect(setTaxRate.taxRate.categoryId).toBe(globalId("Category", CLOTHING));

    const { createShippingZone } = await ok<{ createShippingZone: { zone: { id: string } } }>(
      `mutation ($input: CreateShippingZoneInput!) { createShippingZone(input: $input) { zone { id } } }`,
      { input: { name: "Gid zone", countries: ["FR"] } },
      staff,
    );
    expect(createShippingZone.zone.id).toMatch(/^gid:\/\/nexus\/ShippingZone\//);

    const { createDiscount } = await ok<{
      createDiscount: { discount: { id: string; productIds: string[] } };
    }>(
      `mutation ($input: CreateDiscountInput!) { createDiscount(input: $input) { discount { id productIds } } }`,
      {
        input: {
          title: "Gid",
          kind: "FREE_SHIPPING",
          scope: "PRODUCTS",
          productIds: [globalId("Product", TEE)],
        },
      },
      staff,
    );
    expect(createDiscount.discount.productIds).toEqual([globalId("Product", TEE)]);

    const reps = {
      reps: [
        { __typename: "TaxRate", id: setTaxRate.taxRate.id },
        { __typename: "ShippingZone", id: createShippingZone.zone.id },
        { __typename: "Discount", id: createDiscount.discount.id },
      ],
    };
    expect(await ok(ENTITIES, reps, staff)).toEqual({
      _entities: [
        setTaxRate.taxRate,
        { id: createShippingZone.zone.id, name: "Gid zone" },
        createDiscount.discount,
      ],
    });
    expect(await ok(ENTITIES, reps, customer(A))).toEqual({ _entities: [null, null, null] });
  });
});
