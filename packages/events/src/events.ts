import { type Address, type ConfigOf, DEFAULT_REDIS_URL, env, type TraceCarrier } from "@nexus/core";
import { z } from "zod";

/**
 * The events that cross subgraph boundaries. Payloads carry ids and snapshots, never
 * references into another subgraph's database. Add a type here, then route it below.
 */
export interface EventPayloads {
  /**
   * An order was placed and awaits stock. Lines carry the prices snapshotted at checkout. The
   * envelope's `occurredAt` is when the order was placed (for an imported order, its invoice date).
   * Fields marked optional were added later: events queued before them lack them.
   */
  OrderPlaced: {
    orderId: string;
    /** Null for a guest sale (imported lines without a customer). */
    customerId: string | null;
    currencyCode: string;
    /** The shipping country, ISO 3166-1 alpha-2; null when the order has none. */
    countryCode?: string | null;
    /**
     * True for an order imported from a store's history: it was delivered long ago, so inventory
     * reserves nothing for it and the saga does not run; its OrderConfirmed and OrderDelivered follow.
     */
    historical?: boolean;
    lines: {
      productId: string;
      quantity: number;
      unitPrice: number;
      /** The product's name when the order was placed. */
      productName?: string;
      /** The product's catalog category id when the order was placed; null when it has none. */
      categoryId?: string | null;
      /**
       * What discounts took off quantity × unitPrice (0 when absent): the line's revenue is what
       * is left. Tax and shipping are not revenue and are not in the lines.
       */
      discount?: number;
    }[];
  };
  /** Inventory reserved every line of the order. */
  InventoryReserved: { orderId: string };
  /** Inventory could not reserve at least one line, so it reserved none. */
  InventoryRejected: {
    orderId: string;
    lines: { productId: string; requested: number; available: number }[];
  };
  /** A reservation was not confirmed in time; its stock is available again. */
  ReservationExpired: { orderId: string };
  /**
   * Payment was captured for a reserved order; inventory keeps its reservation until shipping,
   * and insights counts the order's lines (from its OrderPlaced) as sales from now on.
   */
  OrderConfirmed: { orderId: string };
  /**
   * The order failed after inventory reserved it (payment declined, or a confirmed order
   * refunded because its reservation expired); inventory releases its stock, and insights no
   * longer counts it as a sale.
   */
  OrderRejected: { orderId: string; reason: string };
  /**
   * The order was cancelled (any capture refunded); inventory releases its stock, and insights
   * no longer counts it as a sale.
   */
  OrderCancelled: { orderId: string; reason: string };
  /**
   * Units of the order left the warehouse; inventory commits their reservation (on hand and
   * reserved both drop). Without `lines` (and in events queued before it existed) the whole order
   * shipped at once; with them, one shipment of a split order, those units only.
   */
  OrderShipped: { orderId: string; lines?: { productId: string; quantity: number }[] };
  /** The order reached its customer; catalog marks their reviews of these products as verified purchases. */
  OrderDelivered: { orderId: string; customerId: string; productIds: string[] };
  /**
   * Money went back to a customer after the sale stood (staff refunding units or an amount of a
   * shipped order with refundOrder, or an imported `C` invoice). Revenue drops on the day of the
   * refund, not of the sale. `orderId` is the order returned against, null when the source does
   * not say (imported returns are linked to the customer's latest earlier order with the product
   * when there is one). Inventory puts `restock`ed lines back on hand.
   */
  OrderRefunded: {
    refundId: string;
    orderId: string | null;
    /** Null for a guest return. */
    customerId: string | null;
    currencyCode: string;
    /**
     * Minor units refunded: the sum of the lines' quantity * unitPrice, or for a refund of an
     * amount (no lines) that amount.
     */
    amount: number;
    /** Quantities returned, as positive numbers; empty for a refund of an amount. */
    lines: { productId: string; quantity: number; unitPrice: number }[];
    reason: string;
    /** True for a return imported from a store's history. */
    historical?: boolean;
    /** The returned units go back on hand (added later: absent means false). */
    restock?: boolean;
  };
  /**
   * A signed-in customer's cart changed (added, updated, removed, cleared, or emptied by checkout);
   * the lines are the whole cart after the change, empty when it is empty. Insights keeps the
   * latest cart per customer for the abandoned-cart list.
   */
  CartUpdated: {
    customerId: string;
    /** Null when the cart is empty or no line has a price. */
    currencyCode: string | null;
    lines: { productId: string; quantity: number; unitPrice: number | null }[];
  };
  /**
   * An order moved to a new status (every transition orders makes, never for imported history).
   * Notifications tells the customer; the snapshot holds what a message needs, so no consumer
   * reads orders' database.
   */
  OrderStatusChanged: {
    orderId: string;
    /** Null for a guest order; then `guestEmail` says where to write. */
    customerId: string | null;
    /** The email a guest checkout gave; null for a customer's order. */
    guestEmail: string | null;
    status: OrderStatusName;
    previousStatus: OrderStatusName | null;
    /** Why, for REJECTED and CANCELLED. */
    reason: string | null;
    /** For SHIPPED and PARTIALLY_SHIPPED, when staff gave one: the latest shipment's. */
    trackingNumber: string | null;
    /**
     * The shipment that caused a PARTIALLY_SHIPPED or SHIPPED, when it did not hold the whole
     * order (one of several); absent when the order shipped at once, and in older events.
     */
    shipment?: ShipmentSnapshot;
    /** For REJECTED: the order's lines were put back into the customer's cart. */
    linesReturnedToCart: boolean;
    order: OrderSnapshot;
  };
  /**
   * A product's available stock rose from zero: wishlists holding it may tell their owners, and
   * catalog's search ranks it as in stock again.
   */
  ProductBackInStock: { productId: string; available: number };
  /** A product's available stock fell to zero: catalog's search ranks it after what is in stock. */
  ProductOutOfStock: { productId: string };
  /** A product's available stock fell to or below its low-stock threshold (once per crossing). */
  StockLow: { productId: string; sku: string | null; available: number; threshold: number };
  /**
   * A wishlisted product is back in stock; one event per customer whose wishlist holds it, sent
   * by the wishlist's owner (orders) when it hears ProductBackInStock.
   */
  WishlistItemBackInStock: { customerId: string; productId: string; productName: string | null };
  /** An account was created (registered, imported, made by staff, or by the create-admin command). */
  UserRegistered: { user: UserSnapshot };
  /** An account's email, name, role or verification changed; `changed` lists which. */
  UserChanged: { user: UserSnapshot; changed: ("email" | "name" | "role" | "emailVerified")[] };
  /** An account was deleted: its personal data must go from every projection of it. */
  UserDeleted: { userId: string };
  /**
   * Someone asked to reset the password of an account that exists and has an email (also sent
   * when staff create an account without a password: `purpose` then says "invite"). The token is
   * sealed (`sealForServices`): only a service holding the subgraph secret can open it.
   */
  PasswordResetRequested: {
    userId: string;
    email: string;
    name: string;
    sealedToken: string;
    expiresAt: string;
    purpose: "reset" | "invite";
  };
  /** An email address needs verifying (after register or an email change); the token is sealed. */
  EmailVerificationRequested: {
    userId: string;
    email: string;
    name: string;
    sealedToken: string;
    expiresAt: string;
  };
  /** An account's password was changed (by reset or by the user): tell its owner. */
  PasswordChanged: { userId: string; email: string; name: string; via: "reset" | "change" };
}

/** The statuses an order moves through, as orders' schema names them. */
export type OrderStatusName =
  | "PENDING"
  | "CONFIRMED"
  | "REJECTED"
  | "CANCELLED"
  | "PARTIALLY_SHIPPED"
  | "SHIPPED"
  | "DELIVERED";

/** One shipment of an order shipped in several: what a message about it shows. */
export interface ShipmentSnapshot {
  carrier: string | null;
  trackingNumber: string | null;
  lines: { productId: string; productName: string; quantity: number }[];
  /** True when this shipment sent the order's last units. */
  complete: boolean;
}

/** What a customer-facing message needs to show an order. Amounts are minor units of `currencyCode`. */
export interface OrderSnapshot {
  currencyCode: string;
  total: number;
  /**
   * How the total is made (absent in events from before it): total = subtotal − discount +
   * shipping, plus tax unless `taxIncluded`. Discount counts what came off the lines and the
   * shipping; shipping is the method's rate before a free-shipping discount.
   */
  breakdown?: { subtotal: number; discount: number; shipping: number; tax: number; taxIncluded: boolean };
  lines: { productId: string; productName: string; quantity: number; unitPrice: number }[];
  shippingAddress: Address | null;
  placedAt: string;
}

/** An account as other services may know it: what notifications needs to write to someone. */
export interface UserSnapshot {
  id: string;
  /** Null for an imported customer without one. */
  email: string | null;
  name: string;
  role: "CUSTOMER" | "ADMIN" | "PARTNER";
  emailVerified: boolean;
}

export type EventType = keyof EventPayloads;

export interface EventEnvelope<T extends EventType = EventType> {
  /** UUID; also the BullMQ job id and the consumers' idempotency key. */
  id: string;
  type: T;
  /** The entity the event is about, e.g. the order id. */
  aggregateId: string;
  occurredAt: string;
  payload: EventPayloads[T];
  /**
   * W3C trace context of the relay's publish span, set on the job when the transaction that
   * wrote the event was traced: the consumer's span continues that trace (tracing.ts).
   */
  trace?: TraceCarrier;
}

/** Subgraphs that consume events; each gets its own queue so every one sees every event it subscribes to. */
export type Consumer = "catalog" | "orders" | "inventory" | "insights" | "notifications";

/** BullMQ queues are competing consumers, so fan-out is one queue per subscriber. */
export const SUBSCRIBERS: { readonly [T in EventType]: readonly Consumer[] } = {
  OrderPlaced: ["inventory", "insights"],
  InventoryReserved: ["orders"],
  InventoryRejected: ["orders"],
  ReservationExpired: ["orders"],
  OrderConfirmed: ["inventory", "insights"],
  OrderRejected: ["inventory", "insights"],
  OrderCancelled: ["inventory", "insights"],
  OrderShipped: ["inventory", "insights"],
  OrderDelivered: ["catalog", "insights"],
  OrderRefunded: ["inventory", "insights", "notifications"],
  CartUpdated: ["insights"],
  OrderStatusChanged: ["notifications"],
  ProductBackInStock: ["orders", "catalog"],
  ProductOutOfStock: ["catalog"],
  StockLow: ["notifications"],
  WishlistItemBackInStock: ["notifications"],
  UserRegistered: ["notifications"],
  UserChanged: ["notifications"],
  UserDeleted: ["orders", "notifications"],
  PasswordResetRequested: ["notifications"],
  EmailVerificationRequested: ["notifications"],
  PasswordChanged: ["notifications"],
};

export const queueName = (consumer: Consumer): string => `events.${consumer}`;

/**
 * `REDIS_URL`, `EVENTS_PREFIX`, `OUTBOX_POLL_MS`, `OUTBOX_BATCH_SIZE`, `EVENT_ATTEMPTS`,
 * `EVENT_BACKOFF_MS`, `EVENT_CONCURRENCY` and `EVENT_BATCH_SIZE`, read the same way by every
 * service that uses events: a service spreads these fields into its own schema. Retry settings
 * travel on each job, so they are the producer's: `relaySettings(config)` passes them to its
 * relay with the relay's own; `consumerSettings(config)` gives a consumer its own. Insights and
 * notifications read their consumer's concurrency from a variable of their own instead of
 * `EVENT_CONCURRENCY`.
 */
export const eventsConfigSchema = z.object({
  redisUrl: env.url("REDIS_URL", DEFAULT_REDIS_URL, ["redis:", "rediss:"]),
  /** BullMQ key prefix. Every service of one deployment must use the same one, or events go unheard. */
  eventsPrefix: env.string("EVENTS_PREFIX", "nexus"),
  /** How often a producer's outbox relay looks for events a post-commit flush did not publish. */
  outboxPollMs: env.int("OUTBOX_POLL_MS", 500, { min: 10, max: 60_000 }),
  /** Most outbox rows a relay publishes in one transaction (one addBulk per queue). */
  outboxBatchSize: env.int("OUTBOX_BATCH_SIZE", 500, { min: 1, max: 10_000 }),
  /** Attempts a consumer gets at an event before the job is parked in the failed set. */
  eventAttempts: env.int("EVENT_ATTEMPTS", 8, { min: 1, max: 100 }),
  /** Delay before the first retry; each further retry waits twice as long. */
  eventBackoffMs: env.int("EVENT_BACKOFF_MS", 1000, { min: 10, max: 3_600_000 }),
  /**
   * Jobs a consumer holds at once; its batches are made of them (startEventConsumer). Equal to
   * the batch size by default: one batch in flight, so a consumer's batches never wait on each
   * other's row locks (or deadlock on them, as inventory's on shared stock rows did).
   */
  consumerConcurrency: env.int("EVENT_CONCURRENCY", 32, { min: 1, max: 1024 }),
  /** Most events a consumer applies in one transaction; 1 applies each on its own. */
  eventBatchSize: env.int("EVENT_BATCH_SIZE", 32, { min: 1, max: 1000 }),
});

export type EventsConfig = ConfigOf<typeof eventsConfigSchema>;
