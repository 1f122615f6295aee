import { describe, expect, it } from "vitest";
import { type CircuitPermit, type CircuitState, createCircuitBreaker } from "./circuit-breaker.ts";

/** A breaker on a clock the test moves, with every change of state recorded. */
function breaker(failureThreshold: number, cooldownMs = 1000) {
  let time = 0;
  const changes: string[] = [];
  const circuit = createCircuitBreaker({
    failureThreshold,
    cooldownMs,
    now: () => time,
    onStateChange: (state: CircuitState, previous: CircuitState) => changes.push(`${previous}->${state}`),
  });
  const acquire = (): CircuitPermit => {
    const permit = circuit.tryAcquire();
    if (!permit) throw new Error(`no permit while ${circuit.state}`);
    return permit;
  };
  return {
    circuit,
    changes,
    acquire,
    fail: (times = 1) => {
      for (let i = 0; i < times; i += 1) acquire().failed();
    },
    advance: (ms: number) => {
      time += ms;
    },
  };
}

describe("createCircuitBreaker", () => {
  it("opens after the threshold of consecutive failures and then refuses every fetch", () => {
    const b = breaker(3);
    b.fail(2);
    expect(b.circuit.state).toBe("closed");
    b.fail();
    expect(b.circuit.state).toBe("open");
    expect(b.changes).toEqual(["closed->open"]);
    expect(b.circuit.tryAcquire()).toBeNull();
    b.advance(999);
    expect(b.circuit.tryAcquire()).toBeNull();
  });

  it("counts only consecutive failures: a success starts the count again", () => {
    const b = breaker(3);
    b.fail(2);
    b.acquire().succeeded();
    b.fail(2);
    expect(b.circuit.state).toBe("closed");
    b.fail();
    expect(b.circuit.state).toBe("open");
  });

  it("lets exactly one trial fetch through after the cooldown, and closes when it succeeds", () => {
    const b = breaker(2);
    b.fail(2);
    b.advance(1000);
    const trial = b.acquire();
    expect(b.circuit.state).toBe("half-open");
    // The trial is still out: everything else keeps failing fast.
    expect(b.circuit.tryAcquire()).toBeNull();
    trial.succeeded();
    expect(b.circuit.state).toBe("closed");
    expect(b.changes).toEqual(["closed->open", "open->half-open", "half-open->closed"]);
    // Closed again with a fresh count: one failure is not enough.
    b.fail();
    expect(b.circuit.state).toBe("closed");
  });

  it("opens again for a whole cooldown when the trial fails", () => {
    const b = breaker(2);
    b.fail(2);
    b.advance(1500);
    b.acquire().failed();
    expect(b.circuit.state).toBe("open");
    b.advance(999);
    expect(b.circuit.tryAcquire()).toBeNull();
    b.advance(1);
    expect(b.circuit.tryAcquire()).not.toBeNull();
    expect(b.changes).toEqual(["closed->open", "open->half-open", "half-open->open", "open->half-open"]);
  });

  it("ignores fetches that were let through before the circuit opened", () => {
    const b = breaker(2);
    const early = b.acquire();
    const late = b.acquire();
    b.fail(2);
    // An answer arriving after the circuit opened neither closes it nor counts again.
    early.succeeded();
    late.failed();
    expect(b.circuit.state).toBe("open");
    b.advance(1000);
    const trial = b.acquire();
    early.failed();
    expect(b.circuit.state).toBe("half-open");
    trial.succeeded();
    expect(b.circuit.state).toBe("closed");
  });

  it("never opens with a threshold of 0", () => {
    const b = breaker(0);
    b.fail(100);
    expect(b.circuit.state).toBe("closed");
    expect(b.changes).toEqual([]);
  });
});
