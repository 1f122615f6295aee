import type { OrderSnapshot, ShipmentSnapshot } from "@nexus/events";

/**
 * Every message notifications sends, and the data its templates need. Links arrive built (from
 * the store's configured URLs), so templates only lay out what they are given.
 */
export interface MessageData {
  /** Confirm an email address (after register or an email change). Transactional. */
  EMAIL_VERIFICATION: { name: string; verifyUrl: string; expiresAt: string };
  /** Reset a password; `purpose: "invite"` for an account staff created without one. Transactional. */
  PASSWORD_RESET: { name: string; resetUrl: string; expiresAt: string; purpose: "reset" | "invite" };
  /** The password was changed: if it was not you, reset it. Transactional. */
  PASSWORD_CHANGED: { name: string; via: "reset" | "change"; resetRequestUrl: string };
  ORDER_CONFIRMED: { name: string; orderId: string; orderUrl: string; order: OrderSnapshot };
  /** Why it failed, and whether its lines are back in the cart. */
  ORDER_REJECTED: {
    name: string;
    orderId: string;
    reason: string;
    linesReturnedToCart: boolean;
    cartUrl: string;
    order: OrderSnapshot;
  };
  ORDER_CANCELLED: { name: string; orderId: string; reason: string; orderUrl: string; order: OrderSnapshot };
  ORDER_SHIPPED: {
    name: string;
    orderId: string;
    trackingNumber: string | null;
    orderUrl: string;
    order: OrderSnapshot;
    /** One parcel of an order shipped in several: what it holds, and whether it was the last. */
    shipment?: ShipmentSnapshot;
  };
  /** Delivered: asks for a review of each product. */
  ORDER_DELIVERED: {
    name: string;
    orderId: string;
    orderUrl: string;
    order: OrderSnapshot;
    reviewUrls: { productId: string; productName: string; url: string }[];
  };
  REFUND_ISSUED: {
    name: string;
    orderId: string | null;
    currencyCode: string;
    amount: number;
    lines: { productId: string; productName: string | null; quantity: number; unitPrice: number }[];
    reason: string;
    orderUrl: string | null;
  };
  /** A wishlisted product can be bought again. */
  BACK_IN_STOCK: { name: string; productId: string; productName: string; productUrl: string };
  /** Staff: a product's available stock is at or below its threshold. */
  LOW_STOCK: {
    productId: string;
    sku: string | null;
    available: number;
    threshold: number;
    adminUrl: string;
  };
  /** Staff: a consumer gave up on an event after its last attempt; it waits in the failed set. */
  EVENT_FAILED: {
    consumer: string;
    eventId: string;
    eventType: string;
    attempts: number;
    error: string;
    failedAt: string;
    adminUrl: string;
  };
}

export type MessageType = keyof MessageData;

export const MESSAGE_TYPES = [
  "EMAIL_VERIFICATION",
  "PASSWORD_RESET",
  "PASSWORD_CHANGED",
  "ORDER_CONFIRMED",
  "ORDER_REJECTED",
  "ORDER_CANCELLED",
  "ORDER_SHIPPED",
  "ORDER_DELIVERED",
  "REFUND_ISSUED",
  "BACK_IN_STOCK",
  "LOW_STOCK",
  "EVENT_FAILED",
] as const satisfies readonly MessageType[];

/** Messages about the account's security: always sent by email, whatever the preferences say. */
export const TRANSACTIONAL_MESSAGE_TYPES: readonly MessageType[] = [
  "EMAIL_VERIFICATION",
  "PASSWORD_RESET",
  "PASSWORD_CHANGED",
];

/** One message with its data, as stored in the delivery log and handed to `renderMessage`. */
export type Message = { [T in MessageType]: { type: T; data: MessageData[T] } }[MessageType];

/** The store as messages name it (from configuration: STORE_NAME, STORE_URL, STORE_SUPPORT_EMAIL). */
export interface StoreInfo {
  name: string;
  url: string;
  supportEmail: string;
}

/** What a template produces: one subject, an HTML body and its plain-text alternative. */
export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
  /** One line for the in-app inbox. */
  summary: string;
}
