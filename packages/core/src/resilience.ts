import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  DelegateBackoff,
  halfJitterGenerator,
  handleWhenResult,
  type IDefaultPolicyContext,
  type IPolicy,
  noop,
  retry,
  TimeoutStrategy,
  timeout,
} from "cockatiel";

/** How calls to one HTTP dependency are bounded, retried and broken. */
export interface ResilienceSettings {
  /** One deadline per call, covering every attempt and every pause between them. */
  timeoutMs: number;
  retries: {
    /** How many times a call marked retryable is sent again after a transient failure. */
    attempts: number;
    /** The pause before the first retry; it doubles for each further one, with jitter. */
    backoffMs: number;
  };
  circuitBreaker: {
    /** Consecutive failed calls that open the circuit; 0 turns the breaker off. */
    failures: number;
    /** How long an open circuit fails fast before it lets one trial call through. */
    cooldownMs: number;
  };
}

export type CircuitStateName = "closed" | "half-open" | "open";

export interface ResilienceHooks {
  /** Every change of the circuit's state: gauges and logs follow it. */
  onCircuitStateChange?(state: CircuitStateName, previous: CircuitStateName): void;
  /** Before the pause that precedes retry number `retry` (1 for the first). */
  onRetry?(retry: number, delayMs: number): void;
}

export interface ResiliencePolicy {
  readonly circuitState: CircuitStateName;
  /**
   * Calls `send` under the deadline, the retries and the breaker. `send` gets the deadline's
   * signal and answers with an HTTP status: 5xx answers count against the circuit, 502/503/504
   * are tried again when `retry` is true. Only a call that cannot change anything (a query) may
   * be retried: whether a failed mutation was applied cannot be known. An open circuit throws
   * `BrokenCircuitError`; a spent deadline throws a `TimeoutError`, like `AbortSignal.timeout`.
   */
  execute<T extends { status: number }>(
    send: (signal: AbortSignal) => Promise<T>,
    options: { retry: boolean },
  ): Promise<T>;
}

/**
 * HTTP statuses a load balancer or a restarting server answers with while the service behind it
 * cannot take the request: worth one more try. 500 is not among them: it is usually the same bug
 * again.
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * Failures of the connection itself, in Node's and undici's codes: nothing was answered, and
 * the next connection may well work (an instance restarting, a pooled keep-alive connection the
 * server had just closed, a DNS hiccup). A timeout is not among them: the call's time budget is
 * spent when it fires.
 */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * True when `error`, or an error it wraps, is a transient connection failure. cockatiel leaves
 * what is worth retrying to its caller; this is Nexus's answer.
 */
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
 * The pause before retry number `retry` (1 for the first): cockatiel's exponential backoff
 * with half jitter, a random point in the upper half of the step. Jitter keeps concurrent calls
 * from retrying in lockstep against a dependency that is coming back; the lower half is left
 * out so the pause stays a real pause and the total has known bounds: between
 * `baseMs * (2^n - 1) / 2` and `baseMs * (2^n - 1)` after n retries.
 */
export function backoffDelay(retry: number, baseMs: number): number {
  const [delay] = halfJitterGenerator(retry - 1, {
    initialDelay: baseMs,
    exponent: 2,
    maxDelay: Number.MAX_SAFE_INTEGER,
    generator: halfJitterGenerator,
  });
  return delay;
}

/** True for the error an open (or half-open, trial out) circuit refuses a call with. */
export const isCircuitOpen = (error: unknown): boolean => error instanceof BrokenCircuitError;

const STATE_NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Open]: "open",
  // Isolation is manual and Nexus never isolates a circuit: it reads as open.
  [CircuitState.Isolated]: "open",
};

/** What the breaker sees of one call: settled, never thrown, so late calls can be left out. */
type Outcome<T> = { ok: true; value: T; stale: boolean } | { ok: false; error: unknown; stale: boolean };

/**
 * cockatiel's timeout, retry and consecutive-failure circuit breaker, put together the way
 * Nexus's HTTP calls need them (the gateway's subgraph fetches, its partner-key exchange, orders'
 * calls to the catalog):
 *
 * - **One deadline per call.** A cooperative `timeout` outside the retries: every attempt and
 *   every pause comes out of the same `timeoutMs`, so a caller waits at most that long however
 *   many attempts are made. An attempt that times out is therefore never retried.
 * - **Retries for transient failures only** (refused or reset connection, 502/503/504), after an
 *   exponential pause with cockatiel's half jitter (between half and all of the step, so
 *   concurrent calls do not retry in lockstep), and only if the pause ends before the deadline:
 *   cockatiel's retry would sleep past it and then report a timeout instead of the last answer.
 * - **Consecutive-failure breaker.** A count rather than a failure rate: the breaker is for a
 *   dependency that is down or wedged, where every call fails and would hold its caller for the
 *   whole timeout; a count opens after the same number of failures whatever the traffic and has
 *   no window to tune. After `cooldownMs` one trial call is let through (half-open); the calls
 *   that arrive meanwhile fail fast instead of waiting for the trial, as cockatiel would have
 *   them do, and calls that were sent before the circuit last changed state are not counted,
 *   so a late answer cannot close a circuit that a newer failure opened, nor count twice.
 */
export function createResiliencePolicy(
  settings: ResilienceSettings,
  hooks: ResilienceHooks = {},
): ResiliencePolicy {
  // Bumped on every change of state; a call only counts in the generation it was sent in.
  let generation = 0;
  const breaker =
    settings.circuitBreaker.failures > 0
      ? circuitBreaker(
          handleWhenResult((outcome) => {
            const settled = outcome as Outcome<{ status: number }>;
            // A 4xx is the dependency answering, not failing; only 5xx counts against the circuit.
            return !settled.stale && (!settled.ok || settled.value.status >= 500);
          }),
          {
            halfOpenAfter: settings.circuitBreaker.cooldownMs,
            breaker: new ConsecutiveBreaker(settings.circuitBreaker.failures),
          },
        )
      : undefined;
  let state: CircuitStateName = "closed";
  breaker?.onStateChange((next) => {
    const previous = state;
    state = STATE_NAMES[next];
    generation += 1;
    hooks.onCircuitStateChange?.(state, previous);
  });
  const guarded: IPolicy<IDefaultPolicyContext> = breaker ?? noop;
  const deadline = timeout(settings.timeoutMs, TimeoutStrategy.Cooperative);

  const attempt = async <T extends { status: number }>(
    send: (signal: AbortSignal) => Promise<T>,
    signal: AbortSignal,
    mayRetry: boolean,
    expiresAt: number,
  ): Promise<T> => {
    let retries = 0;
    let pause = 0;
    // Decided when an attempt has failed, so that the pause is known before it is taken.
    const retryAfter = (transient: boolean): boolean => {
      if (!mayRetry || !transient || retries >= settings.retries.attempts) return false;
      const delay = backoffDelay(retries + 1, settings.retries.backoffMs);
      if (performance.now() + delay >= expiresAt) return false;
      retries += 1;
      pause = delay;
      hooks.onRetry?.(retries, delay);
      return true;
    };
    const retrying = retry(
      handleWhenResult((result) => retryAfter(RETRYABLE_STATUSES.has((result as T).status))).orWhen(
        (error) => !signal.aborted && retryAfter(isTransientFailure(error)),
      ),
      { maxAttempts: settings.retries.attempts, backoff: new DelegateBackoff(() => pause) },
    );
    return retrying.execute(({ signal: inner }) => send(inner), signal);
  };

  return {
    get circuitState() {
      return state;
    },
    async execute<T extends { status: number }>(
      send: (signal: AbortSignal) => Promise<T>,
      { retry: mayRetry }: { retry: boolean },
    ): Promise<T> {
      // cockatiel queues the calls that arrive while the half-open trial is out; a caller
      // should rather fail fast than wait on a dependency that has just been failing.
      if (state === "half-open") throw new BrokenCircuitError();
      const outcome = await guarded.execute(async () => {
        const sentIn = generation;
        const expiresAt = performance.now() + settings.timeoutMs;
        let settled: Outcome<T>;
        try {
          const value: T = await deadline.execute(async ({ signal }) => {
            try {
              return await attempt(send, signal, mayRetry, expiresAt);
            } catch (error) {
              // cockatiel aborts with a plain AbortError; callers tell a timeout by its name.
              if (signal.aborted) throw new DOMException("The operation timed out.", "TimeoutError");
              throw error;
            }
          });
          settled = { ok: true, value, stale: false };
        } catch (error) {
          settled = { ok: false, error, stale: false };
        }
        settled.stale = sentIn !== generation;
        return settled;
      });
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    },
  };
}
