import { randomUUID } from "node:crypto";
import { encodeCursor } from "@nexus/core";
import { describe, expect, it } from "vitest";
import { createTestOperations, useTestEnv } from "../test-env.ts";

/**
 * A customer's order history paged backward: from the oldest order the pages are the forward
 * pages in reverse, orders placed at the same millisecond included, in the same batched query.
 */

const env = useTestEnv("orders_paging");
const { A, B, ADMIN } = env;
const { run, data, insertOrder } = createTestOperations(env);

const ORDERS = `query ($reps: [_Any!]!, $first: Int, $after: String, $last: Int, $before: String) {
  _entities(representations: $reps) {
    ... on User { orders(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { id placedAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    } }
  }
}`;

interface Page {
  edges: { cursor: string; node: { id: string; placedAt: string } }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number;
}
type Variables = Record<string, unknown>;

async function pageOf(variables: Variables, customer = A): Promise<Page> {
  const result = await data<{ _entities: { orders: Page }[] }>(
    ORDERS,
    { reps: [{ __typename: "User", id: customer }], ...variables },
    { as: { id: customer } },
  );
  const page = result._entities[0]?.orders;
  if (!page) throw new Error("no page");
  return page;
}

const ids = (pages: readonly Page[]) => pages.flatMap((p) => p.edges.map((e) => e.node.id));

async function walk(size: number, backward: boolean): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 100; n++) {
    const page = await pageOf(backward ? { last: size, before: cursor } : { first: size, after: cursor });
    pages.push(page);
    if (!(backward ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage)) return pages;
    cursor = backward ? page.pageInfo.startCursor : page.pageInfo.endCursor;
  }
  throw new Error("did not reach the other end");
}

/** 23 orders for A over 6 instants, several at the same millisecond; some for B in between. */
async function seedHistory(): Promise<{ id: string; at: Date }[]> {
  const base = Date.parse("2026-05-01T08:00:00.250Z");
  const orders: { id: string; at: Date }[] = [];
  for (let n = 0; n < 23; n++) {
    const at = new Date(base + ((n * 7) % 6) * 60_000);
    orders.push({ id: await insertOrder(A, at), at });
    if (n % 5 === 0) await insertOrder(B, at);
  }
  // Newest first, then the larger id: the list's order.
  return orders.sort((x, y) => y.at.getTime() - x.at.getTime() || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0));
}

describe("User.orders paged backward", () => {
  it("from the oldest order, every page size: the forward pages in reverse, ties included", async () => {
    const expected = (await seedHistory()).map((o) => o.id);
    for (const size of [1, 4, 5, 23, 100]) {
      const ahead = await walk(size, false);
      const back = await walk(size, true);
      expect(ids(ahead), `size ${size}`).toEqual(expected);
      expect(ids([...back].reverse()), `size ${size}`).toEqual(expected);
      const more = expected.length > size;
      expect(back[0]?.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: more });
      expect(back.at(-1)?.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: more });
      expect(ahead[0]?.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: more });
      expect(back.every((p) => p.totalCount === expected.length)).toBe(true);
      for (const p of back) {
        expect(p.pageInfo.startCursor).toBe(p.edges[0]?.cursor ?? null);
        expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
      }
    }
  });

  it("takes the cursors of either direction in the other", async () => {
    const expected = (await seedHistory()).map((o) => o.id);
    const ahead = await walk(4, false);
    for (let i = 1; i < ahead.length; i++) {
      const previous = await pageOf({ last: 4, before: ahead[i]?.pageInfo.startCursor });
      expect(ids([previous])).toEqual(ids([ahead[i - 1] as Page]));
    }
    const back = await walk(4, true);
    const next = await pageOf({ first: 4, after: back[1]?.pageInfo.endCursor });
    expect(ids([next])).toEqual(ids([back[0] as Page]));
    // Before the newest order there is nothing; before the oldest, everything but it.
    const newest = encodeCursor([
      (await pageOf({ first: 1 })).edges[0]?.node.placedAt ?? "",
      expected[0] ?? "",
    ]);
    expect(await pageOf({ last: 5, before: newest })).toMatchObject({
      edges: [],
      pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
    const oldest = (await pageOf({ last: 1 })).pageInfo.startCursor;
    expect(ids([await pageOf({ last: 100, before: oldest })])).toEqual(expected.slice(0, -1));
  });

  it("pages several users both ways with one query for pages and one for counts", async () => {
    const expected = (await seedHistory()).map((o) => o.id);
    const C = randomUUID();
    env.pg.queries.length = 0;
    const result = await data<{ _entities: { id: string; newest: Page; oldest: Page }[] }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on User { id
          newest: orders(first: 2) { totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage } }
          oldest: orders(last: 3) { totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage } }
        }
      } }`,
      { reps: [A, B, C].map((id) => ({ __typename: "User", id })) },
      { as: { id: ADMIN, role: "ADMIN" } },
    );
    expect(env.pg.queries).toHaveLength(2);
    const [a, b, c] = result._entities;
    expect(a?.newest.edges.map((e) => e.node.id)).toEqual(expected.slice(0, 2));
    expect(a?.oldest.edges.map((e) => e.node.id)).toEqual(expected.slice(-3));
    expect(a?.oldest.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
    expect(b?.oldest.totalCount).toBe(5);
    expect(b?.oldest.edges).toHaveLength(3);
    expect(c?.oldest).toMatchObject({
      totalCount: 0,
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false },
    });
  });

  it("refuses mixed directions, sizes out of range and foreign cursors, naming the argument", async () => {
    const cases: [Variables, string][] = [
      [{ first: 1, last: 1 }, "last"],
      [{ last: 1, after: encodeCursor(["2026-01-01T00:00:00.000Z", randomUUID()]) }, "after"],
      [{ first: 1, before: encodeCursor(["2026-01-01T00:00:00.000Z", randomUUID()]) }, "before"],
      [{ last: 0 }, "last"],
      [{ last: 101 }, "last"],
      [{ last: 1, before: "not-a-cursor" }, "before"],
      [{ last: 1, before: encodeCursor(["yesterday", randomUUID()]) }, "before"],
      [{ last: 1, before: encodeCursor(["+275760-09-13T00:00:00.000Z", randomUUID()]) }, "before"],
    ];
    for (const [variables, field] of cases) {
      const result = await run(
        ORDERS,
        { reps: [{ __typename: "User", id: A }], ...variables },
        { as: { id: A } },
      );
      expect(result.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({
        code: "BAD_USER_INPUT",
        field,
      });
    }
  });
});

describe("Query.orders (the staff desk) paged backward", () => {
  const DESK = `query ($first: Int, $after: String, $last: Int, $before: String, $filter: OrderFilter, $sort: OrderSort) {
    orders(first: $first, after: $after, last: $last, before: $before, filter: $filter, sort: $sort) {
      totalCount
      edges { cursor node { id placedAt total { amount } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }`;
  const staff = { as: { id: ADMIN, role: "ADMIN" as const } };
  const desk = async (variables: Variables) => (await data<{ orders: Page }>(DESK, variables, staff)).orders;

  async function deskWalk(variables: Variables, size: number, backward: boolean): Promise<Page[]> {
    const pages: Page[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 100; n++) {
      const page = await desk(
        backward
          ? { ...variables, last: size, before: cursor }
          : { ...variables, first: size, after: cursor },
      );
      pages.push(page);
      if (!(backward ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage)) return pages;
      cursor = backward ? page.pageInfo.startCursor : page.pageInfo.endCursor;
    }
    throw new Error("did not reach the other end");
  }

  it("every sort, with ties on every key and a filter: the forward pages in reverse", async () => {
    await seedHistory();
    // Groups of orders changed at one instant, and totals shared by many (one line each).
    const rows = await env.pg.db.selectFrom("orders").select("id").orderBy("id").execute();
    for (const [index, row] of rows.entries()) {
      const updatedAt = new Date(Date.UTC(2026, 5, 1, index % 3));
      await env.pg.db
        .updateTable("orders")
        .set({ updated_at: updatedAt, total_amount: 500 * (1 + (index % 4)) })
        .where("id", "=", row.id)
        .execute();
    }
    for (const sort of ["PLACED_AT_DESC", "PLACED_AT_ASC", "UPDATED_AT_DESC", "TOTAL_DESC"]) {
      for (const [variables, size] of [
        [{ sort }, 4],
        [{ sort, filter: { customer: A } }, 5],
        [{ sort }, 100],
      ] as const) {
        const label = `${JSON.stringify(variables)} by ${size}`;
        const ahead = await deskWalk(variables, size, false);
        const back = await deskWalk(variables, size, true);
        const total = ahead[0]?.totalCount ?? 0;
        expect(total, label).toBe(variables.filter ? 23 : 28);
        expect(ids(ahead), label).toHaveLength(total);
        expect(new Set(ids(ahead)).size, label).toBe(total);
        expect(ids([...back].reverse()), label).toEqual(ids(ahead));
        const more = total > size;
        expect(back[0]?.pageInfo, label).toMatchObject({ hasNextPage: false, hasPreviousPage: more });
        expect(back.at(-1)?.pageInfo, label).toMatchObject({ hasPreviousPage: false, hasNextPage: more });
        const second = ahead[1];
        if (second) {
          const previous = await desk({ ...variables, last: size, before: second.pageInfo.startCursor });
          expect(ids([previous]), label).toEqual(ids([ahead[0] as Page]));
        }
      }
    }
  });

  it("refuses mixed directions and a cursor of another sort at before", async () => {
    await seedHistory();
    const newest = (await desk({ first: 1 })).pageInfo.endCursor;
    const cases: [Variables, string][] = [
      [{ first: 1, last: 1 }, "last"],
      [{ last: 1, after: newest }, "after"],
      [{ first: 1, before: newest }, "before"],
      [{ last: 101 }, "last"],
      [{ last: 1, before: newest, sort: "TOTAL_DESC" }, "before"],
    ];
    for (const [variables, field] of cases) {
      const result = await run(DESK, variables, staff);
      expect(result.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({
        code: "BAD_USER_INPUT",
        field,
      });
    }
  });
});
