import { HeaderMap } from "@apollo/server";
import type { Logger } from "@nexus/core";
import { createFixedWindowLimiter } from "@nexus/stores";
import { GraphQLError } from "graphql";
import type { Redis } from "ioredis";
import { clientKey, type GatewayContext } from "./context.ts";
import { createFailOpen, LIMIT_REDIS_TIMEOUT_MS } from "./fail-open.ts";
import type { GatewayMetrics } from "./metrics.ts";

export interface RateLimitOptions {
  /** Redis key prefix of the counters, e.g. `nexus:gateway:rate`. */
  prefix: string;
  /** Requests one client may send per window. */
  limit: number;
  windowSeconds: number;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** Counts a request against its client's window; throws when the window is used up. */
export type RateLimit = (context: Pick<GatewayContext, "viewer" | "client">) => Promise<void>;

/**
 * Requests per client per window (`clientKey`: partner, user or address), counted in Redis so
 * every replica shares one count. Checked as soon as the client is known, before Apollo
 * Server parses, validates or plans anything: app.ts calls it right after `createContext`.
 * It is not a plugin because no plugin hook that early can answer with a status of its own:
 * Apollo Server 5 turns an error thrown in `requestDidStart` into a 500, while an error thrown
 * while building the context keeps its `extensions.http` status and headers. When Redis does
 * not answer, the request is let through (`createFailOpen`).
 */
export function createRateLimit(redis: Redis, options: RateLimitOptions): RateLimit {
  const { limit, windowSeconds, metrics } = options;
  const limiter = createFixedWindowLimiter(redis, { prefix: options.prefix, limit, windowSeconds });
  const failOpen = createFailOpen({
    timeoutMs: LIMIT_REDIS_TIMEOUT_MS,
    logger: options.logger,
    what: "rate limit",
  });
  return async (context) => {
    const decision = await failOpen(limiter.consume(clientKey(context)));
    if (!decision || decision.allowed) return;
    metrics.limitRejections.inc({ limit: "rate" });
    const retryAfter = decision.retryAfterSeconds;
    throw new GraphQLError(
      `Too many requests: this client may send ${limit} every ${windowSeconds} s. Retry after ${retryAfter} s.`,
      {
        extensions: {
          code: "RATE_LIMITED",
          limit,
          windowSeconds,
          retryAfterSeconds: retryAfter,
          http: { status: 429, headers: new HeaderMap([["retry-after", String(retryAfter)]]) },
        },
      },
    );
  };
}
