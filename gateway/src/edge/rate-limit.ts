import { HeaderMap } from "@apollo/server";
import type { Logger } from "@nexus/core";
import { GraphQLError } from "graphql";
import type { GatewayMetrics } from "../observability/metrics.ts";
import type { BudgetStatus, CostBudget, RateWindow } from "../operation/cost/cost-budget.ts";
import { clientKey, type GatewayContext } from "./context.ts";
import { createFailOpen, LIMIT_REDIS_TIMEOUT_MS } from "./fail-open.ts";

export interface ClientLimitsOptions {
  /** The Redis budgets, shared by the replicas; each charge also counts the request's window. */
  budget: CostBudget;
  /** Requests per client per window, counted in Redis with each charge. */
  window: RateWindow;
  /** The budget's size and refill, for the local bucket. */
  capacity: number;
  refillPerSecond: number;
  /**
   * Replicas expected to share the traffic. When Redis does not answer, each replica holds
   * every client to this share of each limit, so the clients' total stays within the limits.
   */
  replicas: number;
  metrics: GatewayMetrics;
  logger: Logger;
  /** How long a charge waits for Redis (LIMIT_REDIS_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Clients remembered locally, least recently seen forgotten first. */
  maxClients?: number;
}

/** A request's verdict from the rate limit and the cost budget. */
export interface LimitDecision {
  /** The limit that refused the request, or null when it may go on. */
  refusedBy: "rate" | "budget" | null;
  /** The budget after this charge (the bucket that decided: Redis's, or this replica's). */
  budget: BudgetStatus;
  /** When refused by the rate limit, whole seconds until the window ends; else 0. */
  retryAfterSeconds: number;
}

export interface ClientLimits {
  /** The shared rate limit, as clients are told it. */
  window: RateWindow;
  /**
   * Refuses, with no Redis round trip, a client whose rate window is known to be used up:
   * pipeline.ts calls it right after `createContext`, before Apollo Server parses anything. It
   * refuses nothing it is not sure of; the rest is decided by `charge`.
   */
  refuseKnownOverRate(context: Pick<GatewayContext, "viewer" | "client">): void;
  /**
   * Counts a request in its client's window and, when within it, charges `cost` to the
   * client's budget: one Redis round trip, or this replica's buckets when Redis does not
   * answer in time.
   */
  charge(client: string, cost: number): Promise<LimitDecision>;
}

/** What this replica knows of one client. Times are `performance.now()` milliseconds. */
interface LocalClient {
  /** Requests counted in the window ending at `windowEndsAt`. */
  count: number;
  windowEndsAt: number;
  /** The limit `count` is held to: the shared one when Redis counted, this replica's share when it counted alone. */
  countLimit: number;
  /** Budget points the client held at `tokensAt` (never more than it really did). */
  tokens: number;
  tokensAt: number;
}

/**
 * The per-client rate limit and cost budget, shared by every replica through Redis and held
 * locally when Redis cannot answer in time.
 *
 * - One round trip: the window count and the budget charge are one script
 *   (`CostBudget.charge` with a window), sent once the operation's cost is known
 *   (`useDemandControl`). Requests refused before that are counted by the same script with a
 *   cost of 0, so every request that reaches Apollo Server is counted once.
 * - Known refusals cost nothing: every answer from Redis is remembered per client, and a
 *   window that is used up stays used up until it ends (it is never extended or refunded).
 *   Further requests of that client are refused before parsing, without Redis: a client
 *   flooding the gateway costs it a map lookup per request.
 * - Redis slow or down: the decision falls back to a local fixed window and token bucket per
 *   client, seeded from the last answer Redis gave and holding each client to
 *   `1 / replicas` of each limit. The next answer from Redis, however late, overwrites the
 *   local state: Redis stays the authority whenever it answers.
 *
 * It is not a plugin because no plugin hook as early as the context can answer with a status
 * of its own: Apollo Server 5 turns an error thrown in `requestDidStart` into a 500, while an
 * error thrown while building the context keeps its `extensions.http` status and headers.
 * Nor is it a rate-limit package's: none counts the window and charges the cost budget in one
 * Redis round trip (one Lua script) and falls back to local state when Redis is slow.
 */
export function createClientLimits(options: ClientLimitsOptions): ClientLimits {
  const { budget, window, metrics, replicas } = options;
  const windowMs = window.windowSeconds * 1000;
  const local = {
    limit: Math.max(1, Math.floor(window.limit / replicas)),
    capacity: options.capacity / replicas,
    refillPerSecond: options.refillPerSecond / replicas,
  };
  const maxClients = options.maxClients ?? 50_000;
  const clients = new Map<string, LocalClient>();
  const remember = (client: string, state: LocalClient) => {
    // Map keeps insertion order: re-inserting makes it a least-recently-seen list.
    clients.delete(client);
    clients.set(client, state);
    if (clients.size > maxClients) {
      const oldest = clients.keys().next().value;
      if (oldest !== undefined) clients.delete(oldest);
    }
  };
  const failOpen = createFailOpen({
    timeoutMs: options.timeoutMs ?? LIMIT_REDIS_TIMEOUT_MS,
    logger: options.logger,
    what: "rate limit and cost budget",
    instead: "enforced by this replica alone",
  });
  const decided = (source: "known" | "redis" | "local", started: number) =>
    metrics.limitDecisionDuration.observe({ source }, (performance.now() - started) / 1000);
  const secondsUntil = (at: number, now: number) => Math.max(1, Math.ceil((at - now) / 1000));
  const knownOverRate = (state: LocalClient | undefined, now: number) =>
    state !== undefined && now < state.windowEndsAt && state.count >= state.countLimit;

  /** Decides with this replica's window and bucket alone. */
  const decideLocally = (client: string, cost: number, now: number): LimitDecision => {
    const known = clients.get(client);
    const state: LocalClient = known ?? {
      count: 0,
      windowEndsAt: now + windowMs,
      countLimit: local.limit,
      tokens: local.capacity,
      tokensAt: now,
    };
    if (now >= state.windowEndsAt) {
      state.count = 0;
      state.windowEndsAt = now + windowMs;
    }
    state.count += 1;
    state.countLimit = local.limit;
    state.tokens = Math.min(
      local.capacity,
      state.tokens + ((now - state.tokensAt) * local.refillPerSecond) / 1000,
    );
    state.tokensAt = now;
    const withinRate = state.count <= state.countLimit;
    const affordable = cost <= state.tokens;
    if (withinRate && affordable) state.tokens -= cost;
    remember(client, state);
    return {
      refusedBy: withinRate ? (affordable ? null : "budget") : "rate",
      retryAfterSeconds: withinRate ? 0 : secondsUntil(state.windowEndsAt, now),
      budget: {
        allowed: withinRate && affordable,
        maximumAvailable: local.capacity,
        currentlyAvailable: Math.floor(state.tokens),
        restoreRate: local.refillPerSecond,
        retryAfterSeconds:
          !withinRate || affordable
            ? 0
            : Math.max(1, Math.ceil((cost - state.tokens) / local.refillPerSecond)),
      },
    };
  };

  return {
    window,
    refuseKnownOverRate(context) {
      const started = performance.now();
      const state = clients.get(clientKey(context));
      if (!knownOverRate(state, started) || state === undefined) return;
      decided("known", started);
      metrics.limitRejections.inc({ limit: "rate" });
      throw rateLimitedError(window, secondsUntil(state.windowEndsAt, started));
    },

    async charge(client, cost) {
      const started = performance.now();
      const known = clients.get(client);
      if (known !== undefined && knownOverRate(known, started)) {
        decided("known", started);
        // Charged nothing: the budget as last seen.
        return {
          refusedBy: "rate",
          retryAfterSeconds: secondsUntil(known.windowEndsAt, started),
          budget: {
            allowed: false,
            maximumAvailable: options.capacity,
            currentlyAvailable: Math.floor(known.tokens),
            restoreRate: options.refillPerSecond,
            retryAfterSeconds: 0,
          },
        };
      }
      const answer = await failOpen(budget.charge(client, cost, window));
      const now = performance.now();
      if (answer === null || answer.window === undefined) {
        decided("local", started);
        return decideLocally(client, cost, now);
      }
      decided("redis", started);
      const { window: counted, ...status } = answer;
      // The window is taken to end `ttlMs` after the script was sent, which is no later than
      // it really ends; the points are those Redis had when it answered, no more.
      remember(client, {
        count: counted.count,
        windowEndsAt: started + counted.ttlMs,
        countLimit: window.limit,
        tokens: status.currentlyAvailable,
        tokensAt: now,
      });
      if (counted.count > window.limit) {
        return {
          refusedBy: "rate",
          retryAfterSeconds: secondsUntil(started + counted.ttlMs, now),
          budget: status,
        };
      }
      return { refusedBy: status.allowed ? null : "budget", retryAfterSeconds: 0, budget: status };
    },
  };
}

/** HTTP 429 RATE_LIMITED with Retry-After, thrown from the context or sent by `useDemandControl`. */
export function rateLimitedError(window: RateWindow, retryAfterSeconds: number): GraphQLError {
  const { limit, windowSeconds } = window;
  return new GraphQLError(
    `Too many requests: this client may send ${limit} every ${windowSeconds} s. Retry after ${retryAfterSeconds} s.`,
    {
      extensions: {
        code: "RATE_LIMITED",
        limit,
        windowSeconds,
        retryAfterSeconds,
        http: { status: 429, headers: new HeaderMap([["retry-after", String(retryAfterSeconds)]]) },
      },
    },
  );
}
