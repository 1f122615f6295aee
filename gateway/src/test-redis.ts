/**
 * A Redis of a test's own, for what must never be done to the shared one: pausing it. Started
 * from `redis-server` on a free port, in memory only, and stopped by the test. Tests only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { connectRedis } from "@nexus/stores";
import { freePort } from "@nexus/testing";
import type { Redis } from "ioredis";

export interface PrivateRedis {
  url: string;
  /** A connection of the test's own, e.g. to count commands with MONITOR. */
  admin: Redis;
  /** Holds every later command unanswered, the admin connection's own too, until `stop`. */
  pause(): Promise<void>;
  stop(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  // Wait for the port with plain connections: ioredis would report each refusal as an error.
  for (let attempt = 0; !(await accepts(port)); attempt += 1) {
    if (attempt >= 50) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const admin = await connectRedis(url);
  return {
    url,
    admin,
    async pause() {
      await admin.call("CLIENT", "PAUSE", "600000", "ALL");
    },
    async stop() {
      admin.disconnect();
      child.kill("SIGKILL");
      await exited;
    },
  };
}
