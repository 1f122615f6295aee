/**
 * Following an order after checkout. The store settles it asynchronously (inventory reserves
 * the stock, then payment is captured), so the order starts PENDING. The gateway serves no
 * subscriptions yet, so this polls `order(id)` with backoff; when it does, this one function
 * becomes a subscription and its callers stay as they are.
 */
import type { StorefrontClient } from "./client.ts";
import type { OrderStatus, OrderTrackingQuery } from "./gql/graphql.ts";
import { graphql } from "./gql/index.ts";

export const OrderTracking = graphql(`
  query OrderTracking($id: ID!) {
    order(id: $id) {
      id
      status
      statusHistory {
        status
        at
        reason
      }
      payment {
        status
        amount {
          amount
          currencyCode
        }
        declineReason
      }
      total {
        amount
        currencyCode
      }
      updatedAt
    }
  }
`);

export type TrackedOrder = NonNullable<OrderTrackingQuery["order"]>;

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
  /** The signed-in customer's access token: only they (and staff) can read the order. */
  accessToken: string;
  /** Called with each status the order is seen in, first the one it has now. */
  onStatus?: (order: TrackedOrder) => void;
  /** Gives up after this long (default 60 s). */
  timeoutMs?: number;
  /** The first wait between polls, doubled after each up to `maxDelayMs` (defaults 250 ms, 5 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
}

/** Polls the order until it is settled (SETTLED); the order as it is then. */
export async function followOrder(
  client: StorefrontClient,
  orderId: string,
  options: FollowOptions,
): Promise<TrackedOrder> {
  const { timeoutMs = 60_000, initialDelayMs = 250, maxDelayMs = 5_000 } = options;
  if (!(initialDelayMs > 0 && maxDelayMs >= initialDelayMs && timeoutMs > 0)) {
    throw new Error("Following an order needs 0 < initialDelayMs <= maxDelayMs and a positive timeoutMs");
  }
  const deadline = Date.now() + timeoutMs;
  let delay = initialDelayMs;
  let seen: OrderStatus | null = null;
  for (;;) {
    const { order } = await client.request(
      OrderTracking,
      { id: orderId },
      { accessToken: options.accessToken, ...(options.signal ? { signal: options.signal } : {}) },
    );
    if (!order) throw new Error(`Order ${orderId} is not one of this customer's orders`);
    if (order.status !== seen) {
      seen = order.status;
      options.onStatus?.(order);
    }
    if (SETTLED.includes(order.status)) return order;
    if (Date.now() + delay > deadline) {
      throw new Error(`Order ${orderId} is still ${order.status} after ${timeoutMs} ms`);
    }
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, maxDelayMs);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", abort, { once: true });
  });
}
