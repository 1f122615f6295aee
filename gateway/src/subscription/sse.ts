import type { IncomingMessage, ServerResponse } from "node:http";
import { type RouteHandler, sendJson } from "@nexus/core";
import { GraphQLError } from "graphql";
import { createHandler } from "graphql-sse";
import type { GatewayContext } from "../edge/context.ts";
import type { Subscriptions } from "./subscriptions.ts";

export interface SseRouteOptions {
  subscriptions: Subscriptions;
  /** The gateway's context for a request: token or API key verified, a client over its rate refused. */
  context: (req: IncomingMessage) => Promise<GatewayContext>;
  /** Largest request body; larger ones are refused with 413. */
  maxBodyBytes: number;
}

interface StreamRequestContext {
  gateway: GatewayContext;
}

/**
 * `POST /graphql/stream`: GraphQL over Server-Sent Events, the `graphql-sse` protocol in its
 * distinct-connections mode (one subscription per request, `Accept: text/event-stream`).
 * graphql-sse writes the events and a heartbeat comment every 12 seconds; the subscription
 * itself is the gateway's (subscriptions.ts). The request is authenticated like any other
 * before the stream opens, so a bad token is HTTP 401 and never a stream.
 */
export interface SseEndpoint {
  route: RouteHandler;
  /**
   * Drops every open stream without a `complete` event (gateway stop): a graphql-sse client
   * takes that as a lost connection and subscribes again, to another replica, where its first
   * payload is the current state. A `complete` would tell it the subscription is over.
   */
  close(): void;
}

export function createSseEndpoint(options: SseRouteOptions): SseEndpoint {
  const open = new Set<ServerResponse>();
  const handler = createHandler<IncomingMessage, StreamRequestContext>({
    // No stream tokens: the single-connection mode, which reserves streams across requests, is off.
    authenticate: () => null,
    onSubscribe: (req, params) =>
      options.subscriptions.subscribe(
        {
          query: params.query,
          variables: params.variables ?? null,
          operationName: params.operationName ?? null,
          extensions: params.extensions ?? null,
        },
        req.context.gateway,
      ),
  });

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.accept !== "text/event-stream") {
      return sendError(res, 406, "NOT_ACCEPTABLE", "Subscribe with Accept: text/event-stream (graphql-sse).");
    }
    let gateway: GatewayContext;
    try {
      gateway = await options.context(req);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return sendError(
        res,
        statusOf(error),
        String(error.extensions.code ?? "BAD_REQUEST"),
        error.message,
        error,
      );
    }
    const body = await readBody(req, options.maxBodyBytes);
    if (body === null) {
      res.setHeader("connection", "close");
      return sendError(
        res,
        413,
        "PAYLOAD_TOO_LARGE",
        `The request body exceeds ${options.maxBodyBytes} bytes.`,
      );
    }

    const [stream, init] = await handler({
      method: req.method ?? "POST",
      url: req.url ?? "/graphql/stream",
      headers: { get: (key) => headerText(req.headers[key]) },
      body,
      raw: req,
      context: { gateway },
    });
    // nginx (ingress-nginx among others) would buffer the events without this.
    if (stream !== null && typeof stream !== "string") res.setHeader("x-accel-buffering", "no");
    res.writeHead(init.status, init.statusText, init.headers);
    if (stream === null || typeof stream === "string") {
      res.end(stream ?? undefined);
      return;
    }
    open.add(res);
    // The client went away, or the gateway stops: end the subscription.
    res.once("close", () => {
      open.delete(res);
      void stream.return(undefined);
    });
    for await (const chunk of stream) {
      if (!res.writable) break;
      res.write(chunk);
    }
    res.end();
  };
  return {
    route,
    close() {
      for (const res of open) res.destroy();
    },
  };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

function statusOf(error: GraphQLError): number {
  const http = error.extensions.http;
  const status = http && typeof http === "object" && "status" in http ? http.status : undefined;
  return typeof status === "number" ? status : 400;
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  error?: GraphQLError,
): void {
  const http = error?.extensions.http;
  const headers = http && typeof http === "object" && "headers" in http ? http.headers : undefined;
  if (headers instanceof Map) for (const [name, value] of headers) res.setHeader(String(name), String(value));
  const { http: _http, ...extensions } = error?.extensions ?? {};
  sendJson(res, status, { errors: [{ message, extensions: { ...extensions, code } }] });
}

/** The body as text, or null when it is larger than allowed. */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | null> {
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
