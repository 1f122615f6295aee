/**
 * Following an order after checkout. The store settles it asynchronously (inventory reserves
 * the stock, then payment is captured), so the order starts PENDING. `orderUpdated` sends the
 * order as it is now, then again at every status change: this follows it until it is settled.
 */
import type { StorefrontClient } from "./client.ts";
import type { OrderStatus, OrderUpdatesSubscription } from "./gql/graphql.ts";
import { OrderUpdatesDocument } from "./gql/graphql.ts";

export const OrderUpdates = OrderUpdatesDocument;

export type TrackedOrder = NonNullable<OrderUpdatesSubscription["orderUpdated"]>;

/** Statuses an order leaves only by a person's action (shipping, cancelling), or never. */
export const SETTLED: readonly OrderStatus[] = [
  "CONFIRMED",
  "REJECTED",
  "CANCELLED",
  "PARTIALLY_SHIPPED",
  "SHIPPED",
  "DELIVERED",
];

export interface FollowOptions {
  /** The signed-in customer's access token: only they (and staff) can follow the order. */
  accessToken: string;
  /** Called with each status the order is seen in, first the one it has now. */
  onStatus?: (order: TrackedOrder) => void;
  /** Gives up after this long (default 60 s). */
  timeoutMs?: number;
}

/**
 * Follows the order until it is settled (SETTLED); the order as it is then. A dropped
 * connection is resumed by the client, and the first payload after it is the current state, so
 * no change is missed.
 */
export async function followOrder(
  client: StorefrontClient,
  orderId: string,
  options: FollowOptions,
): Promise<TrackedOrder> {
  const { timeoutMs = 60_000 } = options;
  if (!(timeoutMs > 0)) throw new Error("Following an order needs a positive timeoutMs");
  const signal = AbortSignal.timeout(timeoutMs);
  let last: TrackedOrder | null = null;
  try {
    for await (const { orderUpdated } of client.subscribe(
      OrderUpdates,
      { id: orderId },
      { accessToken: options.accessToken, signal },
    )) {
      if (!orderUpdated) throw new Error(`Order ${orderId} is not one of this customer's orders`);
      if (orderUpdated.status !== last?.status) options.onStatus?.(orderUpdated);
      last = orderUpdated;
      if (SETTLED.includes(orderUpdated.status)) return orderUpdated;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  throw new Error(`Order ${orderId} is still ${last?.status ?? "unseen"} after ${timeoutMs} ms`);
}
