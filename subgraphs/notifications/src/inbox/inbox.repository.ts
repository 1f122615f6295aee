import { type Kysely, sql } from "kysely";
import type { Database } from "../db/database.ts";

export interface InboxRow {
  id: string;
  message_type: string;
  data: unknown;
  read_at: Date | null;
  created_at: Date;
  /** `created_at::text`, microseconds included, for cursors. */
  created_at_text: string;
}

/** A user's in-app messages, newest first, after `after` (created_at text, id). Fetch first + 1. */
export async function listInbox(
  db: Kysely<Database>,
  userId: string,
  options: { unreadOnly: boolean; after: [string, string] | null; limit: number },
): Promise<InboxRow[]> {
  let query = db
    .selectFrom("deliveries")
    .select(["id", "message_type", "data", "read_at", "created_at"])
    .select(sql<string>`created_at::text`.as("created_at_text"))
    .where("user_id", "=", userId)
    .where("channel", "=", "IN_APP");
  if (options.unreadOnly) query = query.where("read_at", "is", null);
  if (options.after) {
    const [createdAt, id] = options.after;
    query = query.where(sql<boolean>`(created_at, id) < (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  return query.orderBy("created_at", "desc").orderBy("id", "desc").limit(options.limit).execute();
}

export async function countInbox(db: Kysely<Database>, userId: string, unreadOnly: boolean): Promise<number> {
  let query = db
    .selectFrom("deliveries")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where("user_id", "=", userId)
    .where("channel", "=", "IN_APP");
  if (unreadOnly) query = query.where("read_at", "is", null);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Marks the user's unread messages read: the ones in `ids`, or all when `ids` is null. Returns how many changed. */
export async function markRead(
  db: Kysely<Database>,
  userId: string,
  ids: readonly string[] | null,
): Promise<number> {
  let query = db
    .updateTable("deliveries")
    .set({ read_at: sql<Date>`now()` })
    .where("user_id", "=", userId)
    .where("channel", "=", "IN_APP")
    .where("read_at", "is", null);
  if (ids !== null) {
    if (ids.length === 0) return 0;
    query = query.where("id", "in", ids);
  }
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
