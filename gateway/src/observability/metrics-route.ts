import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { type RouteHandler, sendJson } from "@nexus/core";
import type { GatewayMetrics } from "./metrics.ts";

/**
 * `GET /metrics` in Prometheus' text format. With `METRICS_TOKEN` set, scrapers must send it as
 * a bearer token: operation and client names are not for the public.
 */
export function createMetricsRoute(metrics: GatewayMetrics, token: string | undefined): RouteHandler {
  return async (req, res) => {
    if (token !== undefined && !bearerMatches(req, token)) {
      res.setHeader("www-authenticate", "Bearer");
      return sendJson(res, 401, { error: "Send the metrics token as a bearer token." });
    }
    res.setHeader("content-type", metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  };
}

function bearerMatches(req: IncomingMessage, token: string): boolean {
  const sent = Buffer.from(req.headers.authorization ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}
