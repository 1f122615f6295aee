import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "@nexus/core";
import { buildSchema, GraphQLError, parse } from "graphql";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { GatewayContext } from "../edge/context.ts";
import type { SubscribeRequest, Subscriptions } from "./subscriptions.ts";

/** How often a connection is pinged; one that does not answer by the next ping is dropped. */
const KEEP_ALIVE_MS = 12_000;
/** What an `x-request-id` from a caller may look like to be kept (as on HTTP requests). */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * graphql-ws calls its `subscribe` hook only for an operation it sees as a subscription; this
 * stands in for the client's operation, which the gateway runs itself through Apollo Server.
 */
const PLACEHOLDER_SCHEMA = buildSchema("type Query { _ws: Boolean } type Subscription { _ws: Boolean }");
const PLACEHOLDER_DOCUMENT = parse("subscription { _ws }");

export interface WebSocketOptions {
  subscriptions: Subscriptions;
  /** The gateway's context for a request: token or API key verified, a client over its rate refused. */
  context: (req: IncomingMessage) => Promise<GatewayContext>;
  /** Largest message accepted, like the largest HTTP body. */
  maxPayloadBytes: number;
  production: boolean;
  logger: Logger;
}

export interface WebSocketEndpoint {
  /** The HTTP server's `upgrade` listener: `/graphql` becomes a graphql-ws connection. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every connection (1001 Going away); clients reconnect to another replica. */
  close(): Promise<void>;
}

/**
 * GraphQL over WebSocket (the `graphql-ws` protocol, subprotocol `graphql-transport-ws`) at
 * `/graphql`. The connection is authenticated once, at `connection_init`: the token from
 * `connectionParams.authorization` (browsers cannot set headers on a WebSocket) or the upgrade
 * request's `Authorization`, or a partner's `x-api-key` the same ways. A refused connection is
 * closed with 4401 and the reason. Each `subscribe` is a subscription of the gateway's
 * (subscriptions.ts); the connection is pinged every 12 seconds.
 */
export function createWebSocketEndpoint(options: WebSocketOptions): WebSocketEndpoint {
  const { subscriptions, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  const pending = new WeakMap<object, { request: SubscribeRequest; context: GatewayContext }>();

  const server = useServer<Record<string, unknown>, { gateway: GatewayContext }>(
    {
      isProd: options.production,
      async onConnect(ctx) {
        const { request, socket } = ctx.extra;
        const params = ctx.connectionParams ?? {};
        for (const name of ["authorization", "x-api-key"] as const) {
          const value = params[name] ?? params[name === "authorization" ? "Authorization" : "X-Api-Key"];
          if (typeof value === "string") request.headers[name] = value;
        }
        const received = request.headers["x-request-id"];
        if (typeof received !== "string" || !REQUEST_ID.test(received)) {
          request.headers["x-request-id"] = randomUUID();
        }
        try {
          ctx.extra.gateway = await options.context(request);
          return true;
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          socket.close(CloseCode.Unauthorized, error.message.slice(0, 120));
          return false;
        }
      },
      onSubscribe(ctx, _id, payload) {
        const context = ctx.extra.gateway;
        if (!context) return [new GraphQLError("The connection is not initialised.")];
        const contextValue = {};
        pending.set(contextValue, {
          request: {
            query: payload.query,
            variables: payload.variables ?? null,
            operationName: payload.operationName ?? null,
            extensions: payload.extensions ?? null,
          },
          context,
        });
        return { schema: PLACEHOLDER_SCHEMA, document: PLACEHOLDER_DOCUMENT, contextValue };
      },
      subscribe(args) {
        const entry =
          typeof args.contextValue === "object" && args.contextValue !== null
            ? pending.get(args.contextValue)
            : undefined;
        if (!entry) throw new Error("a WebSocket subscription lost its request");
        return subscriptions.subscribe(entry.request, entry.context);
      },
    },
    wss,
    KEEP_ALIVE_MS,
  );

  return {
    upgrade(req, socket, head) {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (path !== "/graphql") {
        socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
    },
    async close() {
      try {
        await server.dispose();
      } catch (error) {
        logger.warn("closing WebSocket connections failed", { error });
      }
    },
  };
}
