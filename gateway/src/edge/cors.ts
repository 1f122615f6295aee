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

/**
 * CORS for an allowlist of exact origins (`https://shop.example.com`). An allowed origin gets
 * `Access-Control-Allow-Origin` echoed back; any other origin gets no CORS header at all, so
 * its browser pages cannot read responses, and its preflights are answered 403 so they cannot
 * send the non-simple requests the gateway accepts. Credentials (cookies) are never allowed:
 * clients authenticate with headers. Same-origin requests (GraphiQL) send no Origin and are
 * not affected.
 *
 * Returns the `intercept` hook of `startHttpServer`: true when it has answered a preflight.
 */
export function createCors(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const origin = headerValue(req.headers.origin);
    if (origin === undefined) return false;
    res.setHeader("vary", "Origin");
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (!allowed.has(origin)) {
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
