import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  backoffDelay,
  type CircuitStateName,
  createResiliencePolicy,
  isCircuitOpen,
  isTransientFailure,
} from "./resilience.ts";

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
    const random = vi.spyOn(Math, "random");
    random.mockReturnValue(0);
    expect([1, 2, 3].map((retry) => backoffDelay(retry, 100))).toEqual([50, 100, 200]);
    random.mockReturnValue(1);
    expect([1, 2, 3].map((retry) => backoffDelay(retry, 100))).toEqual([100, 200, 400]);
    random.mockRestore();
    for (let i = 0; i < 100; i += 1) {
      const delay = backoffDelay(2, 100);
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(200);
    }
  });
});

/** Lets pending promise callbacks and I/O run: an open circuit refuses within one turn. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A call the breaker let through, answered when the test says so. */
interface Permit {
  succeeded(): Promise<void>;
  failed(): Promise<void>;
}

/** A breaker on a clock the test moves (cockatiel reads `Date.now()`), with every change of state recorded. */
function breaker(failures: number, cooldownMs = 1000) {
  const changes: string[] = [];
  const policy = createResiliencePolicy(
    { timeoutMs: 60_000, retries: { attempts: 0, backoffMs: 0 }, circuitBreaker: { failures, cooldownMs } },
    {
      onCircuitStateChange: (state: CircuitStateName, previous: CircuitStateName) =>
        changes.push(`${previous}->${state}`),
    },
  );
  /** Sends a call and leaves it waiting for its answer; null when the circuit refuses it. */
  const tryAcquire = async (): Promise<Permit | null> => {
    let answer: (status: number) => void = () => {};
    const answered = new Promise<{ status: number }>((resolve) => {
      answer = (status) => resolve({ status });
    });
    const call = policy.execute(() => answered, { retry: false });
    let refused = false;
    call.catch((error: unknown) => {
      refused = isCircuitOpen(error);
    });
    await turn();
    if (refused) return null;
    const settle = async (status: number) => {
      answer(status);
      await call;
    };
    return { succeeded: () => settle(200), failed: () => settle(503) };
  };
  const acquire = async (): Promise<Permit> => {
    const permit = await tryAcquire();
    if (!permit) throw new Error(`no permit while ${policy.circuitState}`);
    return permit;
  };
  return {
    circuit: {
      get state() {
        return policy.circuitState;
      },
      tryAcquire,
    },
    changes,
    acquire,
    fail: async (times = 1) => {
      for (let i = 0; i < times; i += 1) await (await acquire()).failed();
    },
    advance: (ms: number) => {
      vi.setSystemTime(Date.now() + ms);
    },
  };
}

describe("the circuit breaker", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("opens after the threshold of consecutive failures and then refuses every fetch", async () => {
    const b = breaker(3);
    await b.fail(2);
    expect(b.circuit.state).toBe("closed");
    await b.fail();
    expect(b.circuit.state).toBe("open");
    expect(b.changes).toEqual(["closed->open"]);
    expect(await b.circuit.tryAcquire()).toBeNull();
    b.advance(999);
    expect(await b.circuit.tryAcquire()).toBeNull();
  });

  it("counts only consecutive failures: a success starts the count again", async () => {
    const b = breaker(3);
    await b.fail(2);
    await (await b.acquire()).succeeded();
    await b.fail(2);
    expect(b.circuit.state).toBe("closed");
    await b.fail();
    expect(b.circuit.state).toBe("open");
  });

  it("lets exactly one trial fetch through after the cooldown, and closes when it succeeds", async () => {
    const b = breaker(2);
    await b.fail(2);
    b.advance(1000);
    const trial = await b.acquire();
    expect(b.circuit.state).toBe("half-open");
    // The trial is still out: everything else keeps failing fast.
    expect(await b.circuit.tryAcquire()).toBeNull();
    await trial.succeeded();
    expect(b.circuit.state).toBe("closed");
    expect(b.changes).toEqual(["closed->open", "open->half-open", "half-open->closed"]);
    // Closed again with a fresh count: one failure is not enough.
    await b.fail();
    expect(b.circuit.state).toBe("closed");
  });

  it("opens again for a whole cooldown when the trial fails", async () => {
    const b = breaker(2);
    await b.fail(2);
    b.advance(1500);
    await (await b.acquire()).failed();
    expect(b.circuit.state).toBe("open");
    b.advance(999);
    expect(await b.circuit.tryAcquire()).toBeNull();
    b.advance(1);
    expect(await b.circuit.tryAcquire()).not.toBeNull();
    expect(b.changes).toEqual(["closed->open", "open->half-open", "half-open->open", "open->half-open"]);
  });

  it("ignores fetches that were let through before the circuit opened", async () => {
    const b = breaker(2);
    const early = await b.acquire();
    const late = await b.acquire();
    await b.fail(2);
    // An answer arriving after the circuit opened neither closes it nor counts again.
    await early.succeeded();
    await late.failed();
    expect(b.circuit.state).toBe("open");
    b.advance(1000);
    const trial = await b.acquire();
    await early.failed();
    expect(b.circuit.state).toBe("half-open");
    await trial.succeeded();
    expect(b.circuit.state).toBe("closed");
  });

  it("never opens with a threshold of 0", async () => {
    const b = breaker(0);
    await b.fail(100);
    expect(b.circuit.state).toBe("closed");
    expect(b.changes).toEqual([]);
  });
});
