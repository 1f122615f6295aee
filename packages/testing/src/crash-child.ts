/**
 * Processes for crash tests to kill for real. The test starts a child script with an IPC channel
 * (`startCrashChild`); the child starts its part, then calls `serveUntilParentLeaves` with how to
 * stop it, which says "ready" and shuts the part down when the parent disconnects, so a finished
 * or crashed test leaves no orphans. Only node built-ins here: a child imports this module
 * outside vitest.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface CrashChild {
  process: ChildProcess;
  /** Resolves with the signal that ended the process (null for a normal exit). */
  exited: Promise<NodeJS.Signals | null>;
  /** Disconnects; the child shuts its part down and exits. */
  stop(): Promise<NodeJS.Signals | null>;
  /** SIGKILL, no shutdown of any kind; resolves once the process is gone. */
  kill(): Promise<NodeJS.Signals | null>;
}

const running = new Set<ChildProcess>();

/**
 * Runs `node script ...args` with `env` added to this process's environment and waits until the
 * child says it is ready. A child that SIGKILLs itself first (a failpoint that fired early) is
 * returned all the same, for the caller to inspect `exited`; any other early exit throws.
 */
export async function startCrashChild(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<CrashChild> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  running.add(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once("exit", (_code, signal) => {
      running.delete(child);
      resolve(signal);
    }),
  );
  await Promise.race([
    new Promise<void>((resolve) => child.once("message", () => resolve())),
    exited.then((signal) => {
      if (signal !== "SIGKILL") throw new Error(`${script} ${args.join(" ")} exited before it was ready`);
    }),
  ]);
  return {
    process: child,
    exited,
    stop() {
      if (child.connected) child.disconnect();
      return exited;
    },
    kill() {
      child.kill("SIGKILL");
      return exited;
    },
  };
}

/** SIGKILLs every crash child still running (a test's afterEach/afterAll). */
export function killCrashChildren(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** In a child: an environment variable the test must have set. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** In a child, once its part runs: says "ready", and stops it in order when the parent leaves. */
export function serveUntilParentLeaves(stops: readonly (() => unknown)[]): void {
  process.on("disconnect", async () => {
    for (const stop of stops) {
      try {
        await stop();
      } catch {
        // Shutting down anyway: the next part still gets its stop.
      }
    }
    process.exit(0);
  });
  process.send?.("ready");
}
