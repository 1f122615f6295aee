import type { Logger } from "@nexus/core";
import { type OrderUpdateNotice, orderUpdatesChannel, parseOrderUpdateNotice } from "@nexus/events";
import type { Redis } from "ioredis";

/** Event ids remembered to drop a notice announced twice (the relay announces at least once). */
const REMEMBERED_EVENTS = 4096;

type Listener<T> = (value: T) => void;

/**
 * Fans order update notices out to this process's subscribers, by order id and by customer id,
 * and tells the subscribers to read their order again when notices may have been missed.
 */
export interface NoticeHub {
  onOrder(orderId: string, listener: Listener<OrderUpdateNotice>): () => void;
  onUser(userId: string, listener: Listener<OrderUpdateNotice>): () => void;
  /** Every notice: held only while a subscription does not know its order yet. */
  onAny(listener: Listener<OrderUpdateNotice>): () => void;
  /** Called after the channel was lost and joined again: notices may have been missed. */
  onResync(listener: Listener<void>): () => void;
  dispatch(notice: OrderUpdateNotice): void;
  resync(): void;
}

export function createNoticeHub(): NoticeHub {
  const byOrder = new Map<string, Set<Listener<OrderUpdateNotice>>>();
  const byUser = new Map<string, Set<Listener<OrderUpdateNotice>>>();
  const resyncs = new Set<Listener<void>>();
  const everything = new Set<Listener<OrderUpdateNotice>>();
  const seen = new Set<string>();

  const add = <T>(map: Map<string, Set<Listener<T>>>, key: string, listener: Listener<T>) => {
    let listeners = map.get(key);
    if (!listeners) {
      listeners = new Set();
      map.set(key, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && map.get(key) === listeners) map.delete(key);
    };
  };
  // A copy, so a listener that unsubscribes while being called does not disturb the loop.
  const call = <T>(listeners: Set<Listener<T>> | undefined, value: T) => {
    for (const listener of [...(listeners ?? [])]) listener(value);
  };

  return {
    onOrder: (orderId, listener) => add(byOrder, orderId.toLowerCase(), listener),
    onUser: (userId, listener) => add(byUser, userId.toLowerCase(), listener),
    onAny(listener) {
      everything.add(listener);
      return () => everything.delete(listener);
    },
    onResync(listener) {
      resyncs.add(listener);
      return () => resyncs.delete(listener);
    },
    dispatch(notice) {
      if (seen.has(notice.eventId)) return;
      seen.add(notice.eventId);
      // Sets iterate in insertion order: the oldest id goes first.
      if (seen.size > REMEMBERED_EVENTS) seen.delete(seen.values().next().value as string);
      call(everything, notice);
      call(byOrder.get(notice.orderId.toLowerCase()), notice);
      if (notice.userId) call(byUser.get(notice.userId.toLowerCase()), notice);
    },
    resync: () => call(resyncs, undefined),
  };
}

export interface NoticeListener {
  stop(): Promise<void>;
}

/**
 * One Redis subscriber connection per gateway process (a duplicate of `redis`, since a
 * connection in subscriber mode runs no other command) listening to orders' channel. ioredis
 * reconnects and subscribes again by itself; each time it does, the hub is told to resync,
 * because what was published while the connection was down is gone.
 */
export async function listenForOrderUpdates(options: {
  redis: Redis;
  eventsPrefix: string;
  hub: NoticeHub;
  logger: Logger;
}): Promise<NoticeListener> {
  const { hub, logger } = options;
  const channel = orderUpdatesChannel(options.eventsPrefix);
  // Named after its channel, so an operator (or a test) can tell it from the other connections.
  const subscriber = options.redis.duplicate({ connectionName: `nexus-gateway:${channel}` });
  let joined = false;
  subscriber.on("message", (from: string, message: string) => {
    if (from !== channel) return;
    try {
      hub.dispatch(parseOrderUpdateNotice(message));
    } catch (error) {
      logger.warn("ignored a malformed order update notice", { error });
    }
  });
  subscriber.on("error", (error: unknown) => logger.warn("order updates listener: Redis error", { error }));
  subscriber.on("ready", () => {
    // ioredis subscribes again on reconnect (autoResubscribe) before emitting "ready".
    if (joined) {
      logger.info("order updates listener reconnected; subscribers read their orders again");
      hub.resync();
    }
    joined = true;
  });
  await subscriber.subscribe(channel);
  joined = true;
  return {
    async stop() {
      subscriber.disconnect();
    },
  };
}
