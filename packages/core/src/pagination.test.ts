import { describe, expect, it } from "vitest";
import {
  cursorPart,
  encodeCursor,
  MAX_PAGE_SIZE,
  type Page,
  type PageArgs,
  pageArgs,
  readCursor,
  toPagedConnection,
} from "./pagination.ts";

const UUID = "00000000-0000-4000-8000-000000000000";
const code = (run: () => unknown) => {
  try {
    run();
    return "read";
  } catch (error) {
    return (error as { extensions?: { code?: string } }).extensions?.code;
  }
};

describe("readCursor", () => {
  it("reads back what encodeCursor wrote, and null for no cursor", () => {
    const at = new Date("2026-03-01T10:00:00.123Z");
    const cursor = encodeCursor([at.toISOString(), UUID]);
    expect(readCursor(cursor, [cursorPart.isoInstant, cursorPart.uuid])).toEqual([at, UUID]);
    expect(readCursor(null, [cursorPart.uuid])).toBeNull();
    expect(readCursor(undefined, [cursorPart.uuid])).toBeNull();
  });

  it("refuses cursors of another shape, of another field, or too long to be ours", () => {
    const parts = [cursorPart.tag("feed"), cursorPart.integer(0, 10)] as const;
    for (const cursor of [
      "",
      "%%%",
      "not a cursor",
      encodeCursor(["feed"]),
      encodeCursor(["NEWEST", 1]),
      "A".repeat(2000),
    ]) {
      expect(
        code(() => readCursor(cursor, parts)),
        cursor.slice(0, 20),
      ).toBe("BAD_USER_INPUT");
    }
    expect(readCursor(encodeCursor(["feed", 3]), parts)).toEqual(["feed", 3]);
  });

  it("integers: whole, safe and within the bounds", () => {
    const part = cursorPart.integer(-5, 2 ** 31 - 1);
    for (const value of [0, -5, 2 ** 31 - 1]) expect(part(value)).toBe(value);
    for (const value of [1.5, 1e300, 2 ** 53, -6, 2 ** 31, Number.NaN, "3", null]) {
      expect(part(value), String(value)).toBeUndefined();
    }
  });

  it("ISO instants: real dates from 1970 to 9999 in toISOString's form only", () => {
    expect(cursorPart.isoInstant("2026-02-28T23:59:59.999Z")).toEqual(new Date("2026-02-28T23:59:59.999Z"));
    for (const value of [
      "-100000-01-01T00:00:00.000Z",
      "+275760-09-13T00:00:00.000Z",
      "0000-01-01T00:00:00.000Z",
      "1969-12-31T23:59:59.999Z",
      "2026-02-30T00:00:00.000Z",
      "2026-01-01T24:00:00.000Z",
      "2026-01-01",
      "2026-01-01T00:00:00Z",
      "yesterday",
      1e300,
    ]) {
      expect(cursorPart.isoInstant(value), String(value)).toBeUndefined();
    }
  });

  it("epoch milliseconds: whole and within 1970..9999", () => {
    expect(cursorPart.epochMillis(0)).toEqual(new Date(0));
    for (const value of [1e300, -1, 1.5, 253402300800000, "0"]) {
      expect(cursorPart.epochMillis(value), String(value)).toBeUndefined();
    }
  });

  it("PostgreSQL timestamps: kept as text with their microseconds, every part real", () => {
    for (const value of [
      "2026-03-01 10:00:00.123456+00",
      "2026-03-01 10:00:00+01",
      "9999-12-31 23:59:59+05:30",
    ]) {
      expect(cursorPart.postgresTimestamp(value), value).toBe(value);
    }
    for (const value of [
      "2026-13-45 25:61:61+00",
      "2026-02-30 10:00:00+00",
      "2026-01-01 24:00:00+00",
      "0000-01-01 00:00:00+00",
      "1969-12-31 23:59:59+00",
      "2026-01-01 10:00:00+99",
      "2026-01-01 10:00:00+00:60",
      "2026-01-01T10:00:00Z",
      "2026-01-01 10:00:00.1234567+00",
      20260101,
    ]) {
      expect(cursorPart.postgresTimestamp(value), String(value)).toBeUndefined();
    }
  });

  it("ids: UUIDs and lower-case ObjectIds only", () => {
    expect(cursorPart.uuid(UUID)).toBe(UUID);
    expect(cursorPart.uuid("not-a-uuid")).toBeUndefined();
    expect(cursorPart.objectId("0123456789abcdef01234567")).toBe("0123456789abcdef01234567");
    for (const value of ["0123456789ABCDEF01234567", "0123456789abcdef01234567\u0000", "x".repeat(24), 7]) {
      expect(cursorPart.objectId(value), String(value)).toBeUndefined();
    }
  });
});

describe("pageArgs", () => {
  const refusal = (args: PageArgs) => {
    try {
      pageArgs(args);
      return "read";
    } catch (error) {
      const { extensions } = error as { extensions?: { code?: string; field?: string } };
      return `${extensions?.code} ${extensions?.field}`;
    }
  };

  it("pages forward by default, and with first/after", () => {
    expect(pageArgs({})).toEqual({ backward: false, size: 20, cursor: null, cursorField: "after" });
    expect(pageArgs({}, 8).size).toBe(8);
    expect(pageArgs({ first: 5, after: "c" })).toEqual({
      backward: false,
      size: 5,
      cursor: "c",
      cursorField: "after",
    });
    expect(pageArgs({ first: 5, after: null, last: null, before: null }).backward).toBe(false);
  });

  it("pages backward with last/before, or before alone with the default size", () => {
    expect(pageArgs({ last: 3 })).toEqual({ backward: true, size: 3, cursor: null, cursorField: "before" });
    expect(pageArgs({ last: MAX_PAGE_SIZE, before: "c" })).toEqual({
      backward: true,
      size: MAX_PAGE_SIZE,
      cursor: "c",
      cursorField: "before",
    });
    expect(pageArgs({ before: "c" })).toMatchObject({ backward: true, size: 20 });
  });

  it("refuses mixed directions, naming the argument that does not belong", () => {
    expect(refusal({ first: 2, last: 2 })).toBe("BAD_USER_INPUT last");
    expect(refusal({ after: "a", before: "b" })).toBe("BAD_USER_INPUT before");
    expect(refusal({ last: 2, after: "a" })).toBe("BAD_USER_INPUT after");
    expect(refusal({ first: 2, before: "b" })).toBe("BAD_USER_INPUT before");
  });

  it("refuses sizes outside 1..MAX_PAGE_SIZE at first or last", () => {
    for (const size of [0, -1, MAX_PAGE_SIZE + 1, 1.5, Number.NaN]) {
      expect(refusal({ first: size }), String(size)).toBe("BAD_USER_INPUT first");
      expect(refusal({ last: size }), String(size)).toBe("BAD_USER_INPUT last");
    }
  });

  it("names before when a backward cursor is not one of the field's", () => {
    const page = pageArgs({ last: 2, before: encodeCursor(["x"]) });
    try {
      readCursor(page.cursor, [cursorPart.uuid], page.cursorField);
      expect.unreachable();
    } catch (error) {
      const { message, extensions } = error as { message: string; extensions: { field?: string } };
      expect(extensions.field).toBe("before");
      expect(message).toBe("before is not a cursor returned by this field.");
    }
  });
});

describe("toPagedConnection", () => {
  const items = Array.from({ length: 7 }, (_, i) => i);
  const cursorOf = (n: number) => encodeCursor([n]);
  const at = (cursor: string | null) =>
    cursor === null ? null : (readCursor(cursor, [cursorPart.integer(0, 99)])?.[0] ?? null);
  /** What a repository returns: up to size + 1 items past the cursor, in the direction of travel. */
  const fetch = (page: Page) => {
    const position = at(page.cursor);
    const travel = page.backward ? [...items].reverse() : items;
    const beyond =
      position === null ? travel : travel.filter((n) => (page.backward ? n < position : n > position));
    return beyond.slice(0, page.size + 1);
  };
  const load = (args: PageArgs) => {
    const page = pageArgs(args);
    return toPagedConnection(fetch(page), page, items.length, cursorOf);
  };
  const nodes = (connection: { edges: { node: number }[] }) => connection.edges.map((edge) => edge.node);

  it("forward: pages in list order, hasNextPage exact, hasPreviousPage when a cursor was given", () => {
    const firstPage = load({ first: 3 });
    expect(nodes(firstPage)).toEqual([0, 1, 2]);
    expect(firstPage.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: cursorOf(0),
      endCursor: cursorOf(2),
    });
    const last = load({ first: 3, after: cursorOf(3) });
    expect(nodes(last)).toEqual([4, 5, 6]);
    expect(last.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it("backward: the page before the cursor in list order, hasPreviousPage exact", () => {
    const end = load({ last: 3 });
    expect(nodes(end)).toEqual([4, 5, 6]);
    expect(end.pageInfo).toEqual({
      hasNextPage: false,
      hasPreviousPage: true,
      startCursor: cursorOf(4),
      endCursor: cursorOf(6),
    });
    const middle = load({ last: 3, before: end.pageInfo.startCursor });
    expect(nodes(middle)).toEqual([1, 2, 3]);
    expect(middle.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const start = load({ last: 3, before: middle.pageInfo.startCursor });
    expect(nodes(start)).toEqual([0]);
    expect(start.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const nothing = load({ last: 3, before: cursorOf(0) });
    expect(nothing.edges).toEqual([]);
    expect(nothing.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: null,
      endCursor: null,
    });
  });

  it("a page that is exactly the rest has no more that way", () => {
    expect(load({ last: 7 }).pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    expect(load({ first: 7 }).pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it("every size: backward from the end is the forward sequence reversed, cursors interchangeable", () => {
    for (let size = 1; size <= 8; size++) {
      const forward: number[] = [];
      let after: string | null = null;
      for (;;) {
        const page = load({ first: size, after });
        forward.push(...nodes(page));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      const backward: number[] = [];
      let before: string | null = null;
      for (;;) {
        const page = load({ last: size, before });
        backward.unshift(...nodes(page));
        if (!page.pageInfo.hasPreviousPage) break;
        before = page.pageInfo.startCursor;
      }
      expect(forward).toEqual(items);
      expect(backward).toEqual(items);
      // A forward page's end cursor pages back to just before it, a backward page's start cursor on.
      const page = load({ first: size });
      expect(nodes(load({ last: 8, before: page.pageInfo.endCursor }))).toEqual(nodes(page).slice(0, -1));
      const back = load({ last: size });
      expect(nodes(load({ first: 8, after: back.pageInfo.startCursor }))).toEqual(nodes(back).slice(1));
    }
  });
});
