/**
 * What the gateway's tests put in front of it: tiny real subgraphs built with
 * @apollo/subgraph (no Nexus subgraph is imported), the supergraph composed from them, and
 * ports that refuse connections. Tests only; nothing in the gateway imports it.
 */
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { composeServices } from "@apollo/composition";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema, type GraphQLResolverMap } from "@apollo/subgraph";
import {
  createLogger,
  createSubgraphAuthenticator,
  type RouteHandler,
  type RunningHttpServer,
  type SubgraphSecrets,
  startHttpServer,
} from "@nexus/core";
import { parse } from "graphql";
import { expect } from "vitest";

const logger = createLogger("test-subgraph", "silent");

export interface TestSubgraphOptions {
  /** Sees each request before it runs: to count requests or record their headers. */
  onRequest?: (req: IncomingMessage) => void;
  /** Extra HTTP routes, e.g. a JWKS document or a stand-in for the API key exchange. */
  routes?: Record<string, RouteHandler>;
  plugins?: ApolloServerPlugin[];
  /** As a subgraph run without NODE_ENV=production answers: with stack traces. */
  includeStacktraceInErrorResponses?: boolean;
  /** Answer only callers that sign with these, as every Nexus subgraph does (routes included). */
  secrets?: SubgraphSecrets;
  /** Routes served to anyone even with `secrets`, e.g. a JWKS document. */
  publicRoutes?: Record<string, RouteHandler>;
}

/** A subgraph on a free port of 127.0.0.1, served like every Nexus service. */
export function startTestSubgraph(
  sdl: string,
  resolvers: GraphQLResolverMap<unknown>,
  options: TestSubgraphOptions = {},
): Promise<RunningHttpServer> {
  return startHttpServer({
    apollo: new ApolloServer({
      schema: buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]),
      plugins: [ApolloServerPluginInlineTraceDisabled(), ...(options.plugins ?? [])],
      includeStacktraceInErrorResponses: options.includeStacktraceInErrorResponses ?? false,
    }),
    host: "127.0.0.1",
    port: 0,
    logger,
    routes: options.routes,
    authenticate: options.secrets && createSubgraphAuthenticator(options.secrets),
    publicRoutes: options.publicRoutes,
    context: async (req) => {
      options.onRequest?.(req);
      return {};
    },
  });
}

/** Composes the subgraphs and writes the supergraph to `dir/file`; returns its path. */
export function writeTestSupergraph(
  dir: string,
  subgraphs: { name: string; url: string; sdl: string }[],
  file = "supergraph.graphql",
): string {
  const result = composeServices(
    subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })),
  );
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join("\n"));
  const path = join(dir, file);
  writeFileSync(path, result.supergraphSdl);
  return path;
}

export interface RawServer {
  url: string;
  /** Requests received so far, on any path. */
  requests(): number;
  close(): Promise<void>;
}

/** A plain HTTP server answering every path, `/health` included, with `respond`: a broken subgraph. */
export async function startRawServer(respond: RequestListener): Promise<RawServer> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    respond(req, res);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Listens on a free port of 127.0.0.1 and returns it. */
export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A GraphQL URL nothing listens on: its port was bound once, then released. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/graphql`;
}

/** A gateway's HTTP answer, read whole. */
export interface HttpResult {
  status: number;
  headers: Headers;
  body: {
    data?: unknown;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
    extensions?: { cost?: Record<string, number> };
  };
}

/** POSTs a GraphQL-over-HTTP body as JSON, as a client would. */
export async function post(
  endpoint: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as HttpResult["body"],
  };
}

/** The rate limit's refusal: 429, a Retry-After within the window, and the error clients read. */
export function expectRateLimited(refused: HttpResult, limit: number): void {
  expect(refused.status).toBe(429);
  const retryAfter = Number(refused.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(refused.body).toEqual({
    errors: [
      {
        message: `Too many requests: this client may send ${limit} every 60 s. Retry after ${retryAfter} s.`,
        extensions: { code: "RATE_LIMITED", limit, windowSeconds: 60, retryAfterSeconds: retryAfter },
      },
    ],
  });
}
