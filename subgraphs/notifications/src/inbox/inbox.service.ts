import {
  type Connection,
  cursorPart,
  encodeCursor,
  isUuid,
  pageSize,
  readCursor,
  userError,
} from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.ts";
import type { StoreInfo } from "../mail/message-types.ts";
import type { UserError } from "../user-error.ts";
import { type NotificationModel, toNotification } from "./inbox.model.ts";
import { countInbox, listInbox, markRead } from "./inbox.repository.ts";

export interface InboxDeps {
  db: Kysely<Database>;
  store: StoreInfo;
}

const CURSOR = [cursorPart.tag("inbox"), cursorPart.postgresTimestamp, cursorPart.uuid] as const;

/** A page of the user's inbox, newest first. */
export async function inbox(
  deps: InboxDeps,
  userId: string,
  args: { first?: number | null; after?: string | null; unreadOnly?: boolean | null },
): Promise<Connection<NotificationModel>> {
  const first = pageSize(args.first);
  const after = readCursor(args.after, CURSOR);
  const unreadOnly = args.unreadOnly ?? false;
  const [rows, totalCount] = await Promise.all([
    listInbox(deps.db, userId, {
      unreadOnly,
      after: after ? [after[1], after[2]] : null,
      limit: first + 1,
    }),
    countInbox(deps.db, userId, unreadOnly),
  ]);
  const edges = rows.slice(0, first).map((row) => {
    const node = toNotification(row, encodeCursor(["inbox", row.created_at_text, row.id]), deps.store);
    return { cursor: node.cursor, node };
  });
  return {
    edges,
    totalCount,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

export const unreadCount = (deps: Pick<InboxDeps, "db">, userId: string): Promise<number> =>
  countInbox(deps.db, userId, true);

const MAX_IDS = 100;

export interface MarkReadResult {
  markedCount: number;
  unreadNotificationCount: number;
  userErrors: UserError[];
}

/** Marks the user's messages read: the ones in `ids` or all. Others' ids match nothing. */
export async function markNotificationsRead(
  deps: Pick<InboxDeps, "db">,
  userId: string,
  input: { ids?: readonly string[] | null; all?: boolean | null },
): Promise<MarkReadResult> {
  const ids = input.ids ?? null;
  const all = input.all ?? false;
  const refuse = async (error: UserError): Promise<MarkReadResult> => ({
    markedCount: 0,
    unreadNotificationCount: await unreadCount(deps, userId),
    userErrors: [error],
  });
  if ((ids === null) === !all) {
    return refuse(userError("INVALID_INPUT", "Give either ids or all: true.", ["input"]));
  }
  if (ids !== null && (ids.length === 0 || ids.length > MAX_IDS)) {
    return refuse(userError("INVALID_INPUT", `Give 1 to ${MAX_IDS} ids.`, ["input", "ids"]));
  }
  const bad = ids?.findIndex((id) => !isUuid(id)) ?? -1;
  if (bad >= 0) {
    return refuse(userError("INVALID_ID", "This is not a notification id.", ["input", "ids", String(bad)]));
  }
  const markedCount = await markRead(deps.db, userId, all ? null : [...new Set(ids)]);
  return { markedCount, unreadNotificationCount: await unreadCount(deps, userId), userErrors: [] };
}
