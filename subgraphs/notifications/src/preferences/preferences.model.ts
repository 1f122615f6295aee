import type { DeliveryChannel } from "../db/database.ts";
import { MESSAGE_TYPES, type MessageType } from "../mail/message-types.ts";
import { channelsOf, isStaffOnly, isTransactional } from "../messages/messages.model.ts";

/** What NotificationPreference resolvers receive. */
export interface NotificationPreferenceModel {
  type: MessageType;
  channel: DeliveryChannel;
  enabled: boolean;
  /** Transactional: always on. */
  locked: boolean;
}

/** The message types a user may receive: staff-only types for staff alone. */
export const typesFor = (isStaff: boolean): MessageType[] =>
  MESSAGE_TYPES.filter((type) => isStaff || !isStaffOnly(type));

/** Every (type, channel) the user can receive, each with its setting (on unless a row says off). */
export function preferencesOf(
  isStaff: boolean,
  rows: readonly { message_type: string; channel: DeliveryChannel; enabled: boolean }[],
): NotificationPreferenceModel[] {
  return typesFor(isStaff).flatMap((type) =>
    channelsOf(type).map((channel) => {
      const locked = isTransactional(type);
      const row = rows.find((r) => r.message_type === type && r.channel === channel);
      return { type, channel, enabled: locked || (row?.enabled ?? true), locked };
    }),
  );
}
