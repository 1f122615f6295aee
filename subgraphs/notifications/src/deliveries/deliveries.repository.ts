import { type Kysely, sql, type Transaction } from "kysely";
import type { Database, DeliveryChannel, DeliveryStatus } from "../db/database.ts";

type Db = Kysely<Database> | Transaction<Database>;

export interface NewDelivery {
  idempotency_key: string;
  event_id: string;
  message_type: string;
  channel: DeliveryChannel;
  user_id: string | null;
  email: string | null;
  data: unknown;
  status: DeliveryStatus;
  last_error?: string | null;
  message_id?: string | null;
  sent_at?: Date | null;
}

/**
 * Inserts deliveries, skipping any whose idempotency key exists: a cause applied twice, or by
 * two workers at once, queues each message once. Returns how many were new.
 */
export async function insertDeliveries(db: Db, rows: readonly NewDelivery[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db
    .insertInto("deliveries")
    .values(rows.map((row) => ({ ...row, data: JSON.stringify(row.data) })))
    .onConflict((oc) => oc.column("idempotency_key").doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

export interface ClaimedEmail {
  id: string;
  idempotency_key: string;
  message_type: string;
  email: string;
  data: unknown;
  attempts: number;
  message_id: string | null;
}

/**
 * Claims up to `limit` emails that are due: each claimed row counts an attempt and is leased
 * (`next_attempt_at` moves `leaseMs` ahead), so no other sender takes it while this one works.
 * Rows another sender is claiming are skipped, not waited for.
 */
export async function claimDueEmails(db: Db, limit: number, leaseMs: number): Promise<ClaimedEmail[]> {
  const result = await sql<ClaimedEmail>`
    UPDATE deliveries SET attempts = attempts + 1,
      next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000})
    WHERE id IN (
      SELECT id FROM deliveries
      WHERE status = 'QUEUED' AND channel = 'EMAIL' AND next_attempt_at <= now()
      ORDER BY next_attempt_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id, idempotency_key, message_type, email, data, attempts, message_id`.execute(db);
  return result.rows;
}

/** Records a send; only a row still QUEUED changes (a deleted account's row is gone). */
export async function markSent(
  db: Db,
  id: string,
  sent: { messageId: string; providerResponse: string },
): Promise<void> {
  await db
    .updateTable("deliveries")
    .set({
      status: "SENT",
      sent_at: sql<Date>`now()`,
      message_id: sent.messageId,
      provider_response: sent.providerResponse,
      last_error: null,
    })
    .where("id", "=", id)
    .where("status", "=", "QUEUED")
    .execute();
}

/** Records a failed attempt: another one after `retryInMs`, or none (`retryInMs` null: FAILED). */
export async function markAttemptFailed(
  db: Db,
  id: string,
  failure: { error: string; messageId: string; retryInMs: number | null },
): Promise<void> {
  await db
    .updateTable("deliveries")
    .set({
      status: failure.retryInMs === null ? "FAILED" : "QUEUED",
      last_error: failure.error,
      message_id: failure.messageId,
      next_attempt_at:
        failure.retryInMs === null
          ? sql<Date>`now()`
          : sql<Date>`now() + make_interval(secs => ${failure.retryInMs / 1000})`,
    })
    .where("id", "=", id)
    .where("status", "=", "QUEUED")
    .execute();
}

/**
 * A deleted account's personal data leaves the log: its inbox and its unsent emails go, and the
 * record of what was sent keeps no address and no content.
 */
export async function forgetRecipient(db: Db, userId: string): Promise<void> {
  await db
    .deleteFrom("deliveries")
    .where("user_id", "=", userId)
    .where((eb) => eb.or([eb("channel", "=", "IN_APP"), eb("status", "=", "QUEUED")]))
    .execute();
  await db
    .updateTable("deliveries")
    .set({ email: null, data: "{}", last_error: null })
    .where("user_id", "=", userId)
    .execute();
}

/** Records that staff are being told of a failed event; false when they were already. */
export async function insertFailedEventAlert(db: Db, consumer: string, eventId: string): Promise<boolean> {
  const result = await db
    .insertInto("failed_event_alerts")
    .values({ consumer, event_id: eventId })
    .onConflict((oc) => oc.columns(["consumer", "event_id"]).doNothing())
    .executeTakeFirst();
  return result.numInsertedOrUpdatedRows === 1n;
}
