import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** An HTTP answer read to its end. */
export interface Answer {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
}

export interface SendInit {
  method?: string | undefined;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  /** Aborts connecting, waiting and reading the body alike. */
  signal: AbortSignal;
}

/**
 * Keep-alive connections and a request over them, read to its end.
 *
 * Node's `fetch` would do the same through WHATWG streams, a `Request`, `Headers` and an
 * `AbortSignal` per call: under load that came to about a sixth of the gateway's CPU on the
 * federation benchmark (`pnpm bench:gateway`), more than every policy together. The gateway
 * reads each answer whole, so `node:http` gives it the same bytes for far less.
 *
 * Failures keep Node's socket error codes (`ECONNREFUSED`, `ECONNRESET` ...) on the error
 * itself, which is where `isTransientFailure` looks first; an abort rejects with the signal's
 * `AbortError`.
 */
export function createHttpClient(): { send(url: string, init: SendInit): Promise<Answer>; close(): void } {
  const http = new HttpAgent({ keepAlive: true });
  const https = new HttpsAgent({ keepAlive: true });
  return {
    send: (url, { method, headers, body, signal }) =>
      new Promise<Answer>((resolve, reject) => {
        const target = new URL(url);
        const secure = target.protocol === "https:";
        const [agent, request] = secure ? [https, httpsRequest] : [http, httpRequest];
        const outgoing: Record<string, string | number> = { ...headers };
        if (body !== undefined && !hasHeader(headers, "content-length")) {
          outgoing["content-length"] = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
        }
        const req = request(target, { agent, method: method ?? "GET", headers: outgoing, signal }, (res) =>
          readAnswer(res).then(resolve, reject),
        );
        req.once("error", reject);
        req.end(body);
      }),
    close: () => {
      http.destroy();
      https.destroy();
    },
  };
}

function readAnswer(res: IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.once("error", reject);
    // A connection that closes before the end of the body is a failure, not a short answer.
    res.once("aborted", () => reject(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })));
    res.once("end", () => {
      const headers: [string, string][] = [];
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        headers.push([(res.rawHeaders[i] as string).toLowerCase(), res.rawHeaders[i + 1] as string]);
      }
      resolve({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? "",
        headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
    });
  });
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}
