import type { Logger } from "./logger.ts";

/**
 * Runs `stop` once on SIGINT/SIGTERM so connections drain and queues close before exit.
 * A second signal exits at once for an operator who does not want to wait.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info("shutting down", { signal });
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("shutdown failed", { error });
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
}

/** Prints a start-up failure as one readable line (no stack for known problems) and exits. */
export function exitOnStartupError(logger: Logger, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  logger.error(`failed to start: ${message}`);
  process.exit(1);
}
