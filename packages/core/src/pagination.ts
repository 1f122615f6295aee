import { badUserInput } from "./errors.ts";
import { isUuid } from "./ids.ts";

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  totalCount: number;
}

export const MAX_PAGE_SIZE = 100;

/** Validates `first`: absent means `fallback`, otherwise 1..MAX_PAGE_SIZE. */
export function pageSize(first: number | null | undefined, fallback = 20): number {
  if (first === null || first === undefined) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badUserInput(`first must be between 1 and ${MAX_PAGE_SIZE}.`, "first");
  }
  return first;
}

/** Cursors are opaque to clients: base64url of a small JSON array of sort-key values. */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString("base64url");
}

/** Far longer than any cursor Nexus hands out; a longer one is refused before it is decoded. */
const MAX_CURSOR_LENGTH = 1024;

const invalidCursor = () => badUserInput("after is not a cursor returned by this field.", "after");

/**
 * The JSON array inside a cursor, checked for shape only. Fields read their values with
 * `readCursor`, which checks each value too; this is for cursors whose parts depend on a tag.
 */
export function decodeCursor(cursor: string | null | undefined, arity: number): (string | number)[] | null {
  if (cursor === null || cursor === undefined) return null;
  if (cursor.length > MAX_CURSOR_LENGTH) throw invalidCursor();
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(values) &&
      values.length === arity &&
      values.every((v) => typeof v === "string" || typeof v === "number")
    ) {
      return values;
    }
  } catch {
    // fall through to the error below
  }
  throw invalidCursor();
}

/** Reads one value of a cursor: the value as the repository wants it, or undefined when it is not one. */
export type CursorPart<T> = (value: unknown) => T | undefined;

/**
 * The instants a cursor may name: from the Unix epoch to the end of year 9999. Every row Nexus
 * pages through was written inside it, and both ends are well within what JavaScript and
 * PostgreSQL's `timestamptz` represent, so a cursor never carries a date the database refuses.
 */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10000, 0, 1) - 1;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** `timestamptz::text` in a session whose time zone has a whole-hour or minute offset. */
const POSTGRES_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?([+-])(\d{2})(?::(\d{2}))?$/;

const inRange = (time: number) => Number.isFinite(time) && time >= EARLIEST && time <= LATEST;

/** The values `readCursor` understands. Each refuses anything a repository could fail on. */
export const cursorPart = {
  /** A tag that keeps one field's (or sort's) cursors out of another. */
  tag:
    <const T extends string>(tag: T): CursorPart<T> =>
    (value) =>
      value === tag ? tag : undefined,

  /** A whole number from `min` to `max`, both safe integers (e.g. an int4 column's range). */
  integer:
    (min: number, max: number): CursorPart<number> =>
    (value) =>
      typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max
        ? value
        : undefined,

  uuid: ((value) => (typeof value === "string" && isUuid(value) ? value : undefined)) as CursorPart<string>,

  /** A MongoDB ObjectId as 24 lower-case hex characters, as catalog hands product ids out. */
  objectId: ((value) =>
    typeof value === "string" && /^[0-9a-f]{24}$/.test(value) ? value : undefined) as CursorPart<string>,

  /** An instant as `Date#toISOString` writes it, and only a real one (no February 30th). */
  isoInstant: ((value) => {
    if (typeof value !== "string" || !ISO_INSTANT.test(value)) return undefined;
    const date = new Date(value);
    return inRange(date.getTime()) && date.toISOString() === value ? date : undefined;
  }) as CursorPart<Date>,

  /** Milliseconds since the epoch. */
  epochMillis: ((value) =>
    typeof value === "number" && Number.isInteger(value) && inRange(value)
      ? new Date(value)
      : undefined) as CursorPart<Date>,

  /**
   * A timestamp as PostgreSQL prints it (`created_at::text`), kept as text: a JS Date would
   * drop the microseconds. Every part is checked (month 1–12, a day the month has, hours
   * 0–23, an offset under 16 hours), so PostgreSQL never sees one it refuses.
   */
  postgresTimestamp: ((value) => {
    if (typeof value !== "string") return undefined;
    const match = POSTGRES_TIMESTAMP.exec(value);
    if (!match) return undefined;
    const [year, month, day, hour, minute, second, , offsetHours, offsetMinutes] = match
      .slice(1)
      .map((part) => Number(part ?? 0));
    const time = Date.UTC(year ?? 0, (month ?? 0) - 1, day, hour, minute, second);
    const date = new Date(time);
    const real =
      date.getUTCFullYear() === year &&
      date.getUTCMonth() === (month ?? 0) - 1 &&
      date.getUTCDate() === day &&
      date.getUTCHours() === hour &&
      date.getUTCMinutes() === minute &&
      date.getUTCSeconds() === second;
    const offsetOk = (offsetHours ?? 0) <= 15 && (offsetMinutes ?? 0) <= 59;
    return real && offsetOk && inRange(time) ? value : undefined;
  }) as CursorPart<string>,
} as const;

type PartValues<Parts extends readonly CursorPart<unknown>[]> = {
  -readonly [K in keyof Parts]: Parts[K] extends CursorPart<infer T> ? T : never;
};

/**
 * The one way a connection reads its `after`: null when absent, else every value checked by
 * its part, so a repository only ever sees values of its own types and ranges. Anything else,
 * a cursor of another field included, is BAD_USER_INPUT.
 */
export function readCursor<const Parts extends readonly CursorPart<unknown>[]>(
  cursor: string | null | undefined,
  parts: Parts,
): PartValues<Parts> | null {
  const values = decodeCursor(cursor, parts.length);
  if (values === null) return null;
  const read = parts.map((part, index) => part(values[index]));
  if (read.some((value) => value === undefined)) throw invalidCursor();
  return read as PartValues<Parts>;
}

/**
 * Builds a forward connection from rows fetched with `limit: first + 1`
 * (the extra row only tells whether a next page exists).
 */
export function toConnection<T>(
  rows: readonly T[],
  first: number,
  totalCount: number,
  cursorOf: (row: T) => string,
  hasPreviousPage: boolean,
): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    totalCount,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
