import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const FAILPOINT = fileURLToPath(new URL("./failpoint.ts", import.meta.url));

/** Reaches consumer.before-commit three times in a process of its own, saying so before each. */
function reachThreeTimes(env: Record<string, string>) {
  const script = `
    const { failpoint } = await import(${JSON.stringify(FAILPOINT)});
    for (const n of [1, 2, 3]) { process.stdout.write(n + " "); failpoint("consumer.before-commit"); }
    process.stdout.write("done");`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, NODE_ENV: "test", ...env },
    encoding: "utf8",
  });
  return { output: child.stdout, signal: child.signal };
}

describe("failpoint", () => {
  it("kills the process the first time it reaches the named point", () => {
    expect(reachThreeTimes({ NEXUS_FAILPOINT: "consumer.before-commit" })).toEqual({
      output: "1 ",
      signal: "SIGKILL",
    });
  });

  it("kills it the N-th time with name@N", () => {
    expect(reachThreeTimes({ NEXUS_FAILPOINT: "consumer.before-commit@3" })).toEqual({
      output: "1 2 3 ",
      signal: "SIGKILL",
    });
  });

  it("does nothing at another point, or in production", () => {
    expect(reachThreeTimes({ NEXUS_FAILPOINT: "consumer.after-commit" })).toEqual({
      output: "1 2 3 done",
      signal: null,
    });
    expect(reachThreeTimes({ NEXUS_FAILPOINT: "consumer.before-commit", NODE_ENV: "production" })).toEqual({
      output: "1 2 3 done",
      signal: null,
    });
  });
});
