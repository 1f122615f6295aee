import type { Logger } from "@nexus/core";

/** How long a limit waits for Redis before deciding without it. */
export const LIMIT_REDIS_TIMEOUT_MS = 250;

const TIMED_OUT = Symbol("timed out");

export interface FailOpenOptions {
  /** How long to wait for the answer; Redis answers in well under a millisecond when healthy. */
  timeoutMs: number;
  logger: Logger;
  /** What goes without Redis, for the warning, e.g. "rate limit". */
  what: string;
  /** What happens instead, for the warning, e.g. "enforced by this replica alone"; "skipped" by default. */
  instead?: string;
  /** At most one warning per this many milliseconds, so an outage does not flood the log. */
  warnEveryMs?: number;
}

/**
 * Runs a Redis round trip but never lets it hold a request up: when Redis fails or does not
 * answer within `timeoutMs` (ioredis queues commands while it reconnects, so an outage looks
 * like a wait, not an error) the result is null and the caller decides without Redis (the
 * limits fall back to their local buckets, rate-limit.ts). A Redis outage must not take the
 * gateway down with it.
 *
 * The wait starts when the command is handed to ioredis, which writes it to the socket there
 * and then when connected. A busy event loop must not pass for a slow Redis: when the timer
 * fires the reply may already sit unread in the socket, because timers run before the loop
 * polls for I/O. So a timeout is only declared from `setImmediate`, which runs after that poll:
 * an answer that arrived in time is read first and wins.
 */
export function createFailOpen({
  timeoutMs,
  logger,
  what,
  instead = "skipped",
  warnEveryMs = 10_000,
}: FailOpenOptions) {
  let warnedAt = Number.NEGATIVE_INFINITY;
  const warn = (reason: string, error?: unknown) => {
    const now = Date.now();
    if (now - warnedAt < warnEveryMs) return;
    warnedAt = now;
    logger.warn(`${what} ${instead}: ${reason}`, error === undefined ? {} : { error });
  };
  return async <T>(work: Promise<T>): Promise<T | null> => {
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => {
        immediate = setImmediate(() => resolve(TIMED_OUT));
      }, timeoutMs);
    });
    try {
      const result = await Promise.race([work, timeout]);
      if (result !== TIMED_OUT) return result;
      warn(`Redis did not answer within ${timeoutMs} ms`);
      return null;
    } catch (error) {
      warn("Redis failed", error);
      return null;
    } finally {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    }
  };
}
