import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small HTTP proxy in front of one subgraph, for chaos tests: the gateway is pointed at it
 * (`<NAME>_URL`) and a test makes the subgraph look stopped, slow or failing without touching
 * the subgraph itself, whose other callers (another subgraph, the JWKS) are unaffected.
 */
export interface SubgraphProxy {
  url: string;
  /** Requests that reached the proxy, whatever it did with them; none arrive while stopped. */
  requests(): number;
  /** Stops listening: connections are refused, as they are by a subgraph that is not running. */
  stop(): Promise<void>;
  /** Listens again on the same port and passes requests through with no delay or failure. */
  start(): Promise<void>;
  /** Holds every request this long before passing it on: a slow subgraph. 0 ends it. */
  delay(ms: number): void;
  /** Answers every request with this HTTP status itself, as a load balancer without a healthy upstream. null ends it. */
  failWith(status: number | null): void;
  close(): Promise<void>;
}

export async function startSubgraphProxy(targetUrl: string): Promise<SubgraphProxy> {
  const target = new URL(targetUrl);
  let delayMs = 0;
  let failure: number | null = null;
  let requests = 0;
  let listening = false;

  const server: Server = createServer((req, res) => {
    requests += 1;
    const forward = () => {
      // The gateway gave up while the request was held: a stalled subgraph never answers it.
      if (req.socket.destroyed) return;
      if (failure !== null) {
        res.writeHead(failure, { "content-type": "text/plain" });
        res.end(`proxy: HTTP ${failure}`);
        return;
      }
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    };
    if (delayMs > 0) setTimeout(forward, delayMs);
    else forward();
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        listening = true;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
      // Kept-alive connections from the gateway would otherwise keep working.
      server.closeAllConnections();
    });

  await listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    requests: () => requests,
    stop,
    async start() {
      delayMs = 0;
      failure = null;
      if (!listening) await listen(port);
    },
    delay(ms) {
      delayMs = ms;
    },
    failWith(status) {
      failure = status;
    },
    close: stop,
  };
}
