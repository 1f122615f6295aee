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

/** The argument a cursor came in: `after` going forward, `before` going backward. */
export type CursorArgument = "after" | "before";

const invalidCursor = (field: CursorArgument) =>
  badUserInput(`${field} is not a cursor returned by this field.`, field);

/**
 * The JSON array inside a cursor, checked for shape only. Fields read their values with
 * `readCursor`, which checks each value too; this is for cursors whose parts depend on a tag.
 * `field` names the argument the cursor came in, for the error.
 */
export function decodeCursor(
  cursor: string | null | undefined,
  arity: number,
  field: CursorArgument = "after",
): (string | number)[] | null {
  if (cursor === null || cursor === undefined) return null;
  if (cursor.length > MAX_CURSOR_LENGTH) throw invalidCursor(field);
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
  throw invalidCursor(field);
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
 * The one way a connection reads its `after` (or `before`, named by `field`): null when absent,
 * else every value checked by its part, so a repository only ever sees values of its own types
 * and ranges. Anything else, a cursor of another field included, is BAD_USER_INPUT at `field`.
 */
export function readCursor<const Parts extends readonly CursorPart<unknown>[]>(
  cursor: string | null | undefined,
  parts: Parts,
  field: CursorArgument = "after",
): PartValues<Parts> | null {
  const values = decodeCursor(cursor, parts.length, field);
  if (values === null) return null;
  const read = parts.map((part, index) => part(values[index]));
  if (read.some((value) => value === undefined)) throw invalidCursor(field);
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

/** The paging arguments of a connection that pages both ways (Relay cursor connections). */
export interface PageArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}

/**
 * Which way a connection pages, validated. Forward: the `size` items after `cursor` (from the
 * start without one), in list order. Backward: the `size` items before `cursor` (up to the end
 * without one). A repository reads backward by flipping its sort and its keyset comparison and
 * fetching `size + 1` rows; `toPagedConnection` puts them back in list order.
 */
export interface Page {
  backward: boolean;
  size: number;
  /** The raw `after` (forward) or `before` (backward); read it with `readCursor(…, page.cursorField)`. */
  cursor: string | null;
  cursorField: CursorArgument;
}

function checkSize(value: number, field: "first" | "last"): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw badUserInput(`${field} must be between 1 and ${MAX_PAGE_SIZE}.`, field);
  }
  return value;
}

const given = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

/**
 * Validates a connection's paging arguments: `first`/`after` page forward, `last`/`before`
 * backward, and the two pairs do not mix (`first` with `last`, `after` with `last` and `before`
 * with `first` are BAD_USER_INPUT naming the argument that does not belong). With none of them,
 * the first `fallback` items; a `before` alone pages backward with `fallback` items.
 */
export function pageArgs(args: PageArgs, fallback = 20): Page {
  if (given(args.first) && given(args.last)) {
    throw badUserInput("Give first (with after) or last (with before), not both.", "last");
  }
  if (given(args.after) && given(args.before)) {
    throw badUserInput("Give after (with first) or before (with last), not both.", "before");
  }
  if (given(args.last) && given(args.after)) {
    throw badUserInput("after pages forward: use it with first, or page back with before.", "after");
  }
  if (given(args.first) && given(args.before)) {
    throw badUserInput("before pages backward: use it with last, or page on with after.", "before");
  }
  if (given(args.last) || given(args.before)) {
    return {
      backward: true,
      size: given(args.last) ? checkSize(args.last, "last") : fallback,
      cursor: args.before ?? null,
      cursorField: "before",
    };
  }
  return {
    backward: false,
    size: given(args.first) ? checkSize(args.first, "first") : fallback,
    cursor: args.after ?? null,
    cursorField: "after",
  };
}

/**
 * Builds a connection from rows fetched with `limit: page.size + 1` in the direction of travel:
 * list order going forward, reversed list order going backward (nearest the cursor first). The
 * extra row only tells whether more lie that way; the page comes back in list order.
 *
 * `pageInfo` follows the Relay cursor connections spec. The flag of the direction of travel is
 * exact (`hasNextPage` going forward, `hasPreviousPage` going backward). The other one the spec
 * leaves to the server; here it is true exactly when a cursor was given: the item the cursor
 * points at lies that way (unless it was deleted since). Paging backward with `before`, that
 * makes `hasNextPage` true; paging backward from the end (`last` alone), false.
 */
export function toPagedConnection<T>(
  rows: readonly T[],
  page: Page,
  totalCount: number,
  cursorOf: (row: T) => string,
): Connection<T> {
  const kept = rows.slice(0, page.size);
  const inOrder = page.backward ? kept.reverse() : kept;
  const edges = inOrder.map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, totalCount, pageInfo: pageInfoOf(page, edges, rows.length > page.size) };
}

/**
 * `pageInfo` for a page already in list order, for connections that build their edges
 * themselves: `more` tells whether items lie beyond the page in the direction of travel.
 */
export function pageInfoOf(page: Page, edges: readonly { cursor: string }[], more: boolean): PageInfo {
  const fromCursor = page.cursor !== null;
  return {
    hasNextPage: page.backward ? fromCursor : more,
    hasPreviousPage: page.backward ? more : fromCursor,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges.at(-1)?.cursor ?? null,
  };
}
