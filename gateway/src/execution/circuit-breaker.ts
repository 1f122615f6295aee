/** Closed: fetches go out. Open: they fail fast. Half-open: one trial fetch is out. */
export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Consecutive failed fetches that open the circuit; 0 turns the breaker off. */
  failureThreshold: number;
  /** How long an open circuit fails fast before it lets one trial fetch through. */
  cooldownMs: number;
  /** Called on every change of state: the gauge and the log follow it. */
  onStateChange?: (state: CircuitState, previous: CircuitState) => void;
  /** Milliseconds on a monotonic clock: `performance.now()` unless a test steps its own. */
  now?: () => number;
}

/** Leave to send one fetch. Exactly one of its methods is called when the fetch has ended. */
export interface CircuitPermit {
  succeeded(): void;
  failed(): void;
}

export interface CircuitBreaker {
  readonly state: CircuitState;
  /** A permit to call the subgraph, or null when the call must fail fast without it. */
  tryAcquire(): CircuitPermit | null;
}

const ALWAYS: CircuitPermit = { succeeded() {}, failed() {} };

/**
 * A breaker for one subgraph that opens after `failureThreshold` consecutive failed fetches.
 *
 * Consecutive failures rather than a failure rate over a window: the case it is for is a
 * subgraph that is down or wedged, where every fetch fails and each one would otherwise hold
 * a client for the whole timeout; a count needs no window or minimum volume to tune and opens
 * after the same number of failures at one request a minute or a thousand a second. A
 * subgraph failing only some fetches keeps being called (any success resets the count), and
 * its transient failures are what retries are for.
 *
 * After `cooldownMs` the next fetch is let through as the only trial (half-open): success
 * closes the circuit, failure opens it for another cooldown. Permits handed out before the
 * circuit opened are ignored when they end, so a late answer cannot close a circuit that a
 * newer failure opened, nor count twice.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const now = options.now ?? (() => performance.now());
  let state: CircuitState = "closed";
  let failures = 0;
  let openedAt = 0;
  // Bumped on every change of state; a permit only counts in the generation it was issued in.
  let generation = 0;

  const moveTo = (next: CircuitState) => {
    const previous = state;
    state = next;
    generation += 1;
    if (next === "open") openedAt = now();
    if (next === "closed") failures = 0;
    options.onStateChange?.(next, previous);
  };

  const permitFor = (issuedIn: number): CircuitPermit => ({
    succeeded() {
      if (issuedIn !== generation) return;
      if (state === "half-open") moveTo("closed");
      else failures = 0;
    },
    failed() {
      if (issuedIn !== generation) return;
      if (state === "half-open") moveTo("open");
      else {
        failures += 1;
        if (failures >= options.failureThreshold) moveTo("open");
      }
    },
  });

  return {
    get state() {
      return state;
    },
    tryAcquire() {
      if (options.failureThreshold <= 0) return ALWAYS;
      if (state === "closed") return permitFor(generation);
      if (state === "open" && now() - openedAt >= options.cooldownMs) {
        moveTo("half-open");
        return permitFor(generation);
      }
      // Open and cooling down, or half-open with the trial fetch still out.
      return null;
    },
  };
}
