import { Agent, request as httpRequest } from "node:http";
import { ApolloServer } from "@apollo/server";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningHttpServer, sendJson, startHttpServer } from "./http.ts";
import { createLogger } from "./logger.ts";

const logger = createLogger("http-test", "silent");
const running: RunningHttpServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close().catch(() => {})));
});

/** A server whose `GET /slow` answers after `delayMs`; `started` resolves when one arrives. */
async function slowServer(delayMs: number) {
  let arrived: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const server = await startHttpServer({
    apollo: new ApolloServer({ typeDefs: "type Query { a: Int }" }),
    host: "127.0.0.1",
    port: 0,
    logger,
    context: async () => ({}),
    routes: {
      "GET /slow": async (_req, res) => {
        arrived();
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        sendJson(res, 200, { done: true });
      },
    },
  });
  return { server, started };
}

function get(port: number, agent: Agent) {
  return new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: "/slow", agent }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("RunningHttpServer.close", () => {
  it("lets a request in flight finish, closes its keep-alive connection, and resolves right after", async () => {
    const { server, started } = await slowServer(300);
    // A keep-alive client, like the gateway's: its idle connection would otherwise hold the
    // server open until the keep-alive timeout, and could carry new requests meanwhile.
    const agent = new Agent({ keepAlive: true });
    try {
      const response = get(server.port, agent);
      await started;
      const closing = performance.now();
      await server.close();
      const tookMs = performance.now() - closing;
      expect(await response).toEqual({ status: 200, connection: "close", body: '{"done":true}' });
      expect(tookMs).toBeGreaterThanOrEqual(250);
      expect(tookMs).toBeLessThan(2000);
      // Stopped accepting: a new connection is refused.
      await expect(get(server.port, new Agent())).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      agent.destroy();
    }
  });

  it("closes a keep-alive connection whose headers had already gone out when close() came", async () => {
    let arrived: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const server = await startHttpServer({
      apollo: new ApolloServer({ typeDefs: "type Query { a: Int }" }),
      host: "127.0.0.1",
      port: 0,
      logger,
      context: async () => ({}),
      routes: {
        // Streams: the headers (keep-alive) are sent before close() and cannot change after.
        "GET /slow": async (_req, res) => {
          res.writeHead(200, { "content-type": "text/plain" });
          res.write("first ");
          arrived();
          await new Promise((resolve) => setTimeout(resolve, 300));
          res.end("last");
        },
      },
    });
    running.push(server);
    const agent = new Agent({ keepAlive: true });
    try {
      const response = get(server.port, agent);
      await started;
      const closing = performance.now();
      await server.close();
      expect(performance.now() - closing).toBeLessThan(2000);
      expect(await response).toEqual({ status: 200, connection: "keep-alive", body: "first last" });
    } finally {
      agent.destroy();
    }
  });
});
