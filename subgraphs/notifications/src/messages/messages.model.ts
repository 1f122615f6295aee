import { createHash } from "node:crypto";
import type { EventPayloads, OrderSnapshot } from "@nexus/events";
import type { DeliveryChannel } from "../db/database.ts";
import {
  type Message,
  type MessageData,
  type MessageType,
  TRANSACTIONAL_MESSAGE_TYPES,
} from "../mail/message-types.ts";

export const CHANNELS: readonly DeliveryChannel[] = ["EMAIL", "IN_APP"];

/** Messages for the store's staff only: no customer may receive them or set preferences for them. */
export const STAFF_MESSAGE_TYPES: readonly MessageType[] = ["LOW_STOCK", "EVENT_FAILED"];

export const isTransactional = (type: MessageType): boolean => TRANSACTIONAL_MESSAGE_TYPES.includes(type);
export const isStaffOnly = (type: MessageType): boolean => STAFF_MESSAGE_TYPES.includes(type);

/**
 * The channels a message type can use. Transactional messages carry single-use links, so they go
 * by email only and never sit in an inbox.
 */
export const channelsOf = (type: MessageType): readonly DeliveryChannel[] =>
  isTransactional(type) ? ["EMAIL"] : CHANNELS;

/** A link into the storefront, whatever trailing slash STORE_URL has. */
export function storeLink(storeUrl: string, path: string, query: Record<string, string> = {}): string {
  const url = new URL(path.replace(/^\//, ""), storeUrl.endsWith("/") ? storeUrl : `${storeUrl}/`);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url.toString();
}

/** The key that makes one (cause, recipient, channel) one delivery, however often the cause is applied. */
export const idempotencyKey = (cause: string, recipient: string, channel: DeliveryChannel): string =>
  `${cause}:${recipient}:${channel}`;

/**
 * The Message-ID an email is sent with, derived from its idempotency key: every attempt at one
 * delivery, including one after a crash between sending and recording, carries the same id, so
 * a receiver that drops duplicates by Message-ID drops the repeat.
 */
export function messageIdFor(key: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? "nexus.localhost";
  const digest = createHash("sha256").update(key).digest("hex").slice(0, 40);
  return `<${digest}@${domain}>`;
}

/** The wait before attempt `attempts + 1`: doubling from `baseMs`, capped at an hour. */
export const retryDelayMs = (attempts: number, baseMs: number): number =>
  Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 3_600_000);

/**
 * Whether an SMTP failure is final: the server refused the message with a 5xx reply. 4xx replies
 * (greylisting, a full mailbox for now) and connection errors are worth another attempt.
 */
export function isPermanentFailure(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === "number" && code >= 500 && code < 600;
}

/** The storefront links messages carry. */
export function orderUrl(storeUrl: string, orderId: string): string {
  return storeLink(storeUrl, `account/orders/${encodeURIComponent(orderId)}`);
}

const productUrl = (storeUrl: string, productId: string) =>
  storeLink(storeUrl, `products/${encodeURIComponent(productId)}`);

/** The message an order's new status calls for, if any (a newly placed order gets none). */
export function orderStatusMessage(
  payload: EventPayloads["OrderStatusChanged"],
  name: string,
  storeUrl: string,
): Message | null {
  const { orderId, order } = payload;
  const common = { name, orderId, order, orderUrl: orderUrl(storeUrl, orderId) };
  switch (payload.status) {
    case "CONFIRMED":
      return { type: "ORDER_CONFIRMED", data: common };
    case "REJECTED":
      return {
        type: "ORDER_REJECTED",
        data: {
          name,
          orderId,
          order,
          reason: payload.reason ?? "",
          linesReturnedToCart: payload.linesReturnedToCart,
          cartUrl: storeLink(storeUrl, "cart"),
        },
      };
    case "CANCELLED":
      return { type: "ORDER_CANCELLED", data: { ...common, reason: payload.reason ?? "" } };
    // Each parcel of an order shipped in several is told as a shipping message of its own.
    case "PARTIALLY_SHIPPED":
    case "SHIPPED":
      return {
        type: "ORDER_SHIPPED",
        data: {
          ...common,
          trackingNumber: payload.trackingNumber,
          ...(payload.shipment ? { shipment: payload.shipment } : {}),
        },
      };
    case "DELIVERED":
      return { type: "ORDER_DELIVERED", data: { ...common, reviewUrls: reviewUrls(order, storeUrl) } };
    default:
      return null;
  }
}

function reviewUrls(order: OrderSnapshot, storeUrl: string): MessageData["ORDER_DELIVERED"]["reviewUrls"] {
  const seen = new Set<string>();
  return order.lines.flatMap((line) => {
    if (seen.has(line.productId)) return [];
    seen.add(line.productId);
    const url = storeLink(storeUrl, `products/${encodeURIComponent(line.productId)}/review`);
    return [{ productId: line.productId, productName: line.productName, url }];
  });
}

export function refundMessage(
  payload: EventPayloads["OrderRefunded"],
  name: string,
  storeUrl: string,
): Message {
  return {
    type: "REFUND_ISSUED",
    data: {
      name,
      orderId: payload.orderId,
      currencyCode: payload.currencyCode,
      amount: payload.amount,
      // The event names no products; the template shows ids it cannot name.
      lines: payload.lines.map((line) => ({ ...line, productName: null })),
      reason: payload.reason,
      orderUrl: payload.orderId ? orderUrl(storeUrl, payload.orderId) : null,
    },
  };
}

export function backInStockMessage(
  payload: EventPayloads["WishlistItemBackInStock"],
  name: string,
  storeUrl: string,
): Message {
  return {
    type: "BACK_IN_STOCK",
    data: {
      name,
      productId: payload.productId,
      productName: payload.productName ?? "A product on your wishlist",
      productUrl: productUrl(storeUrl, payload.productId),
    },
  };
}

export function lowStockMessage(payload: EventPayloads["StockLow"], storeUrl: string): Message {
  return {
    type: "LOW_STOCK",
    data: {
      productId: payload.productId,
      sku: payload.sku,
      available: payload.available,
      threshold: payload.threshold,
      adminUrl: storeLink(storeUrl, `admin/inventory/${encodeURIComponent(payload.productId)}`),
    },
  };
}

/** What staff learn of an event a consumer gave up on. */
export interface FailedEventFacts {
  consumer: string;
  eventId: string;
  eventType: string;
  attempts: number;
  error: string;
  failedAt: Date;
}

/** Longest error text a staff message carries: enough to recognise it, never a whole dump. */
const MAX_ERROR_LENGTH = 1000;

export function eventFailedMessage(facts: FailedEventFacts, storeUrl: string): Message {
  return {
    type: "EVENT_FAILED",
    data: {
      consumer: facts.consumer,
      eventId: facts.eventId,
      eventType: facts.eventType,
      attempts: facts.attempts,
      error: facts.error.slice(0, MAX_ERROR_LENGTH),
      failedAt: facts.failedAt.toISOString(),
      adminUrl: storeLink(storeUrl, "admin/events/failed", { consumer: facts.consumer.toUpperCase() }),
    },
  };
}

/** The storefront page a message is about, for the inbox to link to. */
export function linkOf(message: Message): string | null {
  const data = message.data as Partial<
    Record<"orderUrl" | "productUrl" | "cartUrl" | "adminUrl", string | null>
  >;
  return data.orderUrl ?? data.productUrl ?? data.cartUrl ?? data.adminUrl ?? null;
}
