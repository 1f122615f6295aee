import { oneLine, truncate } from "./format.ts";
import { type Composed, renderHtml, renderText } from "./layout.ts";
import type { Message, RenderedMessage, StoreInfo } from "./message-types.ts";
import { emailVerification, passwordChanged, passwordReset } from "./templates/account.ts";
import {
  backInStock,
  orderCancelled,
  orderConfirmed,
  orderDelivered,
  orderRejected,
  orderShipped,
  refundIssued,
} from "./templates/orders.ts";
import { eventFailed, lowStock } from "./templates/staff.ts";

/** Past this a subject is cut: clients show about 60 characters, and some servers refuse long headers. */
const MAX_SUBJECT = 150;
const MAX_SUMMARY = 200;

function compose(message: Message, store: StoreInfo): Composed {
  switch (message.type) {
    case "EMAIL_VERIFICATION":
      return emailVerification(message.data, store);
    case "PASSWORD_RESET":
      return passwordReset(message.data, store);
    case "PASSWORD_CHANGED":
      return passwordChanged(message.data, store);
    case "ORDER_CONFIRMED":
      return orderConfirmed(message.data, store);
    case "ORDER_REJECTED":
      return orderRejected(message.data, store);
    case "ORDER_CANCELLED":
      return orderCancelled(message.data, store);
    case "ORDER_SHIPPED":
      return orderShipped(message.data, store);
    case "ORDER_DELIVERED":
      return orderDelivered(message.data, store);
    case "REFUND_ISSUED":
      return refundIssued(message.data, store);
    case "BACK_IN_STOCK":
      return backInStock(message.data, store);
    case "LOW_STOCK":
      return lowStock(message.data, store);
    case "EVENT_FAILED":
      return eventFailed(message.data, store);
  }
}

/**
 * Renders a message for email and the inbox: a one-line subject, an HTML body (escaped, links
 * only http(s)), the plain-text alternative made from the same blocks, and a one-line summary.
 * Pure: the same message and store always give the same result, so a retried send sends the
 * same email.
 */
export function renderMessage(message: Message, store: StoreInfo): RenderedMessage {
  const composed = compose(message, store);
  const subject = truncate(oneLine(composed.subject), MAX_SUBJECT);
  const summary = truncate(oneLine(composed.summary), MAX_SUMMARY);
  const final = { ...composed, subject, summary };
  return { subject, summary, html: renderHtml(final, store), text: renderText(final, store) };
}
