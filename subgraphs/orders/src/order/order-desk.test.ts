import { randomUUID } from "node:crypto";
import { encodeCursor, toGlobalId } from "@nexus/core";
import { migrateToLatest } from "@nexus/stores";
import { createTestPostgres } from "@nexus/testing";
import { type Kysely, sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { Database, OrderStatus } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { ADDRESS, createTestOperations, SHOES, TEE, useTestEnv } from "../test-env.ts";

const env = useTestEnv("orders_desk");
const { A, B, ADMIN } = env;
const { run, data, insertOrder } = createTestOperations(env);

const DESK = `query ($first: Int, $after: String, $filter: OrderFilter, $sort: OrderSort) {
  orders(first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id status placedAt total { amount } channel partnerClient guestEmail customer { id }
      lines { productName } } }
  }
}`;

interface DeskPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  edges: {
    cursor: string;
    node: {
      id: string;
      status: OrderStatus;
      placedAt: string;
      total: { amount: number };
      channel: string | null;
      partnerClient: string | null;
      guestEmail: string | null;
      customer: { id: string } | null;
      lines: { productName: string }[];
    };
  }[];
}

const staff = { as: { id: ADMIN, role: "ADMIN" as const } };
const ids = (page: DeskPage) => page.edges.map((edge) => edge.node.id);
const codes = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] | undefined }) =>
  result.errors?.map((e) => e.extensions?.code);

async function desk(variables: Record<string, unknown> = {}): Promise<DeskPage> {
  return (await data<{ orders: DeskPage }>(DESK, variables, staff)).orders;
}

/** Every page of a listing, following `endCursor`, in pages of `first`. */
async function allPages(variables: Record<string, unknown>, first: number): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const page = await desk({ ...variables, first, after });
    expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
    seen.push(...ids(page));
    if (!page.pageInfo.hasNextPage) return seen;
    after = page.pageInfo.endCursor;
  }
  throw new Error("the listing never ended");
}

interface Row {
  id: string;
  placed_at: Date;
  updated_at: Date;
  total_amount: number;
}

const allRows = async (): Promise<Row[]> =>
  env.pg.db.selectFrom("orders").select(["id", "placed_at", "updated_at", "total_amount"]).execute();

const byDesc =
  (key: (row: Row) => number) =>
  (a: Row, b: Row): number =>
    key(b) - key(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Orders with ties on every sort key: three placed at one instant, two with one total. */
async function seedTies() {
  const same = new Date("2026-03-01T10:00:00.000Z");
  const made = [
    await insertOrder(A, same, 1, "CONFIRMED"),
    await insertOrder(A, same, 2, "PENDING"),
    await insertOrder(B, same, 1, "SHIPPED"),
    await insertOrder(B, new Date("2026-02-01T10:00:00.000Z"), 3, "DELIVERED"),
    await insertOrder(A, new Date("2026-04-01T10:00:00.000Z"), 2, "CANCELLED"),
    await insertOrder(B, new Date("2026-01-15T10:00:00.000Z"), 1, "CONFIRMED"),
  ];
  // updated_at ties too: two orders changed at one instant.
  await env.pg.db
    .updateTable("orders")
    .set({ updated_at: new Date("2026-05-01T00:00:00.000Z") })
    .where("id", "in", [made[0] ?? "", made[3] ?? ""])
    .execute();
  return made;
}

async function guestOrder(email: string, placedAt: Date, productName: string): Promise<string> {
  const { id } = await env.pg.db
    .insertInto("orders")
    .values({
      customer_id: null,
      guest_email: email,
      currency_code: "USD",
      total_amount: 700,
      placed_at: placedAt,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await env.pg.db
    .insertInto("order_lines")
    .values({
      order_id: id,
      position: 0,
      product_id: SHOES,
      product_name: productName,
      unit_price: 700,
      quantity: 1,
    })
    .execute();
  return id;
}

describe("orders (the staff desk)", () => {
  it("lists every customer's orders, guests' included, newest first, with lines in three queries", async () => {
    await seedTies();
    const guest = await guestOrder("guest@example.com", new Date("2026-06-01T00:00:00.000Z"), "Trail Shoes");
    env.pg.queries.length = 0;
    const page = await desk({ first: 4 });
    expect(env.pg.queries).toHaveLength(3);
    expect(env.pg.queries.filter((q) => /^\s*SELECT o\.\* FROM orders o/.test(q))).toHaveLength(1);
    expect(env.pg.queries.filter((q) => /count\(\*\)/.test(q))).toHaveLength(1);
    expect(env.pg.queries.filter((q) => q.includes('from "order_lines"'))).toHaveLength(1);
    expect(page.totalCount).toBe(7);
    expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(page.edges[0]?.node).toMatchObject({
      id: guest,
      customer: null,
      lines: [{ productName: "Trail Shoes" }],
    });
    const expected = (await allRows()).sort(byDesc((row) => row.placed_at.getTime())).map((row) => row.id);
    expect(ids(page)).toEqual(expected.slice(0, 4));
  });

  it.each([
    ["PLACED_AT_DESC", byDesc((row: Row) => row.placed_at.getTime())],
    ["PLACED_AT_ASC", (a: Row, b: Row) => -byDesc((row: Row) => row.placed_at.getTime())(a, b)],
    ["UPDATED_AT_DESC", byDesc((row: Row) => row.updated_at.getTime())],
    ["TOTAL_DESC", byDesc((row: Row) => row.total_amount)],
  ] as const)("pages %s in a stable order across ties, each order once", async (sort, compare) => {
    await seedTies();
    const expected = (await allRows()).sort(compare).map((row) => row.id);
    for (const first of [1, 2, 4]) {
      expect(await allPages({ sort }, first)).toEqual(expected);
    }
  });

  it("keeps its place when orders are added before the cursor", async () => {
    await seedTies();
    const first = await desk({ first: 3 });
    await insertOrder(A, new Date("2026-12-01T00:00:00.000Z"));
    const second = await desk({ first: 10, after: first.pageInfo.endCursor });
    const expected = (await allRows()).sort(byDesc((row) => row.placed_at.getTime())).map((row) => row.id);
    expect([...ids(first), ...ids(second)]).toEqual(expected.filter((_, i) => i !== 0));
    expect(second.totalCount).toBe(7);
  });

  it("filters by status, dates and customer, and counts what matches", async () => {
    const made = await seedTies();
    const confirmed = await desk({ filter: { status: ["CONFIRMED"] } });
    expect(new Set(ids(confirmed))).toEqual(new Set([made[0], made[5]]));
    expect(confirmed.totalCount).toBe(2);

    const toShip = await desk({ filter: { status: ["CONFIRMED", "SHIPPED"], customer: B } });
    expect(new Set(ids(toShip))).toEqual(new Set([made[2], made[5]]));

    const window = await desk({
      filter: { placedAfter: "2026-02-01T10:00:00.000Z", placedBefore: "2026-03-01T10:00:00.000Z" },
    });
    // placedAfter is inclusive, placedBefore exclusive.
    expect(ids(window)).toEqual([made[3]]);
    expect(window.totalCount).toBe(1);

    const nobody = await desk({ filter: { customer: randomUUID() } });
    expect(nobody).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false } });
  });

  it("searches by order id, the start of one, a guest's email and a product name", async () => {
    const made = await seedTies();
    const guest = await guestOrder(
      "Guest.Shopper@example.com".toLowerCase(),
      new Date("2026-06-01T00:00:00Z"),
      "Trail 50% Shoes",
    );
    const target = made[1] ?? "";

    expect(ids(await desk({ filter: { search: target.toUpperCase() } }))).toEqual([target]);
    expect(ids(await desk({ filter: { search: ` ${toGlobalId("Order", target)} ` } }))).toEqual([target]);
    const prefix = await desk({ filter: { search: target.slice(0, 8) } });
    expect(ids(prefix)).toContain(target);
    expect(ids(prefix).every((id) => id.startsWith(target.slice(0, 8)))).toBe(true);
    expect(ids(await desk({ filter: { search: target.slice(0, 13) } }))).toContain(target);
    expect(ids(await desk({ filter: { search: ` ${target.slice(0, 8).toUpperCase()} ` } }))).toContain(
      target,
    );

    const byEmail = await desk({ filter: { search: "GUEST.shopper@EXAMPLE.com" } });
    expect(byEmail.edges.map((edge) => [edge.node.id, edge.node.guestEmail, edge.node.customer])).toEqual([
      [guest, "guest.shopper@example.com", null],
    ]);
    expect((await desk({ filter: { search: target } })).edges[0]?.node.guestEmail).toBeNull();
    expect(ids(await desk({ filter: { search: "someone@example.com" } }))).toEqual([]);

    expect(ids(await desk({ filter: { search: "trail 50%" } }))).toEqual([guest]);
    // % and _ are the characters typed, not wildcards.
    expect(ids(await desk({ filter: { search: "Trail_50" } }))).toEqual([]);
    const lines = await desk({ filter: { search: "line 2" } });
    // insertOrder names lines "Line 0", "Line 1", …: only orders with three lines have "Line 2".
    expect(ids(lines)).toEqual([made[3]]);
    const combined = await desk({
      filter: { search: "line 1", customer: A, status: ["PENDING", "CANCELLED"] },
    });
    expect(new Set(ids(combined))).toEqual(new Set([made[1], made[4]]));
    expect(combined.totalCount).toBe(2);
  });

  it("refuses bad arguments with BAD_USER_INPUT and reads nothing", async () => {
    await seedTies();
    const placed = await desk({ first: 1 });
    const totalCursor = (await desk({ first: 1, sort: "TOTAL_DESC" })).pageInfo.endCursor;
    const bad: [string, Record<string, unknown>][] = [
      ["first 0", { first: 0 }],
      ["first 101", { first: 101 }],
      ["a cursor that is not one", { after: "nope" }],
      ["a cursor of another sort", { after: totalCursor, sort: "PLACED_AT_DESC" }],
      ["a cursor of this sort for another", { after: placed.pageInfo.endCursor, sort: "TOTAL_DESC" }],
      [
        "a forged cursor",
        { after: encodeCursor(["PLACED_AT_DESC", "2026-02-30T00:00:00.000Z", randomUUID()]) },
      ],
      ["a forged total", { after: encodeCursor(["TOTAL_DESC", -1, randomUUID()]), sort: "TOTAL_DESC" }],
      [
        "a cursor without an id",
        { after: encodeCursor(["PLACED_AT_DESC", "2026-02-01T00:00:00.000Z", "x"]) },
      ],
      [
        "placedAfter after placedBefore",
        { filter: { placedAfter: "2026-03-02T00:00:00.000Z", placedBefore: "2026-03-01T00:00:00.000Z" } },
      ],
      ["a date that is not one", { filter: { placedAfter: "yesterday" } }],
      ["a customer that is not a user id", { filter: { customer: "alice" } }],
      ["no statuses", { filter: { status: [] } }],
      ["a status that does not exist", { filter: { status: ["LOST"] } }],
      ["a sort that does not exist", { sort: "NAME" }],
      ["an empty search", { filter: { search: "   " } }],
      ["a two-character search", { filter: { search: "ab" } }],
      ["a long search", { filter: { search: "x".repeat(101) } }],
      ["another type's global id", { filter: { search: toGlobalId("User", randomUUID()) } }],
      ["an order global id that is no order id", { filter: { search: toGlobalId("Order", "abc") } }],
      ["a malformed global id", { filter: { search: "gid://nexus/Order" } }],
    ];
    for (const [what, variables] of bad) {
      env.pg.queries.length = 0;
      const result = await run(DESK, variables, staff);
      expect({ what, codes: codes(result) }).toEqual({ what, codes: ["BAD_USER_INPUT"] });
      expect({ what, queries: env.pg.queries }).toEqual({ what, queries: [] });
    }
    // Equal bounds are allowed: an empty window, not a mistake.
    const empty = await desk({
      filter: { placedAfter: "2026-03-01T10:00:00.000Z", placedBefore: "2026-03-01T10:00:00.000Z" },
    });
    expect(empty.totalCount).toBe(0);
  });

  it("is for staff with orders:read:any only", async () => {
    await seedTies();
    const anonymous = await run(DESK, {});
    expect(codes(anonymous)).toEqual(["UNAUTHENTICATED"]);
    expect(anonymous.data).toEqual({ orders: null });
    const customer = await run(DESK, {}, { as: { id: A } });
    expect(codes(customer)).toEqual(["FORBIDDEN"]);
    const partner = await run(DESK, {}, { as: { id: randomUUID(), role: "PARTNER", clientId: "acme" } });
    expect(codes(partner)).toEqual(["FORBIDDEN"]);
  });
});

describe("order channels", () => {
  const CHECKOUT = `mutation ($input: CheckoutInput!) { checkout(input: $input) {
    order { id } userErrors { code } } }`;
  const ORDER = `query ($id: ID!) { order(id: $id) { id channel partnerClient } }`;
  const STATUS = `query ($id: ID!) { orderStatus(id: $id) { id status } }`;

  async function placeAs(as: { id: string; role?: "CUSTOMER" | "ADMIN" | "PARTNER"; clientId?: string }) {
    expect(await env.carts.add(as.id, TEE, 1)).toEqual({ ok: true });
    const result = await data<{ checkout: { order: { id: string }; userErrors: unknown[] } }>(
      CHECKOUT,
      { input: { idempotencyKey: randomUUID(), shippingAddress: ADDRESS } },
      { as },
    );
    expect(result.checkout.userErrors).toEqual([]);
    return result.checkout.order.id;
  }

  const channelOf = async (id: string) =>
    (await data<{ order: { channel: string; partnerClient: string | null } }>(ORDER, { id }, staff)).order;

  it("records the client that placed each order and shows it to staff only", async () => {
    const own = await placeAs({ id: A });
    const acme = randomUUID();
    const byAcme = await placeAs({ id: acme, role: "PARTNER", clientId: "acme" });
    const byStaff = await placeAs({ id: randomUUID(), role: "ADMIN" });
    expect(await channelOf(own)).toEqual({ id: own, channel: "STOREFRONT", partnerClient: null });
    expect(await channelOf(byAcme)).toEqual({ id: byAcme, channel: "PARTNER", partnerClient: "acme" });
    expect(await channelOf(byStaff)).toEqual({ id: byStaff, channel: "STAFF", partnerClient: null });
    const rows = await env.pg.db.selectFrom("orders").select(["id", "channel", "partner_client"]).execute();
    expect(rows.find((row) => row.id === byAcme)).toMatchObject({
      channel: "partner",
      partner_client: "acme",
    });

    // The customer reads their own order, but not the channel: that is the store's business.
    const customerView = await run(ORDER, { id: own }, { as: { id: A } });
    expect(customerView.data).toEqual({ order: { id: own, channel: null, partnerClient: null } });
    expect(codes(customerView)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
  });

  it("a partner's orderStatus answers only for orders placed through that partner", async () => {
    const acmeOrder = await placeAs({ id: randomUUID(), role: "PARTNER", clientId: "acme" });
    const otherOrder = await placeAs({ id: randomUUID(), role: "PARTNER", clientId: "globex" });
    const storefront = await placeAs({ id: A });
    const acme = { as: { id: randomUUID(), role: "PARTNER" as const, clientId: "acme" } };

    expect(await data(STATUS, { id: acmeOrder }, acme)).toEqual({
      orderStatus: { id: acmeOrder, status: "PENDING" },
    });
    // Another partner's order and a storefront order answer exactly like an unknown id.
    const unknown = await run(STATUS, { id: randomUUID() }, acme);
    expect(unknown).toMatchObject({ data: { orderStatus: null } });
    expect(unknown.errors).toBeUndefined();
    for (const id of [otherOrder, storefront]) {
      expect(await run(STATUS, { id }, acme)).toEqual(unknown);
    }
    // A partner token without a client name is nobody's partner.
    const nameless = { as: { id: randomUUID(), role: "PARTNER" as const } };
    expect(await data(STATUS, { id: acmeOrder }, nameless)).toEqual({ orderStatus: null });
    // Staff see every order.
    for (const id of [acmeOrder, otherOrder, storefront]) {
      expect(await data(STATUS, { id }, staff)).toEqual({ orderStatus: { id, status: "PENDING" } });
    }
  });

  it("lists partner, staff and storefront orders together at the desk with their channels", async () => {
    await placeAs({ id: A });
    await placeAs({ id: randomUUID(), role: "PARTNER", clientId: "acme" });
    const page = await desk();
    expect(page.edges.map((edge) => [edge.node.channel, edge.node.partnerClient]).sort()).toEqual([
      ["PARTNER", "acme"],
      ["STOREFRONT", null],
    ]);
  });
});

describe("0008_order_desk on a store with orders", () => {
  it("gives imported orders the import channel and every other order the storefront", async () => {
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0008"));
    const pg = await createTestPostgres<Database>("orders_desk_migration", before);
    try {
      const values = { currency_code: "USD", total_amount: 100 };
      const [live, imported, guest] = await Promise.all([
        insertRaw(pg.db, { ...values, customer_id: A }),
        insertRaw(pg.db, { ...values, customer_id: B, external_ref: "INV-1" }),
        insertRaw(pg.db, { ...values, customer_id: null, external_ref: "INV-2" }),
      ]);
      await migrateToLatest(pg.db, migrations);
      const rows = await pg.db.selectFrom("orders").select(["id", "channel", "partner_client"]).execute();
      expect(Object.fromEntries(rows.map((row) => [row.id, [row.channel, row.partner_client]]))).toEqual({
        [live]: ["storefront", null],
        [imported]: ["import", null],
        [guest]: ["import", null],
      });
      // A partner order names its partner, and only a partner order does.
      await expect(
        sql`UPDATE orders SET channel = 'partner' WHERE id = ${live}`.execute(pg.db),
      ).rejects.toThrow(/orders_partner_client_with_partner_channel/);
      await expect(
        sql`UPDATE orders SET partner_client = 'acme' WHERE id = ${live}`.execute(pg.db),
      ).rejects.toThrow(/orders_partner_client_with_partner_channel/);
      await expect(sql`UPDATE orders SET channel = 'fax' WHERE id = ${live}`.execute(pg.db)).rejects.toThrow(
        /orders_channel_check/,
      );
    } finally {
      await pg.drop();
    }
  });
});

async function insertRaw(
  db: Kysely<Database>,
  row: { customer_id: string | null; currency_code: string; total_amount: number; external_ref?: string },
): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO orders (customer_id, currency_code, total_amount, external_ref)
    VALUES (${row.customer_id}, ${row.currency_code}, ${row.total_amount}, ${row.external_ref ?? null})
    RETURNING id`.execute(db);
  const id = rows[0]?.id;
  if (!id) throw new Error("no order inserted");
  return id;
}
