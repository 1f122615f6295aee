import type { ProcessedEventsDatabase } from "@nexus/events";
import type { ColumnType, Generated } from "kysely";

export type ContactRole = "CUSTOMER" | "ADMIN" | "PARTNER";

/**
 * What notifications knows of an account, from users' events only. `version_at` is the
 * `occurredAt` of the event the row was last written from, so an older snapshot arriving late
 * never overwrites a newer one. A deleted account stays as a tombstone (no personal data) so a
 * late UserChanged cannot bring it back.
 */
export interface ContactsTable {
  user_id: string;
  email: string | null;
  name: string | null;
  role: ContactRole | null;
  email_verified: boolean;
  deleted: boolean;
  version_at: Date;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type DeliveryChannel = "EMAIL" | "IN_APP";
export type DeliveryStatus = "QUEUED" | "SENT" | "FAILED" | "SKIPPED";

/**
 * One message to one recipient on one channel: the send log, the email work queue and the
 * in-app inbox. `idempotency_key` is unique per (event, recipient, channel), so an event applied
 * twice never queues a second message. Email rows are claimed by senders with
 * `FOR UPDATE SKIP LOCKED`; a claim pushes `next_attempt_at` forward (a lease), so a sender
 * that dies mid-send leaves the row to be retried later, never to be sent by two at once.
 */
export interface DeliveriesTable {
  id: Generated<string>;
  idempotency_key: string;
  /** The event that caused the message. */
  event_id: string;
  message_type: string;
  channel: DeliveryChannel;
  /** The account written to; null for a guest or a configured staff address. */
  user_id: string | null;
  /** Where an email goes; null for IN_APP rows and for accounts without an address. */
  email: string | null;
  /** The message's data (message-types.ts), rendered when sent or shown. */
  data: ColumnType<unknown, string, string>;
  status: DeliveryStatus;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date, Date | undefined, Date>;
  last_error: string | null;
  /** The Message-ID the email was sent with: stable per delivery, so retries carry the same one. */
  message_id: string | null;
  /** The SMTP server's final reply, which names its own id for the message ("queued as ..."). */
  provider_response: string | null;
  sent_at: Date | null;
  read_at: Date | null;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** A choice a user made; a missing row means the default (on). */
export interface NotificationPreferencesTable {
  user_id: string;
  message_type: string;
  channel: DeliveryChannel;
  enabled: boolean;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** One row per (queue, event id) staff were told about, so each failure is reported once. */
export interface FailedEventAlertsTable {
  consumer: string;
  event_id: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface Database extends ProcessedEventsDatabase {
  contacts: ContactsTable;
  deliveries: DeliveriesTable;
  notification_preferences: NotificationPreferencesTable;
  failed_event_alerts: FailedEventAlertsTable;
}
