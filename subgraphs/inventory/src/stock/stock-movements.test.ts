import { encodeCursor, type Role } from "@nexus/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../test-env.ts";
import { reserveOrder } from "./stock.service.ts";

/** stockMovements: a product's ledger for staff, through the subgraph's server. */

let env: TestEnv;
const ADMIN_ID = "00000000-0000-4000-8000-00000000a0a0";
const ORDER_ID = "00000000-0000-4000-8000-000000000001";
beforeAll(async () => {
  env = await createTestEnv("inventory_movements");
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => env.reset());

const productId = (n: number) => n.toString(16).padStart(24, "0");
const P1 = productId(1);
const P2 = productId(0xabc);

async function run(query: string, variables: Record<string, unknown> = {}, role: Role | null = "ADMIN") {
  const authorization = role === null ? undefined : await env.auth.bearer(ADMIN_ID, role);
  return env.run(query, variables, authorization);
}

const MOVEMENTS = `query ($productId: ID!, $first: Int, $after: String) {
  stockMovements(productId: $productId, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id reason onHandDelta reservedDelta order { id } changedBy { id } note at } }
  }
}`;

interface Movement {
  id: string;
  reason: string;
  onHandDelta: number;
  reservedDelta: number;
  order: { id: string } | null;
  changedBy: { id: string } | null;
  note: string | null;
  at: string;
}
interface MovementPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: Movement }[];
}

async function page(variables: Record<string, unknown>): Promise<MovementPage> {
  const result = await run(MOVEMENTS, variables);
  expect(result.errors).toBeUndefined();
  return (result.data as { stockMovements: MovementPage }).stockMovements;
}

const codes = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] | undefined }) =>
  result.errors?.map((e) => e.extensions?.code);

/** SET 10, then an order reserves 3, then staff remove 2 damaged units; P2 gets a movement too. */
async function history() {
  const set = await run(
    `mutation { setStock(input: { productId: "${P1}", onHand: 10, reason: "first count" }) { userErrors { code } } }`,
  );
  expect(set.errors).toBeUndefined();
  await env.pg.db.transaction().execute((trx) =>
    reserveOrder(trx, { orderId: ORDER_ID, lines: [{ productId: P1, quantity: 3, unitPrice: 100 }] }, 900, {
      lowStockThreshold: 5,
    }),
  );
  const adjust = await run(
    `mutation { adjustStock(input: { productId: "${P1}", delta: -2, reason: "damaged" }) { userErrors { code } } }`,
  );
  expect(adjust.errors).toBeUndefined();
  await run(
    `mutation { setStock(input: { productId: "${P2}", onHand: 4, reason: "other" }) { userErrors { code } } }`,
  );
}

describe("stockMovements", () => {
  it("reads a product's ledger newest first, with reasons, deltas, the order and the staff member", async () => {
    await history();
    env.pg.queries.length = 0;
    const ledger = await page({ productId: P1 });
    // One query for the page and one for the count.
    expect(env.pg.queries).toHaveLength(2);
    expect(ledger.totalCount).toBe(3);
    expect(ledger.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    expect(ledger.edges.map((edge) => edge.node)).toEqual([
      {
        id: expect.any(String),
        reason: "ADJUSTMENT",
        onHandDelta: -2,
        reservedDelta: 0,
        order: null,
        changedBy: { id: ADMIN_ID },
        note: "damaged",
        at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      },
      {
        id: expect.any(String),
        reason: "RESERVATION",
        onHandDelta: 0,
        reservedDelta: 3,
        order: { id: ORDER_ID },
        changedBy: null,
        note: null,
        at: expect.any(String),
      },
      {
        id: expect.any(String),
        reason: "SET",
        onHandDelta: 10,
        reservedDelta: 0,
        order: null,
        changedBy: { id: ADMIN_ID },
        note: "first count",
        at: expect.any(String),
      },
    ]);
    // The ledger adds up to the levels.
    const level = await env.pg.db
      .selectFrom("stock_levels")
      .select(["on_hand", "reserved"])
      .where("product_id", "=", P1)
      .executeTakeFirstOrThrow();
    const sum = (key: "onHandDelta" | "reservedDelta") =>
      ledger.edges.reduce((total, edge) => total + edge.node[key], 0);
    expect({ on_hand: sum("onHandDelta"), reserved: sum("reservedDelta") }).toEqual(level);
  });

  it("pages with cursors, each movement once, and keeps its place when new ones arrive", async () => {
    await history();
    const all = (await page({ productId: P1 })).edges.map((edge) => edge.node.id);
    const first = await page({ productId: P1, first: 2 });
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    await run(
      `mutation { adjustStock(input: { productId: "${P1}", delta: 5, reason: "delivery" }) { userErrors { code } } }`,
    );
    const second = await page({ productId: P1, first: 2, after: first.pageInfo.endCursor });
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect([...first.edges, ...second.edges].map((edge) => edge.node.id)).toEqual(all);
    expect(second.totalCount).toBe(4);
  });

  it("is empty for a product inventory never stocked, and case-insensitive in the id", async () => {
    await history();
    expect(await page({ productId: productId(99) })).toMatchObject({ totalCount: 0, edges: [] });
    const upper = await page({ productId: P2.toUpperCase() });
    expect(upper.totalCount).toBe(1);
  });

  it("refuses bad arguments with BAD_USER_INPUT", async () => {
    for (const variables of [
      { productId: "not-a-product" },
      { productId: P1, first: 0 },
      { productId: P1, first: 101 },
      { productId: P1, after: "nope" },
      { productId: P1, after: encodeCursor([0]) },
      { productId: P1, after: encodeCursor(["1"]) },
    ]) {
      const result = await run(MOVEMENTS, variables);
      expect({ variables, codes: codes(result) }).toEqual({ variables, codes: ["BAD_USER_INPUT"] });
    }
  });

  it("is for staff with inventory:read only", async () => {
    await history();
    const anonymous = await run(MOVEMENTS, { productId: P1 }, null);
    expect(codes(anonymous)).toEqual(["UNAUTHENTICATED"]);
    for (const role of ["CUSTOMER", "PARTNER"] as const) {
      const result = await run(MOVEMENTS, { productId: P1 }, role);
      expect(codes(result)).toEqual(["FORBIDDEN"]);
      expect(result.data).toEqual({ stockMovements: null });
    }
  });
});
