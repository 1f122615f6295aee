import { cursorPart, encodeCursor, readCursor } from "@nexus/core";
import { type RawBuilder, sql } from "kysely";

/**
 * Where a newest-first page of rows keyed by (created_at, id) continues. `createdAt` is the
 * timestamp as PostgreSQL prints it (`created_at::text`): a JS Date would drop the
 * microseconds, and with them rows created in the same millisecond.
 */
export interface Position {
  createdAt: string;
  id: string;
}

export const encodePosition = (position: Position): string => encodeCursor([position.createdAt, position.id]);

/** The position an `after` cursor names, every part checked so that PostgreSQL accepts it. */
export function decodePosition(after: string | null | undefined): Position | null {
  const position = readCursor(after, [cursorPart.postgresTimestamp, cursorPart.uuid]);
  return position && { createdAt: position[0], id: position[1] };
}

/** Selects a row's position key; pair with `positioned` to read it back. */
export const POSITION_KEY = sql<string>`created_at::text`.as("position_key");

/** Rows strictly after `after` in newest-first (created_at, id) order. */
export const afterPosition = (after: Position): RawBuilder<boolean> =>
  sql<boolean>`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`;

/** Moves the selected position key of each row into a `position`. */
export const positioned = <Row extends { id: string; position_key: string }>(rows: Row[]) =>
  rows.map(({ position_key, ...row }) => ({ ...row, position: { createdAt: position_key, id: row.id } }));
