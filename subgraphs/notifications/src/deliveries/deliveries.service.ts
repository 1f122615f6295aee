import type { Transaction } from "kysely";
import { type Contact, findAdminContacts, findContact } from "../contacts/contacts.repository.ts";
import type { Database, DeliveryChannel } from "../db/database.ts";
import type { Message, MessageType } from "../mail/message-types.ts";
import { channelsOf, idempotencyKey, isStaffOnly, isTransactional } from "../messages/messages.model.ts";
import {
  findPreferences,
  findPreferencesOfUsers,
  type PreferenceRow,
} from "../preferences/preferences.repository.ts";
import { insertDeliveries, type NewDelivery } from "./deliveries.repository.ts";

/** Who a message is for. */
export type Recipient =
  /** An account, written to at its contact's address (or `email`, when the event names the address). */
  | { kind: "user"; userId: string; email?: string }
  /** An address with no account behind it: a guest's, or a configured staff address. */
  | { kind: "address"; email: string };

export interface QueueRequest {
  /** The event the message comes from (its id is recorded on the delivery). */
  eventId: string;
  /** What makes the message unique besides recipient and channel: the event id, unless one event can cause several. */
  cause: string;
  recipient: Recipient;
  /** The message, given the recipient's name (the contact's, when the event does not say). */
  message: (name: string) => Message;
  /** The name to use when the event names the recipient itself. */
  name?: string;
}

const enabledIn = (rows: readonly PreferenceRow[], type: MessageType, channel: DeliveryChannel) =>
  rows.find((row) => row.message_type === type && row.channel === channel)?.enabled ?? true;

/**
 * Decides which channels a message goes out on and queues one delivery per channel, in the
 * caller's transaction. Transactional messages always go by email; other types follow the
 * user's preferences (on unless switched off); staff messages reach admins only. An account
 * with no address, or none known yet, gets a SKIPPED email row, so the log says why nothing
 * was sent. A deleted account gets nothing. Returns how many deliveries were new.
 */
export async function queueMessage(trx: Transaction<Database>, request: QueueRequest): Promise<number> {
  const { recipient } = request;
  if (recipient.kind === "address") {
    const message = request.message(request.name ?? "");
    return insertDeliveries(trx, [emailRow(request, message, null, recipient.email)]);
  }
  const contact = await findContact(trx, recipient.userId);
  const preferences = isTransactional(probeType(request))
    ? []
    : await findPreferences(trx, recipient.userId, probeType(request));
  return insertDeliveries(trx, rowsForUser(request, contact, preferences));
}

/** Queues a staff message for every admin (by their preferences) and every configured staff address. */
export async function queueStaffMessage(
  trx: Transaction<Database>,
  request: Omit<QueueRequest, "recipient" | "name">,
  staffAddresses: readonly string[],
): Promise<number> {
  const admins = await findAdminContacts(trx);
  const type = probeType({ ...request, recipient: { kind: "address", email: "" } });
  const preferences = await findPreferencesOfUsers(
    trx,
    admins.map((admin) => admin.user_id),
    type,
  );
  const rows = admins.flatMap((admin) =>
    rowsForUser(
      { ...request, recipient: { kind: "user", userId: admin.user_id } },
      admin,
      preferences.filter((row) => row.user_id === admin.user_id),
    ),
  );
  // An admin who is also a configured address hears once, under their account.
  const adminEmails = new Set(admins.map((admin) => admin.email));
  for (const email of new Set(staffAddresses)) {
    if (adminEmails.has(email)) continue;
    rows.push(emailRow(request, request.message(""), null, email));
  }
  return insertDeliveries(trx, rows);
}

/** The message's type, which does not depend on the name. */
const probeType = (request: QueueRequest | Omit<QueueRequest, "recipient">): MessageType =>
  request.message("").type;

function rowsForUser(
  request: QueueRequest,
  contact: Contact | undefined,
  preferences: readonly PreferenceRow[],
) {
  if (request.recipient.kind !== "user" || contact?.deleted) return [];
  const { userId } = request.recipient;
  const message = request.message(request.name ?? contact?.name ?? "");
  if (isStaffOnly(message.type) && contact?.role !== "ADMIN") return [];
  const rows: NewDelivery[] = [];
  for (const channel of channelsOf(message.type)) {
    if (!isTransactional(message.type) && !enabledIn(preferences, message.type, channel)) continue;
    if (channel === "IN_APP") {
      rows.push({
        idempotency_key: idempotencyKey(request.cause, `user:${userId}`, channel),
        event_id: request.eventId,
        message_type: message.type,
        channel,
        user_id: userId,
        email: null,
        data: message.data,
        status: "SENT",
        sent_at: new Date(),
      });
    } else {
      const email = request.recipient.email ?? contact?.email ?? null;
      rows.push(
        emailRow(request, message, userId, email, contact ? null : "no contact known for this account"),
      );
    }
  }
  return rows;
}

function emailRow(
  request: Pick<QueueRequest, "cause" | "eventId">,
  message: Message,
  userId: string | null,
  email: string | null,
  unknownContact: string | null = null,
): NewDelivery {
  const address = email?.toLowerCase() ?? null;
  const recipientKey = userId ? `user:${userId}` : `email:${address}`;
  const base = {
    idempotency_key: idempotencyKey(request.cause, recipientKey, "EMAIL"),
    event_id: request.eventId,
    message_type: message.type,
    channel: "EMAIL" as const,
    user_id: userId,
    email: address,
    data: message.data,
  };
  if (address === null) {
    return { ...base, status: "SKIPPED", last_error: unknownContact ?? "the account has no email address" };
  }
  return { ...base, status: "QUEUED" };
}
