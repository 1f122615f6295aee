import type { Logger } from "./logger.ts";

export interface PeriodicSweep<T> {
  /** Runs a sweep now, or joins the one running; resolves with what it handled. */
  sweep(): Promise<T[]>;
  /** No more sweeps; waits for the running one, which sees `stopped()` and ends early. */
  stop(): Promise<void>;
}

/**
 * A background job that sweeps every `intervalMs`, one sweep at a time per process: a call while
 * one runs joins it. `drain` checks `stopped()` between batches so a stop does not wait for a
 * long backlog. A failed sweep is logged as `failure` and tried again at the next interval.
 */
export function startPeriodicSweep<T>(options: {
  intervalMs: number;
  logger: Logger;
  failure: string;
  drain: (stopped: () => boolean) => Promise<T[]>;
}): PeriodicSweep<T> {
  let running: Promise<T[]> | null = null;
  let stopped = false;

  const sweep = (): Promise<T[]> => {
    running ??= options
      .drain(() => stopped)
      .finally(() => {
        running = null;
      });
    return running;
  };

  const timer = setInterval(() => {
    sweep().catch((error: unknown) => options.logger.warn(options.failure, { error }));
  }, options.intervalMs);

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => []);
    },
  };
}
