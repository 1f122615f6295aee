import { type Kysely, sql, type Transaction } from "kysely";
import type { Database, DeliveryChannel } from "../db/database.ts";

type Db = Kysely<Database> | Transaction<Database>;

export interface PreferenceRow {
  message_type: string;
  channel: DeliveryChannel;
  enabled: boolean;
}

/** The choices a user made; types and channels without a row are on. */
export async function findPreferences(
  db: Db,
  userId: string,
  messageType?: string,
): Promise<PreferenceRow[]> {
  let query = db
    .selectFrom("notification_preferences")
    .select(["message_type", "channel", "enabled"])
    .where("user_id", "=", userId);
  if (messageType !== undefined) query = query.where("message_type", "=", messageType);
  return query.execute();
}

/** The choices of many users for one message type, in one query (staff messages go to every admin). */
export async function findPreferencesOfUsers(
  db: Db,
  userIds: readonly string[],
  messageType: string,
): Promise<(PreferenceRow & { user_id: string })[]> {
  if (userIds.length === 0) return [];
  return db
    .selectFrom("notification_preferences")
    .select(["user_id", "message_type", "channel", "enabled"])
    .where("user_id", "in", userIds)
    .where("message_type", "=", messageType)
    .execute();
}

export async function savePreferences(db: Db, userId: string, rows: readonly PreferenceRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto("notification_preferences")
    .values(rows.map((row) => ({ user_id: userId, ...row })))
    .onConflict((oc) =>
      oc.columns(["user_id", "message_type", "channel"]).doUpdateSet((eb) => ({
        enabled: eb.ref("excluded.enabled"),
        updated_at: sql<Date>`now()`,
      })),
    )
    .execute();
}

export async function deletePreferencesOf(db: Db, userId: string): Promise<void> {
  await db.deleteFrom("notification_preferences").where("user_id", "=", userId).execute();
}
