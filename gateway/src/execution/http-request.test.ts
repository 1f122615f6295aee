/**
 * The subgraph fetches' HTTP client against a real server: what it reads, what it reuses, and
 * that a cut or aborted answer is a failure, never a short body. Timeouts, retries and the
 * breaker around it are datasource.test.ts's.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpClient } from "./http-request.ts";

let server: Server | undefined;
const client = createHttpClient();

afterEach(async () => {
  const open = server;
  server = undefined;
  if (!open) return;
  open.closeAllConnections();
  await new Promise((done) => open.close(done));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((done) => server?.listen(0, "127.0.0.1", done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

const post = (body: string, signal: AbortSignal = AbortSignal.timeout(5000)) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body,
  signal,
});

describe("createHttpClient", () => {
  it("sends the body with its length and reads the whole answer, status and headers", async () => {
    const url = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        res.setHeader("x-length", String(req.headers["content-length"]));
        res.writeHead(201, "Made");
        // Two writes: the answer arrives in more than one chunk.
        res.write(`{"echo":${Buffer.concat(chunks).toString()},`);
        res.end(`"end":"é"}`);
      });
    });
    const answer = await client.send(url, post(`{"q":"ü"}`));
    expect(answer.status).toBe(201);
    expect(answer.statusText).toBe("Made");
    expect(answer.headers).toContainEqual(["x-length", String(Buffer.byteLength(`{"q":"ü"}`))]);
    expect(JSON.parse(answer.body)).toEqual({ echo: { q: "ü" }, end: "é" });
  });

  it("reuses one connection for requests one after another", async () => {
    const ports = new Set<number>();
    const url = await serve((req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      res.end("{}");
    });
    for (let i = 0; i < 5; i += 1) await client.send(url, post("{}"));
    expect(ports.size).toBe(1);
  });

  it("fails an answer cut off before its end with ECONNRESET", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write(`{"data":`);
      setTimeout(() => res.socket?.destroy(), 10);
    });
    await expect(client.send(url, post("{}"))).rejects.toMatchObject({ code: "ECONNRESET" });
  });

  it("fails with the abort when the signal fires while waiting for the answer", async () => {
    const url = await serve(() => {
      // Never answers.
    });
    await expect(client.send(url, post("{}", AbortSignal.timeout(50)))).rejects.toMatchObject({
      name: "AbortError",
    });
  });

  it("fails a refused connection with Node's socket error code", async () => {
    const url = await serve((_req, res) => res.end("{}"));
    const closing = server;
    server = undefined;
    await new Promise((done) => closing?.close(done));
    await expect(client.send(url, post("{}"))).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
