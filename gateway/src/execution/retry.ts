/**
 * HTTP statuses a load balancer or a restarting server answers with while the subgraph
 * behind it cannot take the request: worth one more try of a query. 500 is not among them:
 * it is usually the same bug again.
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * Failures of the connection itself, in Node's and undici's codes: nothing was answered, and
 * the next connection may well work (a subgraph instance restarting, a pooled keep-alive
 * connection the subgraph had just closed, a DNS hiccup). A timeout is not among them: the
 * fetch's time budget is spent when it fires (see `SubgraphDataSource`).
 */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** True when `error`, or an error it wraps, is a transient connection failure. */
export function isTransientFailure(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  if ("code" in error && typeof error.code === "string" && TRANSIENT_CODES.has(error.code)) return true;
  // Node's fetch throws "fetch failed" with the socket error as its cause; a refused connection
  // to a host with several addresses is an AggregateError of one error per address.
  if (error instanceof AggregateError && error.errors.some((inner) => isTransientFailure(inner, depth + 1))) {
    return true;
  }
  return isTransientFailure(error.cause, depth + 1);
}

/**
 * The pause before retry number `retry` (1 for the first): exponential from `baseMs`, with
 * "equal jitter", a random point in the upper half of the step. Jitter keeps the gateway's
 * concurrent fetches from retrying in lockstep against a subgraph that is coming back; the
 * lower half is left out so the pause stays a real pause and the total has known bounds:
 * between `baseMs * (2^n - 1) / 2` and `baseMs * (2^n - 1)` after n retries.
 */
export function backoffDelay(retry: number, baseMs: number, random: () => number = Math.random): number {
  const step = baseMs * 2 ** (retry - 1);
  return step / 2 + (random() * step) / 2;
}
