import type { Message, MessageType, StoreInfo } from "../mail/message-types.ts";
import { renderMessage } from "../mail/render.ts";
import { linkOf } from "../messages/messages.model.ts";

/** What Notification resolvers receive: one in-app delivery, rendered. */
export interface NotificationModel {
  id: string;
  type: MessageType;
  title: string;
  summary: string;
  url: string | null;
  createdAt: Date;
  readAt: Date | null;
  /** The position of the message in its inbox, for cursors. */
  cursor: string;
}

/** Renders an inbox row with the same templates as its email, so both say the same thing. */
export function toNotification(
  row: { id: string; message_type: string; data: unknown; created_at: Date; read_at: Date | null },
  cursor: string,
  store: StoreInfo,
): NotificationModel {
  const message = { type: row.message_type, data: row.data } as Message;
  const rendered = renderMessage(message, store);
  return {
    id: row.id,
    type: message.type,
    title: rendered.subject,
    summary: rendered.summary,
    url: linkOf(message),
    createdAt: row.created_at,
    readAt: row.read_at,
    cursor,
  };
}
