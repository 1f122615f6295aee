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
