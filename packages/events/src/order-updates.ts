import type { Redis } from "ioredis";
import type { EventEnvelope, OrderStatusName } from "./events.ts";

/**
 * Live order tracking: orders announces every status change on one Redis pub/sub channel that
 * every gateway replica listens to, and each gateway runs its subscribers' selections again.
 * A notice is small on purpose: it says which order changed and whose it is, never what the
 * order holds, so the gateway reads the order through the graph with the subscriber's own
 * credentials and access stays the `order` field's.
 *
 * Pub/sub keeps nothing: a gateway that is reconnecting misses what is published meanwhile.
 * The gateway therefore reads the current state again on every (re)subscribe and after every
 * reconnect to Redis, so a lost notice leaves no subscriber stale for longer than that.
 */
export interface OrderUpdateNotice {
  orderId: string;
  /** The customer's id; null for a guest order. */
  userId: string | null;
  status: OrderStatusName;
  /** When the status changed (the event's time), ISO-8601. */
  at: string;
  /** The OrderStatusChanged event's id: the relay may announce an event more than once. */
  eventId: string;
}

/** Statuses after which an order never changes again (orders' state machine). */
export const FINAL_ORDER_STATUSES: readonly OrderStatusName[] = ["REJECTED", "CANCELLED", "DELIVERED"];

const STATUSES: readonly OrderStatusName[] = [
  "PENDING",
  "CONFIRMED",
  "PARTIALLY_SHIPPED",
  "SHIPPED",
  ...FINAL_ORDER_STATUSES,
];

/** The channel, under the deployment's events prefix (EVENTS_PREFIX), like its queues. */
export const orderUpdatesChannel = (eventsPrefix: string): string => `${eventsPrefix}:orders:updates`;

/** The notices a relay batch holds: one per OrderStatusChanged. */
export function toOrderUpdateNotices(events: readonly EventEnvelope[]): OrderUpdateNotice[] {
  const notices: OrderUpdateNotice[] = [];
  for (const event of events) {
    if (event.type !== "OrderStatusChanged") continue;
    const payload = (event as EventEnvelope<"OrderStatusChanged">).payload;
    notices.push({
      orderId: payload.orderId,
      userId: payload.customerId,
      status: payload.status,
      at: event.occurredAt,
      eventId: event.id,
    });
  }
  return notices;
}

/**
 * The outbox relay's `announce` for orders: publishes each batch's notices in one round trip.
 * Called before the rows are marked published, so a failed publish is retried with the batch.
 */
export function announceOrderUpdates(
  redis: Redis,
  eventsPrefix: string,
): (events: readonly EventEnvelope[]) => Promise<void> {
  const channel = orderUpdatesChannel(eventsPrefix);
  return async (events) => {
    const notices = toOrderUpdateNotices(events);
    if (notices.length === 0) return;
    const pipeline = redis.pipeline();
    for (const notice of notices) pipeline.publish(channel, JSON.stringify(notice));
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
  };
}

/**
 * Reads a message from the channel; anything that is not a notice is an error naming what is
 * wrong, so a listener can log it and go on.
 */
export function parseOrderUpdateNotice(message: string): OrderUpdateNotice {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    throw new Error("order update notice is not JSON");
  }
  if (typeof value !== "object" || value === null) throw new Error("order update notice is not an object");
  const { orderId, userId, status, at, eventId } = value as Record<string, unknown>;
  if (typeof orderId !== "string" || orderId === "") throw new Error("order update notice has no orderId");
  if (userId !== null && typeof userId !== "string") throw new Error("order update notice has a bad userId");
  if (typeof status !== "string" || !(STATUSES as readonly string[]).includes(status)) {
    throw new Error(`order update notice has an unknown status ${JSON.stringify(status)}`);
  }
  if (typeof at !== "string" || Number.isNaN(Date.parse(at)))
    throw new Error("order update notice has a bad time");
  if (typeof eventId !== "string" || eventId === "") throw new Error("order update notice has no eventId");
  return { orderId, userId, status: status as OrderStatusName, at, eventId };
}
