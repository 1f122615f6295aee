import { userError, type Viewer } from "@nexus/core";
import type { Kysely } from "kysely";
import type { Database, DeliveryChannel } from "../db/database.ts";
import { MESSAGE_TYPES, type MessageType } from "../mail/message-types.ts";
import { channelsOf, isStaffOnly, isTransactional } from "../messages/messages.model.ts";
import type { UserError } from "../user-error.ts";
import { type NotificationPreferenceModel, preferencesOf } from "./preferences.model.ts";
import { findPreferences, savePreferences } from "./preferences.repository.ts";

export interface PreferencesDeps {
  db: Kysely<Database>;
}

const isStaff = (viewer: Viewer): boolean => viewer.role === "ADMIN";

export async function notificationPreferences(
  deps: PreferencesDeps,
  viewer: Viewer,
): Promise<NotificationPreferenceModel[]> {
  return preferencesOf(isStaff(viewer), await findPreferences(deps.db, viewer.userId));
}

const MAX_CHANGES = 50;

/**
 * Saves the listed settings together, or none of them when any is refused: a transactional type
 * switched off, a channel the type does not use, a staff-only type for a customer, or one
 * (type, channel) listed twice.
 */
export async function updateNotificationPreferences(
  deps: PreferencesDeps,
  viewer: Viewer,
  input: { preferences: readonly { type: string; channel: string; enabled: boolean }[] },
): Promise<{ preferences: NotificationPreferenceModel[]; userErrors: UserError[] }> {
  const userErrors: UserError[] = [];
  const { preferences } = input;
  if (preferences.length === 0 || preferences.length > MAX_CHANGES) {
    userErrors.push(
      userError("INVALID_INPUT", `Give 1 to ${MAX_CHANGES} preferences.`, ["input", "preferences"]),
    );
  }
  const seen = new Set<string>();
  preferences.forEach((preference, index) => {
    const field = ["input", "preferences", String(index)];
    const type = preference.type as MessageType;
    const channel = preference.channel as DeliveryChannel;
    if (!MESSAGE_TYPES.includes(type)) {
      userErrors.push(userError("INVALID_INPUT", "Unknown message type.", [...field, "type"]));
      return;
    }
    const key = `${type}:${channel}`;
    if (seen.has(key)) {
      userErrors.push(userError("DUPLICATE_PREFERENCE", `${type} on ${channel} is listed twice.`, field));
      return;
    }
    seen.add(key);
    if (isStaffOnly(type) && !isStaff(viewer)) {
      userErrors.push(userError("STAFF_ONLY", `${type} messages are for staff only.`, [...field, "type"]));
    } else if (!channelsOf(type).includes(channel)) {
      userErrors.push(
        userError("CHANNEL_NOT_AVAILABLE", `${type} messages are not sent on ${channel}.`, [
          ...field,
          "channel",
        ]),
      );
    } else if (isTransactional(type) && !preference.enabled) {
      userErrors.push(
        userError(
          "TRANSACTIONAL_REQUIRED",
          `${type} messages keep your account safe and cannot be switched off.`,
          [...field, "enabled"],
        ),
      );
    }
  });
  if (userErrors.length === 0) {
    await savePreferences(
      deps.db,
      viewer.userId,
      preferences.map((p) => ({
        message_type: p.type,
        channel: p.channel as DeliveryChannel,
        enabled: p.enabled,
      })),
    );
  }
  return { preferences: await notificationPreferences(deps, viewer), userErrors };
}
