/**
 * The usage reporter against a real HTTP server standing in for the users subgraph's
 * `/partner-usage`, which checks the subgraph signature the way every subgraph does.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SUBGRAPH_SIGNATURE_HEADER, type SubgraphSecrets, verifySubgraphSignature } from "@nexus/core";
import { createRecordingLogger } from "@nexus/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPartnerUsageReporter } from "./partner-usage.ts";

const secrets: SubgraphSecrets = { current: "partner-usage-test-secret-with-enough-length" };
const A = "a".repeat(64);
const B = "b".repeat(64);

interface Report {
  entries: {
    client: string;
    operationId: string;
    day: string;
    requests: number;
    errors: number;
    lastUsedAt: string;
  }[];
}

let server: Server;
let url: string;
let answer = 200;
const reports: Report[] = [];
const unsigned: string[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    const header = req.headers[SUBGRAPH_SIGNATURE_HEADER];
    if (!verifySubgraphSignature(secrets, Array.isArray(header) ? header[0] : header, body))
      unsigned.push(body);
    else if (answer === 200) reports.push(JSON.parse(body) as Report);
    res.statusCode = answer;
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/partner-usage`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  answer = 200;
  reports.length = 0;
  unsigned.length = 0;
});

const reporter = (options: { maxEntries?: number; now?: () => Date } = {}) => {
  const { logger, logs } = createRecordingLogger();
  // A long interval: the tests flush by hand.
  return { logs, usage: createPartnerUsageReporter({ url, secrets, flushMs: 60_000, logger, ...options }) };
};

describe("the partner usage reporter", () => {
  it("sends one signed report per flush, counts added up per client, operation and UTC day", async () => {
    let now = new Date("2026-06-01T23:59:59.000Z");
    const { usage } = reporter({ now: () => now });
    usage.record("acme", A, false);
    usage.record("acme", A, true);
    usage.record("acme", B, false);
    usage.record("other", A, false);
    now = new Date("2026-06-02T00:00:01.000Z");
    usage.record("acme", A, false);
    await usage.flush();
    expect(unsigned).toEqual([]);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.entries).toEqual([
      {
        client: "acme",
        operationId: A,
        day: "2026-06-01",
        requests: 2,
        errors: 1,
        lastUsedAt: "2026-06-01T23:59:59.000Z",
      },
      {
        client: "acme",
        operationId: B,
        day: "2026-06-01",
        requests: 1,
        errors: 0,
        lastUsedAt: "2026-06-01T23:59:59.000Z",
      },
      {
        client: "other",
        operationId: A,
        day: "2026-06-01",
        requests: 1,
        errors: 0,
        lastUsedAt: "2026-06-01T23:59:59.000Z",
      },
      {
        client: "acme",
        operationId: A,
        day: "2026-06-02",
        requests: 1,
        errors: 0,
        lastUsedAt: "2026-06-02T00:00:01.000Z",
      },
    ]);
    // Nothing new, nothing sent.
    await usage.flush();
    expect(reports).toHaveLength(1);
    await usage.stop();
  });

  it("keeps a report the users subgraph does not take and sends it with the next", async () => {
    const { usage, logs } = reporter();
    usage.record("acme", A, false);
    answer = 503;
    await usage.flush();
    expect(reports).toEqual([]);
    expect(logs.map((log) => log.message)).toContain("partner usage report not taken; kept for the next");
    answer = 200;
    usage.record("acme", A, true);
    await usage.flush();
    expect(reports.map((report) => report.entries.map(({ requests, errors }) => [requests, errors]))).toEqual(
      [[[2, 1]]],
    );
    await usage.stop();
  });

  it("keeps at most maxEntries counts while reports fail, and says how many requests it dropped", async () => {
    const { usage, logs } = reporter({ maxEntries: 2 });
    answer = 500;
    usage.record("acme", A, false);
    usage.record("acme", B, false);
    usage.record("other", A, false);
    usage.record("other", A, false);
    usage.record("acme", A, false);
    await usage.flush();
    expect(logs.find((log) => log.message.startsWith("partner usage counts dropped"))?.fields).toMatchObject({
      requests: 2,
    });
    answer = 200;
    await usage.stop();
    expect(
      reports[0]?.entries.map(({ client, operationId, requests }) => [client, operationId, requests]),
    ).toEqual([
      ["acme", A, 2],
      ["acme", B, 1],
    ]);
  });

  it("sends what is left when it stops", async () => {
    const { usage } = reporter();
    usage.record("acme", B, false);
    await usage.stop();
    expect(reports.map((report) => report.entries.length)).toEqual([1]);
  });
});
