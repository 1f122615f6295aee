import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "@nexus/core";
import type { GatewayMetrics } from "../observability/metrics.ts";

/** How often the event loop's delay is sampled. */
const SAMPLE_EVERY_MS = 20;
/** What a shed client is told to wait: long enough to let the queue drain, short enough to notice recovery. */
const RETRY_AFTER_SECONDS = 1;

export interface AdmissionOptions {
  /** GraphQL requests served at once; a request past it is shed. 0 turns the check off. */
  maxInFlight: number;
  /** Event-loop delay, in milliseconds, past which requests are shed. 0 turns the check off. */
  maxEventLoopDelayMs: number;
  metrics: GatewayMetrics;
}

export interface Admission {
  /** `startHttpServer`'s `intercept`: true when it has answered the request with 503. */
  intercept(req: IncomingMessage, res: ServerResponse): boolean;
  /** Stops sampling the event loop. */
  stop(): void;
}

/**
 * Load shedding before any work, in the manner of fastify's under-pressure: when the gateway
 * is already serving `maxInFlight` GraphQL requests, or its event loop runs more than
 * `maxEventLoopDelayMs` late, a new request is answered 503 SERVER_OVERLOADED with
 * Retry-After before its body is read, its token verified or its document parsed. Node serves
 * every accepted request in one queue, so admitting more than the process can serve only
 * makes everyone wait longer: past its capacity the gateway answers the excess at once and
 * keeps the latency of what it admits, and the limits' own Redis answers on time. Other
 * routes (`/health`, `/ready`, `/metrics`) are never shed.
 */
export function createAdmission({ maxInFlight, maxEventLoopDelayMs, metrics }: AdmissionOptions): Admission {
  let inFlight = 0;
  let delayMs = 0;
  let sampledAt = performance.now();
  // A timer that should fire every SAMPLE_EVERY_MS: how late it fires is how long a callback
  // waits for the loop. Timers run before the loop reads sockets, so requests taken in the same
  // turn are judged by a fresh sample.
  const sampler =
    maxEventLoopDelayMs > 0
      ? setInterval(() => {
          const now = performance.now();
          delayMs = Math.max(0, now - sampledAt - SAMPLE_EVERY_MS);
          sampledAt = now;
        }, SAMPLE_EVERY_MS).unref()
      : undefined;

  const shed = (res: ServerResponse, reason: "in_flight" | "event_loop_delay") => {
    metrics.shedRequests.inc({ reason });
    res.setHeader("retry-after", String(RETRY_AFTER_SECONDS));
    sendJson(res, 503, {
      errors: [
        {
          message: `The gateway is overloaded. Retry after ${RETRY_AFTER_SECONDS} s.`,
          extensions: { code: "SERVER_OVERLOADED", retryAfterSeconds: RETRY_AFTER_SECONDS },
        },
      ],
    });
    return true;
  };

  return {
    intercept(req, res) {
      if (!req.url?.startsWith("/graphql") || (req.method !== "POST" && req.method !== "GET")) return false;
      if (maxInFlight > 0 && inFlight >= maxInFlight) return shed(res, "in_flight");
      if (maxEventLoopDelayMs > 0 && delayMs > maxEventLoopDelayMs) return shed(res, "event_loop_delay");
      // A subscription's stream stays open for as long as the order is followed: counted, it
      // would hold a slot meant for requests that end. Each payload's work is a short run.
      if (req.url.startsWith("/graphql/stream")) return false;
      inFlight += 1;
      metrics.inFlightRequests.set(inFlight);
      // `close` comes once per response, sent or abandoned by the client.
      res.once("close", () => {
        inFlight -= 1;
        metrics.inFlightRequests.set(inFlight);
      });
      return false;
    },
    stop() {
      if (sampler) clearInterval(sampler);
    },
  };
}
