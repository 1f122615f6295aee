import type { IncomingMessage, ServerResponse } from "node:http";
import { headerValue } from "@nexus/core";

/** Request headers a browser client may send cross-origin: what Apollo clients and Nexus use. */
const ALLOWED_HEADERS = [
  "accept",
  "authorization",
  "content-type",
  "x-api-key",
  "x-request-id",
  "apollo-require-preflight",
  "x-apollo-operation-name",
  "apollographql-client-name",
  "apollographql-client-version",
  "traceparent",
  "tracestate",
];
/** Response headers a cross-origin client may read. */
const EXPOSED_HEADERS = ["x-request-id", "retry-after"];
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Hosts of a page on the developer's own machine, as browsers write them in `Origin`. */
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1"]);

/**
 * `http://localhost:<port>` or `http://127.0.0.1:<port>` (any port, or none), exactly as a
 * browser sends it: no other scheme, no other host (`localhost.example.com` is someone else's),
 * nothing after the port.
 */
export function isLocalOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname) && url.origin === origin;
}

export interface CorsOptions {
  /** Also allow every local origin (`isLocalOrigin`): development only, never in production. */
  localOrigins?: boolean;
}

/**
 * CORS for an allowlist of exact origins (`https://shop.example.com`), plus, when
 * `localOrigins` is set (outside production), any page on this machine. An allowed origin gets
 * `Access-Control-Allow-Origin` echoed back; any other origin gets no CORS header at all, so
 * its browser pages cannot read responses, and its preflights are answered 403 so they cannot
 * send the non-simple requests the gateway accepts. Credentials (cookies) are never allowed:
 * clients authenticate with headers. Same-origin requests (GraphiQL) send no Origin and are
 * not affected.
 *
 * Returns the `intercept` hook of `startHttpServer`: true when it has answered a preflight.
 */
export function createCors(allowedOrigins: readonly string[], options: CorsOptions = {}) {
  const allowed = new Set(allowedOrigins);
  const isAllowed = (origin: string) =>
    allowed.has(origin) || (options.localOrigins === true && isLocalOrigin(origin));
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const origin = headerValue(req.headers.origin);
    if (origin === undefined) return false;
    res.setHeader("vary", "Origin");
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (!isAllowed(origin)) {
      if (!preflight) return false;
      res.statusCode = 403;
      res.end();
      return true;
    }
    res.setHeader("access-control-allow-origin", origin);
    if (!preflight) {
      res.setHeader("access-control-expose-headers", EXPOSED_HEADERS.join(", "));
      return false;
    }
    res.statusCode = 204;
    res.setHeader("access-control-allow-methods", "GET, POST, OPTIONS");
    res.setHeader("access-control-allow-headers", ALLOWED_HEADERS.join(", "));
    res.setHeader("access-control-max-age", String(PREFLIGHT_MAX_AGE_SECONDS));
    res.end();
    return true;
  };
}
