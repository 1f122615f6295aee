import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";
import { type Logger, withLogFields } from "./logger.ts";
import { type CallerCheck, SUBGRAPH_AUTH_CHALLENGE } from "./subgraph-auth.ts";
import { traceRequest } from "./telemetry.ts";

/** Largest request body accepted by default; GraphQL documents past this are refused with 413. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** What an `x-request-id` from a caller may look like to be kept. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** `body` is the request body when the server had to read it first (see `authenticate`). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body?: string) => void | Promise<void>;

export interface HttpServerOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  port: number;
  host?: string;
  logger: Logger;
  /** Builds the per-request context; the request carries a guaranteed `x-request-id`. */
  context: (req: IncomingMessage) => Promise<TContext>;
  /** Extra routes by method and exact path, e.g. `"POST /auth/partner-token"`. */
  routes?: Record<string, RouteHandler>;
  /**
   * Who may call: when set, every request except `/health`, `/ready` (with `readinessCheck`)
   * and `publicRoutes` must come back "authenticated", or it gets 401 and nothing else (no
   * data, no schema, no route). It sees the whole body, read first. A subgraph sets it to `createSubgraphAuthenticator`.
   */
  authenticate?: (req: IncomingMessage, body: string) => CallerCheck;
  /** Routes served to anyone even with `authenticate`, e.g. `"GET /.well-known/jwks.json"`. */
  publicRoutes?: Record<string, RouteHandler>;
  /** Readiness probe behind `/health`: throw when a store is unreachable. */
  healthCheck?: () => Promise<void>;
  /**
   * When set, `GET /ready` runs it, open to probes like `/health`: 200 once the server serves
   * and the check passes, else 503. A subgraph passes its store check, so an orchestrator sends
   * it traffic only after start-up (migrations included) and while its stores answer. Without
   * it, `/ready` is left to `routes` (the gateway's reports every subgraph).
   */
  readinessCheck?: () => Promise<void>;
  /** Largest request body accepted, in bytes; larger ones get 413 before they are read. */
  maxBodyBytes?: number;
  /**
   * Runs first for every request (CORS): answers it and returns true, or sets headers and
   * returns false to let routing go on.
   */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * Called once per `/graphql` response, after it is sent (metrics); the fields it returns
   * (operation name, client ...) are added to the request's access log line.
   */
  onGraphQLResponse?: (event: GraphQLResponseEvent) => Record<string, unknown> | undefined;
  /** Handles HTTP upgrade requests (the gateway's GraphQL over WebSocket); without it they are refused. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export interface GraphQLResponseEvent {
  req: IncomingMessage;
  status: number;
  /** The response body when it was sent whole (not for incremental delivery). */
  body: string | undefined;
  /** The parsed request body, when there was one. */
  requestBody: unknown;
  durationSeconds: number;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves an ApolloServer over node:http at `/graphql`, plus `/health`, `/ready` (with
 * `readinessCheck`) and any extra routes.
 * A dozen lines of glue instead of a web framework: Apollo does the GraphQL-over-HTTP work.
 */
export async function startHttpServer<TContext extends BaseContext>(
  options: HttpServerOptions<TContext>,
): Promise<RunningHttpServer> {
  const { apollo, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  await apollo.start();

  // Once close() is called, every response ends its connection: a keep-alive client would
  // otherwise keep the server open (and keep sending requests on it) until its idle timeout.
  let closing = false;
  const inFlight = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (closing) res.setHeader("connection", "close");
    inFlight.add(res);
    res.once("close", () => {
      inFlight.delete(res);
      // A response whose headers went out before close() left a keep-alive connection behind.
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    const received = headerValue(req.headers["x-request-id"]);
    // A caller's id is kept when it is a plausible id; anything else would end up in every log line.
    const requestId = received !== undefined && REQUEST_ID.test(received) ? received : randomUUID();
    req.headers["x-request-id"] = requestId;
    res.setHeader("x-request-id", requestId);
    const started = performance.now();
    const access: Record<string, unknown> = {};
    // Every line logged while serving this request, here or deep in a resolver, carries its id,
    // and every span it starts belongs to its trace.
    withLogFields({ requestId }, () =>
      traceRequest(req, res, requestId, () => {
        handle(req, res, started, access)
          .catch((error: unknown) => {
            logger.error("request failed", { error });
            if (!res.headersSent) sendJson(res, 500, { error: "Internal server error" });
            else res.end();
          })
          .finally(() =>
            logger.info("request", {
              method: req.method,
              path: req.url?.split("?")[0],
              status: res.statusCode,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              ...access,
            }),
          );
      }),
    );
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    access: Record<string, unknown>,
  ): Promise<void> {
    if (options.intercept?.(req, res)) return;
    const url = new URL(req.url ?? "/", "http://localhost");
    const probe =
      url.pathname === "/health"
        ? options.healthCheck
        : url.pathname === "/ready" && options.readinessCheck
          ? options.readinessCheck
          : null;
    if (probe !== null) {
      // Open to probes; a caller that signs the probe (the gateway's /ready) learns whether its
      // signature holds, so a secret that does not match shows before any operation fails.
      if (options.authenticate?.(req, "") === "refused") return refuse(res);
      try {
        await probe?.();
        sendJson(res, 200, { status: "ok" });
      } catch (error) {
        sendJson(res, 503, {
          status: "unavailable",
          reason: error instanceof Error ? error.message : "unknown",
        });
      }
      return;
    }
    const routeKey = `${req.method} ${url.pathname}`;
    const publicRoute = options.publicRoutes?.[routeKey];
    if (publicRoute) return publicRoute(req, res);

    const route = options.routes?.[routeKey];
    if (!options.authenticate) {
      if (route) return route(req, res);
      if (url.pathname !== "/graphql") return sendJson(res, 404, { error: "Not found" });
    }
    // With `authenticate`, the body is read before anything else is said: the signature covers it.
    const body = await readBody(req, maxBodyBytes);
    if (options.authenticate && body !== tooLarge) {
      if (options.authenticate(req, body ?? "") !== "authenticated") return refuse(res);
      authenticatedCallers.add(req);
      if (route) return route(req, res, body);
      if (url.pathname !== "/graphql") return sendJson(res, 404, { error: "Not found" });
    }
    if (body === tooLarge) {
      // The rest of the body is not read: close the connection rather than drain it.
      res.setHeader("connection", "close");
      const refusal = JSON.stringify({
        errors: [
          {
            message: `The request body exceeds ${maxBodyBytes} bytes.`,
            extensions: { code: "PAYLOAD_TOO_LARGE" },
          },
        ],
      });
      res.statusCode = 413;
      res.setHeader("content-type", "application/json; charset=utf-8");
      res.end(refusal);
      Object.assign(
        access,
        options.onGraphQLResponse?.(graphQLResponseEvent(req, 413, refusal, undefined, started)),
      );
      return;
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    let parsedBody: unknown = body;
    if (body !== undefined && headers.get("content-type")?.includes("application/json")) {
      try {
        parsedBody = JSON.parse(body);
      } catch {
        return sendJson(res, 400, {
          errors: [{ message: "Request body is not valid JSON", extensions: { code: "BAD_REQUEST" } }],
        });
      }
    }

    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? "GET", headers, search: url.search, body: parsedBody },
      context: () => options.context(req),
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    const complete = response.body.kind === "complete" ? response.body.string : undefined;
    if (response.body.kind === "complete") {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
    Object.assign(
      access,
      options.onGraphQLResponse?.(graphQLResponseEvent(req, res.statusCode, complete, parsedBody, started)),
    );
  }

  if (options.upgrade) server.on("upgrade", options.upgrade);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host && options.host !== "0.0.0.0" ? options.host : "localhost"}:${port}/graphql`;

  return {
    url,
    port,
    /**
     * Stops accepting connections, lets the requests in flight finish (each then closes its
     * connection), and stops Apollo. Unbounded here: the process's SHUTDOWN_TIMEOUT_MS
     * (`runService`) bounds the whole stop.
     */
    async close() {
      closing = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await apollo.stop();
    },
  };
}

function graphQLResponseEvent(
  req: IncomingMessage,
  status: number,
  body: string | undefined,
  requestBody: unknown,
  started: number,
): GraphQLResponseEvent {
  return { req, status, body, requestBody, durationSeconds: (performance.now() - started) / 1000 };
}

const tooLarge = Symbol("tooLarge");

/** Requests `authenticate` accepted: only their client-identity headers are believed. */
const authenticatedCallers = new WeakSet<IncomingMessage>();

/**
 * The answer to a caller that is not the gateway: no GraphQL error either, so a gateway with a
 * wrong secret reports the subgraph unavailable rather than passing a client an UNAUTHENTICATED
 * it could do nothing about.
 */
function refuse(res: ServerResponse): void {
  res.setHeader("www-authenticate", SUBGRAPH_AUTH_CHALLENGE);
  sendJson(res, 401, { error: "This service answers the gateway only." });
}

async function readBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<string | undefined | typeof tooLarge> {
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) return tooLarge;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) return tooLarge;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** What a subgraph's context needs from the HTTP request. */
export interface RequestMeta {
  authorization?: string | undefined;
  requestId?: string | undefined;
  /**
   * The end client's address: the gateway sends it as `x-forwarded-for`, having worked it out
   * from its own socket and trusted proxies. Believed only from an authenticated caller (anyone
   * can write the header); otherwise, and without the header, this connection's peer.
   */
  clientIp?: string | undefined;
}

export const requestMeta = (req: IncomingMessage): RequestMeta => ({
  authorization: headerValue(req.headers.authorization),
  requestId: headerValue(req.headers["x-request-id"]),
  clientIp:
    (authenticatedCallers.has(req)
      ? headerValue(req.headers["x-forwarded-for"])?.split(",")[0]?.trim()
      : undefined) || req.socket.remoteAddress,
});

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}
