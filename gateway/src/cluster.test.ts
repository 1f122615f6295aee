/**
 * GATEWAY_WORKERS: the gateway's own entry (`node gateway/src/index.ts`) started as a real
 * process with two workers on one port. Requests reach both workers, `/metrics` sums them
 * whichever worker answers, a killed worker is replaced while the other keeps serving, SIGTERM
 * stops everything cleanly, and a worker that cannot start fails the whole start-up.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunningHttpServer } from "@nexus/core";
import { TEST_REDIS_URL, testRedisPrefix, until } from "@nexus/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestSubgraph, writeTestSupergraph } from "./test-harness.ts";

const ENTRY = fileURLToPath(new URL("./index.ts", import.meta.url));
const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key"])
type Query { hello: String }
`;

interface LogLine {
  msg: string;
  pid?: number;
  pids?: number[];
  url?: string;
  [field: string]: unknown;
}

/** A started gateway process and every JSON line it (and its workers) wrote. */
interface GatewayProcess {
  child: ChildProcess;
  lines: LogLine[];
  exited: Promise<number | null>;
}

const tmp = mkdtempSync(join(tmpdir(), "nexus-gateway-cluster-"));
let subgraph: RunningHttpServer;
let supergraphPath: string;
const started: GatewayProcess[] = [];

beforeAll(async () => {
  subgraph = await startTestSubgraph(SDL, { Query: { hello: () => "world" } });
  supergraphPath = writeTestSupergraph(tmp, [{ name: "hello", url: subgraph.url, sdl: SDL }]);
});

afterEach(() => {
  for (const { child } of started.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

afterAll(async () => {
  await subgraph?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function startGatewayProcess(env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, [ENTRY], {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      GATEWAY_PORT: "0",
      SUPERGRAPH_PATH: supergraphPath,
      REDIS_URL: TEST_REDIS_URL,
      GATEWAY_REDIS_PREFIX: testRedisPrefix("cluster"),
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  let buffered = "";
  const read = (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const complete = buffered.split("\n");
    buffered = complete.pop() ?? "";
    for (const line of complete) {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ msg: line });
      }
    }
  };
  child.stdout?.on("data", read);
  child.stderr?.on("data", read);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const running = { child, lines, exited };
  started.push(running);
  return running;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const hello = (url: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "query Hello { hello }" }),
  });

/** The sum of a counter's series in Prometheus text, e.g. every `operation="Hello"` request. */
function counterSum(text: string, name: string, labelPart: string): number {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labelPart))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

describe("GATEWAY_WORKERS=2", () => {
  it("serves one port from two workers, sums their metrics, replaces a dead worker and stops on SIGTERM", async () => {
    const gateway = startGatewayProcess({ GATEWAY_WORKERS: "2" });
    const ready = await until(
      "both workers listening",
      () => gateway.lines.find((line) => line.msg === "gateway workers ready"),
      { timeoutMs: 30_000 },
    );
    const pids = ready.pids ?? [];
    expect(pids).toHaveLength(2);
    const url = gateway.lines.find((line) => line.msg === "gateway ready")?.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);

    // Connections are handed out round-robin: 40 requests reach both workers.
    for (let i = 0; i < 40; i++) {
      const response = await hello(url);
      expect(await response.json()).toMatchObject({ data: { hello: "world" } });
    }
    const answeredBy = new Set(
      gateway.lines
        .filter((line) => line.operation === "Hello" && line.pid !== undefined)
        .map((line) => line.pid),
    );
    expect([...answeredBy].sort()).toEqual([...pids].sort());

    // Whichever worker answers the scrape, it reports all 40.
    for (let i = 0; i < 4; i++) {
      const metrics = await (await fetch(url.replace(/graphql$/, "metrics"))).text();
      expect(counterSum(metrics, "nexus_gateway_requests_total", 'operation="Hello"')).toBe(40);
    }

    // A worker killed outright is replaced; the other one serves meanwhile.
    const [victim, survivor] = pids as [number, number];
    process.kill(victim, "SIGKILL");
    await until("the dead worker reported", () =>
      gateway.lines.some(
        (line) => line.msg === "gateway worker died; starting another" && line.pid === victim,
      ),
    );
    expect((await hello(url)).status).toBe(200);
    const replacement = await until(
      "a new worker listening",
      () =>
        gateway.lines.find(
          (line) => line.msg === "gateway ready" && line.pid !== undefined && !pids.includes(line.pid),
        )?.pid,
      { timeoutMs: 30_000 },
    );

    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toBe(0);
    await until("every worker gone", () => !alive(survivor) && !alive(replacement));
  });

  it("fails start-up, leaving no worker behind, when a worker cannot listen", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const gateway = startGatewayProcess({ GATEWAY_WORKERS: "2", GATEWAY_PORT: String(port) });
      expect(await gateway.exited).toBe(1);
      expect(gateway.lines.map((line) => line.msg)).toContain("gateway worker failed to start");
      const forked = gateway.lines.flatMap((line) => (typeof line.pid === "number" ? [line.pid] : []));
      for (const pid of forked) expect(alive(pid)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
