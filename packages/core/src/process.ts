import { createLogger, type Logger, type LogLevel } from "./logger.ts";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from "./service-config.ts";
import { startTelemetry } from "./telemetry.ts";

/**
 * Runs `stop` once on SIGINT/SIGTERM so connections drain and queues close before exit.
 * A second signal exits at once for an operator who does not want to wait. A stop that takes
 * longer than `timeoutMs` (SHUTDOWN_TIMEOUT_MS) is abandoned: the process logs what happened and
 * exits 1 on its own, before an orchestrator's grace period runs out and it is killed silently.
 */
export function onShutdown(
  logger: Logger,
  stop: () => Promise<void>,
  {
    timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS,
    signals = ["SIGINT", "SIGTERM"],
  }: { timeoutMs?: number | undefined; signals?: readonly NodeJS.Signals[] | undefined } = {},
): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info("shutting down", { signal, timeoutMs });
    setTimeout(() => {
      logger.error(
        `shutdown did not finish within SHUTDOWN_TIMEOUT_MS=${timeoutMs}: exiting with requests or workers unfinished`,
      );
      process.exit(1);
      // Not unref'd: a stop stuck on a promise that holds no handle must still end in this exit.
    }, timeoutMs);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("shutdown failed", { error });
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.once(signal, handler);
}

/** Prints a start-up failure as one readable line (no stack for known problems) and exits. */
export function exitOnStartupError(logger: Logger, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  logger.error(`failed to start: ${message}`);
  process.exit(1);
}

/**
 * What an app has started, stopped again newest first: on `stop()`, or when a later start-up
 * step fails. Every step is attempted; failures are reported together at the end.
 */
export function createShutdownStack(name: string) {
  const stops: (() => Promise<void>)[] = [];
  return {
    defer(stop: () => unknown): void {
      stops.push(async () => {
        await stop();
      });
    },
    async stopAll(): Promise<void> {
      const errors: unknown[] = [];
      for (let stop = stops.pop(); stop; stop = stops.pop()) {
        await stop().catch((error: unknown) => errors.push(error));
      }
      if (errors.length > 0) throw new AggregateError(errors, `${name} did not stop cleanly`);
    },
  };
}

/**
 * The whole of a service's index.ts: load the config, start, and stop on SIGINT/SIGTERM.
 * The signal handlers are installed before start-up, so a signal that arrives mid-start waits
 * for it and then stops cleanly instead of killing the process with stores half open.
 */
export async function runService<C extends { logLevel: LogLevel; shutdownTimeoutMs?: number }>(
  name: string,
  loadConfig: () => C,
  start: (config: C, logger: Logger) => Promise<{ stop(): Promise<void> }>,
  /** The signals that stop it (a cluster worker leaves SIGINT to its primary). */
  options: { signals?: readonly NodeJS.Signals[] } = {},
): Promise<void> {
  let logger = createLogger(name);
  try {
    const config = loadConfig();
    logger = createLogger(name, config.logLevel);
    // The handlers go in before start() runs: a signal that the kernel delivers before they
    // exist kills the process outright, skipping every stop.
    let started: Promise<{ stop(): Promise<void> }> | undefined;
    let stopTelemetry = async () => {};
    onShutdown(
      logger,
      async () => {
        await (await started)?.stop();
        // Last, so the spans of the requests drained above are exported.
        await stopTelemetry();
      },
      { timeoutMs: config.shutdownTimeoutMs, signals: options.signals },
    );
    stopTelemetry = await startTelemetry(name);
    started = start(config, logger);
    await started;
  } catch (error) {
    exitOnStartupError(logger, error);
  }
}
