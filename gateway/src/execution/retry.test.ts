import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { backoffDelay, isTransientFailure } from "./retry.ts";

/** What Node's fetch really throws, rather than a hand-made imitation. */
async function fetchError(url: string): Promise<unknown> {
  try {
    await fetch(url);
  } catch (error) {
    return error;
  }
  throw new Error(`${url} answered`);
}

describe("isTransientFailure", () => {
  it("is true for a refused connection", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    expect(isTransientFailure(await fetchError(`http://127.0.0.1:${port}/`))).toBe(true);
  });

  it("is true for a connection the server drops without answering", async () => {
    const server = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(isTransientFailure(await fetchError(`http://127.0.0.1:${port}/`))).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("is false for a timeout and for other errors", async () => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const timeout = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(20) }).catch(
        (error: unknown) => error,
      );
      expect(timeout).toMatchObject({ name: "TimeoutError" });
      expect(isTransientFailure(timeout)).toBe(false);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(isTransientFailure(new Error("Expected JSON response body"))).toBe(false);
    const unknownHost = Object.assign(new Error("getaddrinfo ENOTFOUND nowhere"), { code: "ENOTFOUND" });
    expect(isTransientFailure(new TypeError("fetch failed", { cause: unknownHost }))).toBe(false);
  });
});

describe("backoffDelay", () => {
  it("doubles with each retry and stays in the upper half of its step", () => {
    expect([1, 2, 3].map((retry) => backoffDelay(retry, 100, () => 0))).toEqual([50, 100, 200]);
    expect([1, 2, 3].map((retry) => backoffDelay(retry, 100, () => 1))).toEqual([100, 200, 400]);
    for (let i = 0; i < 100; i += 1) {
      const delay = backoffDelay(2, 100);
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(200);
    }
  });
});
