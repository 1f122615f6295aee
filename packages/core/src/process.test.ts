import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("runService", () => {
  it("lets a signal that arrives mid-start wait for start-up, then stops cleanly", async () => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL("fixtures/slow-service.ts", import.meta.url))],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output === "starting\n") child.kill("SIGTERM");
    });
    const [code, signal] = await once(child, "exit");
    expect({ code, signal, output }).toEqual({
      code: 0,
      signal: null,
      output: "starting\nstarted\nstopped\n",
    });
  });
});

describe("runService's shutdown timeout (SHUTDOWN_TIMEOUT_MS)", () => {
  /** Starts the fixture, sends SIGTERM once it has started, and reports how it ended. */
  async function stopService(env: Record<string, string>) {
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL("fixtures/stopping-service.ts", import.meta.url))],
      { stdio: ["ignore", "pipe", "inherit"], env: { PATH: process.env.PATH ?? "", ...env } },
    );
    let output = "";
    let signalled = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (signalled === 0 && output.startsWith("started\n")) {
        signalled = performance.now();
        child.kill("SIGTERM");
      }
    });
    const [code] = await once(child, "exit");
    return { code, output, tookMs: performance.now() - signalled };
  }

  it("waits for a stop that finishes in time and exits 0", async () => {
    const { code, output, tookMs } = await stopService({ STOP_MS: "400", SHUTDOWN_TIMEOUT_MS: "5000" });
    expect({ code, output }).toEqual({ code: 0, output: "started\nstopped\n" });
    expect(tookMs).toBeGreaterThanOrEqual(400);
  });

  it("exits 1 with a log line once a stop overruns the timeout, long before the stop would end", async () => {
    for (const STOP_MS of ["never", "20000"]) {
      const { code, output, tookMs } = await stopService({ STOP_MS, SHUTDOWN_TIMEOUT_MS: "500" });
      expect(code, STOP_MS).toBe(1);
      const [started, timedOut, ...rest] = output.split("\n");
      expect(started).toBe("started");
      expect(JSON.parse(timedOut ?? "")).toMatchObject({
        level: "error",
        msg: "shutdown did not finish within SHUTDOWN_TIMEOUT_MS=500: exiting with requests or workers unfinished",
      });
      expect(rest).toEqual([""]);
      expect(tookMs).toBeGreaterThanOrEqual(500);
      expect(tookMs).toBeLessThan(5000);
    }
  });
});
