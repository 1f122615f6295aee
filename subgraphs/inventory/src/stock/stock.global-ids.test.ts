import { globalId } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";

/** What clients get from inventory: global product ids out, either form in. */
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv("inventory_global_ids");
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => env.reset());

const P1 = "000000000000000000000001";

describe("global ids at inventory's edge", () => {
  it("takes a global product id, answers with it, and resolves references carrying one", async () => {
    const admin = await env.auth.bearer("00000000-0000-4000-8000-00000000a0a0", "ADMIN");
    const product = globalId("Product", P1);
    const set = await env.runGlobal(
      `mutation ($input: SetStockInput!) { setStock(input: $input) { product { id inventory { onHand } } userErrors { code } } }`,
      { input: { productId: product, onHand: 4, reason: "count" } },
      admin,
    );
    expect(set.data).toEqual({
      setStock: { product: { id: product, inventory: { onHand: 4 } }, userErrors: [] },
    });

    const entities = await env.runGlobal(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id inventory { available } } } }`,
      {
        reps: [
          { __typename: "Product", id: product },
          { __typename: "Product", id: P1 },
        ],
      },
    );
    expect(entities.data).toEqual({
      _entities: [
        { id: product, inventory: { available: 4 } },
        { id: product, inventory: { available: 4 } },
      ],
    });

    const wrongType = await env.runGlobal(
      `query ($id: ID!) { stockMovements(productId: $id, first: 1) { totalCount } }`,
      { id: globalId("Order", "7f0c6a52-3b7e-4c1a-9f3e-2d8b1c0a4e55") },
      admin,
    );
    expect(wrongType.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });
});
