/**
 * A closed-loop load generator: `connections` clients over keep-alive sockets, each sending
 * its next request as soon as the previous answer is read, for a fixed time. Every answer is
 * checked, so a gateway that fails fast cannot look fast.
 */
import { Agent, request } from "node:http";

export interface LoadOptions {
  url: string;
  body: string;
  connections: number;
  durationMs: number;
  /** Headers of the next request (e.g. a fresh token for each). */
  headers(): Record<string, string>;
  /** Throws when an answer is not what it should be. */
  check(status: number, body: string): void;
}

export interface LoadResult {
  requests: number;
  /** Milliseconds per request, in completion order. */
  latenciesMs: number[];
  failures: number;
  firstFailure: string | null;
  elapsedMs: number;
}

function post(agent: Agent, url: URL, body: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const result: LoadResult = { requests: 0, latenciesMs: [], failures: 0, firstFailure: null, elapsedMs: 0 };
  const started = performance.now();
  const deadline = started + options.durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const { status, body } = await post(agent, url, options.body, options.headers());
        options.check(status, body);
        result.latenciesMs.push(performance.now() - sent);
        result.requests += 1;
      } catch (error) {
        result.failures += 1;
        result.firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, client));
  result.elapsedMs = performance.now() - started;
  agent.destroy();
  return result;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
