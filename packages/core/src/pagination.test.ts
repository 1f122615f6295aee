import { describe, expect, it } from "vitest";
import { cursorPart, encodeCursor, readCursor } from "./pagination.ts";

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
