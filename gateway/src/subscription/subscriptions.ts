import type { ApolloServer, GraphQLRequest } from "@apollo/server";
import type { Logger } from "@nexus/core";
import { FINAL_ORDER_STATUSES, type OrderUpdateNotice } from "@nexus/events";
import { type ExecutionResult, GraphQLError } from "graphql";
import { clientKey, type GatewayContext } from "../edge/context.ts";
import type { SubscriptionContext, SubscriptionRun } from "./execution.ts";
import type { NoticeHub } from "./notices.ts";

/** What a client sends to subscribe, over either transport. */
export interface SubscribeRequest {
  query?: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
}

/**
 * A payload as the transports' libraries take it: errors as GraphQLError, which serialize to
 * exactly the formatted (and masked) errors Apollo Server answered with.
 */
export type Payload = ExecutionResult;

/** A stream of payloads the transports drain; `return()` ends it at once, waiting or not. */
export type PayloadStream = AsyncGenerator<Payload, void, undefined>;

export interface SubscriptionsOptions {
  apollo: ApolloServer<GatewayContext>;
  hub: NoticeHub;
  /** Open subscriptions one client may hold on this gateway process. */
  maxPerClient: number;
  logger: Logger;
  /** Told the number of open subscriptions each time it changes (the metrics gauge). */
  onOpenChange?: (open: number) => void;
}

export interface Subscriptions {
  subscribe(request: SubscribeRequest, context: GatewayContext): PayloadStream;
  /** Open subscriptions now. */
  readonly open: number;
  /** Completes every open subscription (gateway stop): clients reconnect elsewhere. */
  closeAll(): void;
}

type Trigger =
  | { kind: "notice"; notice: OrderUpdateNotice }
  | { kind: "resync" }
  | { kind: "expired" }
  | { kind: "closed" };

const errorPayload = (code: string, message: string, extra: Record<string, unknown> = {}): Payload => ({
  errors: [new GraphQLError(message, { extensions: { code, ...extra } })],
});

/**
 * Serves `orderUpdated` and `myOrderUpdates`. Every payload is one run of the subscriber's own
 * operation through Apollo Server (`executeOperation`, with the context verified at subscribe
 * time), so persisted-operation rules, limits, cost budget and access apply to each payload as
 * to a query; the executor runs it as the `order` query (execution.ts).
 *
 * - `orderUpdated`: the current state first, then a payload after each notice for the order;
 *   several notices that arrive during one run make one further run. After a reconnect to Redis
 *   the order is read again and sent only if it changed. Completes at a final status; an order
 *   the viewer may not see ends the subscription with NOT_FOUND.
 * - `myOrderUpdates`: nothing at subscribe time (the run only checks the operation), then a
 *   payload for each notice about one of the viewer's orders.
 * - A subscription lives no longer than its access token: at its expiry it ends with
 *   UNAUTHENTICATED, and the client subscribes again with a fresh token.
 */
export function createSubscriptions(options: SubscriptionsOptions): Subscriptions {
  const { apollo, hub, maxPerClient, logger } = options;
  const openByClient = new Map<string, number>();
  const closers = new Set<() => void>();
  let open = 0;

  const changeOpen = (key: string, by: number) => {
    const count = (openByClient.get(key) ?? 0) + by;
    if (count > 0) openByClient.set(key, count);
    else openByClient.delete(key);
    open += by;
    options.onOpenChange?.(open);
  };

  const execute = async (
    request: SubscribeRequest,
    context: GatewayContext,
    run: SubscriptionRun,
  ): Promise<Payload> => {
    const contextValue: SubscriptionContext = {
      ...context,
      observed: { operationName: null },
      subscription: run,
    };
    // Apollo Server reads the request's fields and may replace them (persisted operations): a copy each run.
    const graphQLRequest: GraphQLRequest = {
      // graphql-sse and graphql-ws require a query string: "" stands for none when an id is sent.
      ...(request.query === undefined || (request.query === "" && request.extensions?.persistedQuery)
        ? {}
        : { query: request.query }),
      ...(request.variables ? { variables: { ...request.variables } } : {}),
      ...(request.operationName ? { operationName: request.operationName } : {}),
      ...(request.extensions ? { extensions: { ...request.extensions } } : {}),
    };
    const response = await apollo.executeOperation(graphQLRequest, { contextValue });
    if (response.body.kind !== "single") {
      return errorPayload("BAD_REQUEST", "Incremental delivery is not served over subscriptions.");
    }
    const { data, errors, extensions } = response.body.singleResult;
    return {
      ...(data === undefined ? {} : { data }),
      ...(errors
        ? {
            errors: errors.map(
              (error) => new GraphQLError(error.message, { path: error.path, extensions: error.extensions }),
            ),
          }
        : {}),
      ...(extensions ? { extensions } : {}),
    };
  };

  const orderOf = (payload: Payload, run: SubscriptionRun): unknown =>
    run.responseKey === undefined ? undefined : payload.data?.[run.responseKey];

  async function* serve(
    request: SubscribeRequest,
    context: GatewayContext,
    inbox: Inbox<Trigger>,
  ): PayloadStream {
    const run: SubscriptionRun = {};
    // Listening starts before the first run, so a change committed while it reads the order is
    // not lost: notices that arrive meanwhile are kept until the run says which order it is.
    const early: OrderUpdateNotice[] = [];
    const stopEarly = hub.onAny((notice) => early.push(notice));
    let first: Payload;
    try {
      first = await execute(request, context, run);
    } finally {
      stopEarly();
    }
    // Refused (limits, persisted rules, access, validation) or not a subscription: said once, then done.
    if (run.field === undefined || (first.errors && !first.data)) {
      yield first;
      return;
    }
    const isFinal = () =>
      (FINAL_ORDER_STATUSES as readonly (string | null | undefined)[]).includes(run.status);
    // Null with errors of its own (UNAUTHENTICATED, a subgraph down) says why; null alone is NOT_FOUND.
    const notFound = (payload: Payload): Payload => {
      if (payload.errors?.length) return payload;
      const error = new GraphQLError("No order with this id is visible to you.", {
        path: [run.responseKey ?? "orderUpdated"],
        extensions: { code: "NOT_FOUND" },
      });
      return { ...payload, errors: [error] };
    };

    const stops: (() => void)[] = [];
    try {
      if (run.field === "orderUpdated") {
        if (orderOf(first, run) == null) {
          yield notFound(first);
          return;
        }
        yield first;
        if (isFinal()) return;
        let last = contentOf(first);
        const orderId = (run.orderId ?? "").toLowerCase();
        stops.push(
          hub.onOrder(orderId, (notice) => inbox.push({ kind: "notice", notice })),
          hub.onResync(() => inbox.push({ kind: "resync" })),
        );
        for (const notice of early) {
          if (notice.orderId.toLowerCase() === orderId) inbox.push({ kind: "notice", notice });
        }
        for (;;) {
          const triggers = await inbox.takeAll();
          if (triggers.some((t) => t.kind === "closed")) return;
          if (triggers.some((t) => t.kind === "expired")) {
            yield expiredPayload;
            return;
          }
          const payload = await execute(request, context, run);
          if (orderOf(payload, run) == null) {
            yield notFound(payload);
            return;
          }
          const text = contentOf(payload);
          const resyncOnly = triggers.every((t) => t.kind === "resync");
          if (!(resyncOnly && text === last)) yield payload;
          last = text;
          if (isFinal()) return;
        }
      }

      // myOrderUpdates: the field is @authenticated, so a run got this far only with a viewer.
      const userId = context.viewer?.userId;
      if (!userId) return;
      stops.push(hub.onUser(userId, (notice) => inbox.push({ kind: "notice", notice })));
      for (const notice of early) {
        if (notice.userId?.toLowerCase() === userId.toLowerCase()) inbox.push({ kind: "notice", notice });
      }
      for (;;) {
        const triggers = await inbox.takeAll();
        if (triggers.some((t) => t.kind === "closed")) return;
        if (triggers.some((t) => t.kind === "expired")) {
          yield expiredPayload;
          return;
        }
        // One run per order, in the order the notices came.
        const orders = [...new Set(triggers.flatMap((t) => (t.kind === "notice" ? [t.notice.orderId] : [])))];
        for (const orderId of orders) {
          run.target = orderId;
          const payload = await execute(request, context, run);
          if (orderOf(payload, run) == null && !payload.errors) continue;
          yield payload;
        }
      }
    } finally {
      for (const stop of stops) stop();
    }
  }

  return {
    get open() {
      return open;
    },
    closeAll() {
      for (const close of [...closers]) close();
    },
    subscribe(request, context) {
      const key = clientKey(context);
      if ((openByClient.get(key) ?? 0) >= maxPerClient) {
        return once(
          errorPayload(
            "TOO_MANY_SUBSCRIPTIONS",
            `This client already has ${maxPerClient} open subscriptions, the most allowed; complete one first.`,
            { limit: maxPerClient },
          ),
        );
      }
      changeOpen(key, 1);
      const inbox = createInbox<Trigger>();
      const close = () => inbox.push({ kind: "closed" });
      closers.add(close);
      const expiry = tokenExpiry(context.forwardedHeaders.authorization);
      const timer =
        expiry === null
          ? undefined
          : setTimeout(() => inbox.push({ kind: "expired" }), Math.max(0, expiry - Date.now()));
      timer?.unref();
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        closers.delete(close);
        if (timer) clearTimeout(timer);
        changeOpen(key, -1);
      };
      const inner = serve(request, context, inbox);
      const stream: PayloadStream = {
        async next() {
          try {
            const step = await inner.next();
            if (step.done) release();
            return step;
          } catch (error) {
            release();
            logger.error("subscription failed", { error });
            return { done: true, value: undefined };
          }
        },
        async return() {
          // Wakes a subscription waiting for a notice; the generator then ends by itself.
          close();
          release();
          await inner.return(undefined);
          return { done: true, value: undefined };
        },
        async throw(error: unknown) {
          close();
          release();
          return inner.throw(error);
        },
        [Symbol.asyncIterator]() {
          return stream;
        },
        async [Symbol.asyncDispose]() {
          await stream.return(undefined);
        },
      };
      return stream;
    },
  };
}

/** What a payload says of the order; `extensions.cost` changes with every run and is left out. */
const contentOf = (payload: Payload): string =>
  JSON.stringify({ data: payload.data, errors: payload.errors });

const expiredPayload: Payload = errorPayload(
  "UNAUTHENTICATED",
  "The access token of this subscription expired; subscribe again with a fresh token.",
);

async function* once(payload: Payload): PayloadStream {
  yield payload;
}

/**
 * When the bearer token expires, in epoch milliseconds; null without one. The gateway verified
 * the token when the subscription started, so its `exp` claim is read without checking again.
 */
export function tokenExpiry(authorization: string | undefined): number | null {
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const payload = token?.split(".")[1];
  if (!payload) return null;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const exp = claims && typeof claims === "object" && "exp" in claims ? claims.exp : undefined;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** A queue a subscription waits on: `takeAll` resolves with everything pushed since the last take. */
interface Inbox<T> {
  push(value: T): void;
  takeAll(): Promise<T[]>;
}

function createInbox<T>(): Inbox<T> {
  let pending: T[] = [];
  let wake: (() => void) | null = null;
  return {
    push(value) {
      pending.push(value);
      wake?.();
      wake = null;
    },
    async takeAll() {
      if (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const taken = pending;
      pending = [];
      return taken;
    },
  };
}
