import type { Logger } from "@nexus/core";

/** How long a limit waits for Redis before letting the request through. */
export const LIMIT_REDIS_TIMEOUT_MS = 250;

const TIMED_OUT = Symbol("timed out");

export interface FailOpenOptions {
  /** How long to wait for the answer; Redis answers in well under a millisecond when healthy. */
  timeoutMs: number;
  logger: Logger;
  /** What is being skipped, for the warning, e.g. "rate limit". */
  what: string;
  /** At most one warning per this many milliseconds, so an outage does not flood the log. */
  warnEveryMs?: number;
}

/**
 * Runs a limit's Redis round trip but never lets it hold a request up: when Redis fails or
 * does not answer within `timeoutMs` (ioredis queues commands while it reconnects, so an
 * outage looks like a wait, not an error) the result is null and the caller lets the request
 * through. Limits protect the subgraphs; a Redis outage must not take the gateway down with
 * it. MAX_COST and the operation limits need no Redis and still apply.
 */
export function createFailOpen({ timeoutMs, logger, what, warnEveryMs = 10_000 }: FailOpenOptions) {
  let warnedAt = Number.NEGATIVE_INFINITY;
  const warn = (reason: string, error?: unknown) => {
    const now = Date.now();
    if (now - warnedAt < warnEveryMs) return;
    warnedAt = now;
    logger.warn(`${what} skipped: ${reason}`, error === undefined ? {} : { error });
  };
  return async <T>(work: Promise<T>): Promise<T | null> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
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
    }
  };
}
