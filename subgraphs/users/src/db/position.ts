import { badUserInput, decodeCursor, encodeCursor, isUuid } from "@nexus/core";

/**
 * Where a newest-first page of rows keyed by (created_at, id) continues. `createdAt` is the
 * timestamp as PostgreSQL prints it (`created_at::text`): a JS Date would drop the
 * microseconds, and with them rows created in the same millisecond.
 */
export interface Position {
  createdAt: string;
  id: string;
}

const POSTGRES_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

export const encodePosition = (position: Position): string => encodeCursor([position.createdAt, position.id]);

export function decodePosition(after: string | null | undefined): Position | null {
  const values = decodeCursor(after, 2);
  if (!values) return null;
  const [createdAt, id] = values.map(String) as [string, string];
  if (!POSTGRES_TIMESTAMP.test(createdAt) || !isUuid(id)) {
    throw badUserInput("after is not a cursor returned by this field.", "after");
  }
  return { createdAt, id };
}
