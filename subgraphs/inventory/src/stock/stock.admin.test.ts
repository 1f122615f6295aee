import type { Role } from "@nexus/core";
import type { TestPostgres } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { findLedgerMismatches, insertInitialStock } from "./stock.repository.ts";
import { reserveOrder } from "./stock.service.ts";

/** setStock, adjustStock, lowStockProducts and the stock internals, through the subgraph's server. */

let env: TestEnv;
let pg: TestPostgres<Database>;
const ADMIN_ID = "00000000-0000-4000-8000-00000000a0a0";
beforeAll(async () => {
  env = await createTestEnv("inventory_admin");
  pg = env.pg;
});

afterAll(async () => {
  await env?.close();
});

beforeEach(() => env.reset());

const productId = (n: number) => n.toString(16).padStart(24, "0");
const P1 = productId(1);

async function run(query: string, variables: Record<string, unknown> = {}, role: Role | null = "ADMIN") {
  const authorization = role === null ? undefined : await env.auth.bearer(ADMIN_ID, role);
  return env.run(query, variables, authorization);
}

const SET_STOCK = `mutation ($input: SetStockInput!) {
  setStock(input: $input) {
    product { id inventory { onHand reserved available inStock lowStock lowStockThreshold } }
    userErrors { field message code }
  }
}`;

const ADJUST_STOCK = `mutation ($input: AdjustStockInput!) {
  adjustStock(input: $input) {
    product { id inventory { onHand reserved available } }
    userErrors { field message code }
  }
}`;

const LOW_STOCK = `query ($threshold: Int, $first: Int, $after: String) {
  lowStockProducts(threshold: $threshold, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id inventory { available lowStock onHand } } }
  }
}`;

async function reserve(orderNumber: number, quantity: number) {
  const orderId = `00000000-0000-4000-8000-${orderNumber.toString(16).padStart(12, "0")}`;
  await pg.db.transaction().execute((trx) =>
    reserveOrder(trx, { orderId, lines: [{ productId: P1, quantity, unitPrice: 100 }] }, 900, {
      lowStockThreshold: 5,
    }),
  );
}

async function ledger() {
  return pg.db
    .selectFrom("stock_movements")
    .select(["product_id", "on_hand_delta", "reserved_delta", "reason", "note", "actor_id"])
    .orderBy("id")
    .execute();
}

describe("setStock", () => {
  it("creates and sets a product's stock, with its own threshold, and records SET movements", async () => {
    const first = await run(SET_STOCK, {
      input: { productId: P1, onHand: 12, lowStockThreshold: 3, reason: " cycle count " },
    });
    expect(first.errors).toBeUndefined();
    expect(first.data?.setStock).toEqual({
      product: {
        id: P1,
        inventory: {
          onHand: 12,
          reserved: 0,
          available: 12,
          inStock: true,
          lowStock: false,
          lowStockThreshold: 3,
        },
      },
      userErrors: [],
    });
    await reserve(1, 4);
    const second = await run(SET_STOCK, { input: { productId: P1, onHand: 7, reason: "damaged pallet" } });
    expect(second.data?.setStock).toEqual({
      product: {
        id: P1,
        inventory: {
          onHand: 7,
          reserved: 4,
          available: 3,
          inStock: true,
          lowStock: true,
          lowStockThreshold: 3,
        },
      },
      userErrors: [],
    });
    expect(await ledger()).toEqual([
      {
        product_id: P1,
        on_hand_delta: 12,
        reserved_delta: 0,
        reason: "SET",
        note: "cycle count",
        actor_id: ADMIN_ID,
      },
      {
        product_id: P1,
        on_hand_delta: 0,
        reserved_delta: 4,
        reason: "RESERVATION",
        note: null,
        actor_id: null,
      },
      {
        product_id: P1,
        on_hand_delta: -5,
        reserved_delta: 0,
        reason: "SET",
        note: "damaged pallet",
        actor_id: ADMIN_ID,
      },
    ]);
    expect(await findLedgerMismatches(pg.db)).toEqual([]);
  });

  it("refuses on hand below the units reserved for orders (NEGATIVE_STOCK) and changes nothing", async () => {
    await run(SET_STOCK, { input: { productId: P1, onHand: 5, reason: "count" } });
    await reserve(1, 4);
    const result = await run(SET_STOCK, { input: { productId: P1, onHand: 3, reason: "count" } });
    expect(result.data?.setStock).toEqual({
      product: null,
      userErrors: [
        {
          field: ["input", "onHand"],
          message: "4 units are reserved for orders, so on hand cannot be set below 4.",
          code: "NEGATIVE_STOCK",
        },
      ],
    });
    expect(await pg.db.selectFrom("stock_levels").select(["on_hand", "reserved"]).execute()).toEqual([
      { on_hand: 5, reserved: 4 },
    ]);
    expect(await findLedgerMismatches(pg.db)).toEqual([]);
  });

  it("validates every field at once", async () => {
    const result = await run(SET_STOCK, {
      input: { productId: "not-a-product", onHand: -1, lowStockThreshold: -2, reason: "   " },
    });
    expect(result.data?.setStock).toEqual({
      product: null,
      userErrors: [
        {
          field: ["input", "productId"],
          message: "productId must be a catalog product id (24 hex characters).",
          code: "INVALID_PRODUCT_ID",
        },
        { field: ["input", "reason"], message: "Say why the stock changes.", code: "REASON_REQUIRED" },
        {
          field: ["input", "onHand"],
          message: "onHand must be a whole number from 0 to 1000000000.",
          code: "INVALID_QUANTITY",
        },
        {
          field: ["input", "lowStockThreshold"],
          message: "lowStockThreshold must be a whole number from 0 to 1000000000.",
          code: "INVALID_THRESHOLD",
        },
      ],
    });
    const long = await run(SET_STOCK, { input: { productId: P1, onHand: 1, reason: "x".repeat(201) } });
    expect(long.data?.setStock).toMatchObject({
      userErrors: [{ code: "INVALID_REASON", field: ["input", "reason"] }],
    });
    expect(await pg.db.selectFrom("stock_levels").selectAll().execute()).toEqual([]);
  });

  it("is for holders of inventory:write only", async () => {
    const input = { productId: P1, onHand: 5, reason: "count" };
    const anonymous = await run(SET_STOCK, { input }, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const customer = await run(SET_STOCK, { input }, "CUSTOMER");
    expect(customer.errors?.[0]).toMatchObject({
      message: "This needs the inventory:write scope.",
      extensions: { code: "FORBIDDEN" },
    });
    const partner = await run(ADJUST_STOCK, { input: { productId: P1, delta: 1, reason: "x" } }, "PARTNER");
    expect(partner.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await pg.db.selectFrom("stock_levels").selectAll().execute()).toEqual([]);
  });
});

describe("adjustStock", () => {
  it("receives and writes off units with ADJUSTMENT movements", async () => {
    const received = await run(ADJUST_STOCK, {
      input: { productId: P1, delta: 10, reason: "received PO 1142" },
    });
    expect(received.data?.adjustStock).toEqual({
      product: { id: P1, inventory: { onHand: 10, reserved: 0, available: 10 } },
      userErrors: [],
    });
    await reserve(1, 6);
    const lost = await run(ADJUST_STOCK, {
      input: { productId: P1, delta: -4, reason: "damaged in transit" },
    });
    expect(lost.data?.adjustStock).toEqual({
      product: { id: P1, inventory: { onHand: 6, reserved: 6, available: 0 } },
      userErrors: [],
    });
    expect((await ledger()).map((m) => [m.reason, m.on_hand_delta, m.reserved_delta, m.note])).toEqual([
      ["ADJUSTMENT", 10, 0, "received PO 1142"],
      ["RESERVATION", 0, 6, null],
      ["ADJUSTMENT", -4, 0, "damaged in transit"],
    ]);
    expect(await findLedgerMismatches(pg.db)).toEqual([]);
  });

  it("refuses to go below zero, below the reserved units, a zero delta and a missing reason", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 5 }]);
    await reserve(1, 3);
    const adjust = async (delta: number, productId = P1, reason = "shrinkage") =>
      (await run(ADJUST_STOCK, { input: { productId, delta, reason } })).data?.adjustStock;

    expect(await adjust(-6)).toEqual({
      product: null,
      userErrors: [
        {
          field: ["input", "delta"],
          message: "Only 5 units are on hand; removing 6 would leave fewer than none.",
          code: "NEGATIVE_STOCK",
        },
      ],
    });
    expect(await adjust(-3)).toEqual({
      product: null,
      userErrors: [
        {
          field: ["input", "delta"],
          message: "3 of the 5 units on hand are reserved for orders; at most 2 can be removed.",
          code: "NEGATIVE_STOCK",
        },
      ],
    });
    expect(await adjust(0)).toMatchObject({
      userErrors: [{ code: "INVALID_QUANTITY", field: ["input", "delta"] }],
    });
    expect(await adjust(1_000_000_000)).toMatchObject({
      userErrors: [{ code: "INVALID_QUANTITY", message: "On hand cannot exceed 1000000000 units." }],
    });
    expect(await adjust(1, P1, "")).toMatchObject({ userErrors: [{ code: "REASON_REQUIRED" }] });
    // Removing stock of a product inventory never stocked creates nothing.
    expect(await adjust(-1, productId(9))).toMatchObject({
      product: null,
      userErrors: [{ code: "NEGATIVE_STOCK" }],
    });
    expect(
      await pg.db.selectFrom("stock_levels").select(["product_id", "on_hand", "reserved"]).execute(),
    ).toEqual([{ product_id: P1, on_hand: 5, reserved: 3 }]);
    expect(await adjust(-2)).toMatchObject({
      product: { inventory: { onHand: 3, available: 0 } },
      userErrors: [],
    });
    expect(await findLedgerMismatches(pg.db)).toEqual([]);
  });

  it("never removes more than is there when admins write off units concurrently", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 20 }]);
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        run(ADJUST_STOCK, { input: { productId: P1, delta: -1, reason: "audit" } }),
      ),
    );
    const codes = results.map(
      (result) =>
        (result.data?.adjustStock as { userErrors: { code: string }[] } | undefined)?.userErrors[0]?.code ??
        "OK",
    );
    expect(codes.filter((code) => code === "OK")).toHaveLength(20);
    expect(codes.filter((code) => code === "NEGATIVE_STOCK")).toHaveLength(10);
    expect(await pg.db.selectFrom("stock_levels").select("on_hand").execute()).toEqual([{ on_hand: 0 }]);
    expect(await findLedgerMismatches(pg.db)).toEqual([]);
  });
});

describe("stock internals", () => {
  const ENTITIES = `query ($reps: [_Any!]!) {
    _entities(representations: $reps) { ... on Product { id inventory { available inStock lowStock } } }
  }`;

  it("shows available, inStock and lowStock to anyone through _entities, against each product's threshold", async () => {
    await insertInitialStock(pg.db, [
      { productId: P1, onHand: 5 },
      { productId: productId(2), onHand: 6 },
      { productId: productId(3), onHand: 2 },
    ]);
    await pg.db
      .updateTable("stock_levels")
      .set({ low_stock_threshold: 1 })
      .where("product_id", "=", productId(3))
      .execute();
    const result = await run(
      ENTITIES,
      { reps: [1, 2, 3, 4].map((n) => ({ __typename: "Product", id: productId(n) })) },
      null,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      _entities: [
        { id: P1, inventory: { available: 5, inStock: true, lowStock: true } },
        { id: productId(2), inventory: { available: 6, inStock: true, lowStock: false } },
        { id: productId(3), inventory: { available: 2, inStock: true, lowStock: false } },
        { id: productId(4), inventory: { available: 0, inStock: false, lowStock: true } },
      ],
    });
  });

  it("hides onHand, reserved and lowStockThreshold from customers", async () => {
    await insertInitialStock(pg.db, [{ productId: P1, onHand: 5 }]);
    const result = await run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { inventory { available onHand } } } }`,
      { reps: [{ __typename: "Product", id: P1 }] },
      "CUSTOMER",
    );
    expect(result.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([
      [["_entities", 0, "inventory", "onHand"], "FORBIDDEN"],
    ]);
  });
});

describe("lowStockProducts", () => {
  beforeEach(async () => {
    // available: p1 0, p2 1, p3 2, p4 3 (own threshold 10), p5 8, p6 4
    await insertInitialStock(
      pg.db,
      [0, 1, 2, 3, 8, 4].map((onHand, i) => ({ productId: productId(i + 1), onHand })),
    );
    await pg.db
      .updateTable("stock_levels")
      .set({ low_stock_threshold: 10 })
      .where("product_id", "=", productId(5))
      .execute();
    pg.queries.length = 0;
  });

  type Page = {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
    edges: { node: { id: string; inventory: { available: number; lowStock: boolean; onHand: number } } }[];
  };
  const page = async (variables: Record<string, unknown>) => {
    const result = await run(LOW_STOCK, variables);
    expect(result.errors).toBeUndefined();
    return (result.data as { lowStockProducts: Page }).lowStockProducts;
  };

  it("pages the products at or below their own threshold, fewest available first, in two queries", async () => {
    const first = await page({ first: 4 });
    expect(pg.queries).toHaveLength(2);
    expect(first.totalCount).toBe(6);
    expect(first.edges.map((edge) => [edge.node.id, edge.node.inventory.available])).toEqual([
      [productId(1), 0],
      [productId(2), 1],
      [productId(3), 2],
      [productId(4), 3],
    ]);
    expect(first.edges.every((edge) => edge.node.inventory.lowStock)).toBe(true);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

    const second = await page({ first: 4, after: first.pageInfo.endCursor });
    expect(second.edges.map((edge) => [edge.node.id, edge.node.inventory.available])).toEqual([
      [productId(6), 4],
      [productId(5), 8],
    ]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it("uses an explicit threshold for every product instead of their own", async () => {
    const result = await page({ threshold: 1 });
    expect(result.totalCount).toBe(2);
    expect(result.edges.map((edge) => edge.node.id)).toEqual([productId(1), productId(2)]);
  });

  it("refuses bad arguments and readers without inventory:read", async () => {
    const bad = await run(LOW_STOCK, { threshold: -1 });
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const cursor = await run(LOW_STOCK, { after: "bm90LWEtY3Vyc29y" });
    expect(cursor.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    const tooMany = await run(LOW_STOCK, { first: 101 });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const customer = await run(LOW_STOCK, {}, "CUSTOMER");
    expect(customer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(customer.data).toEqual({ lowStockProducts: null });
  });
});
