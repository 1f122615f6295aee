import { type RouteHandler, sendJson } from "@nexus/core";

/**
 * `GET /health/subgraphs`: asks every subgraph's own `/health` and answers 200 when all are
 * healthy, else 503, with one line per subgraph either way. It is kept apart from `/health` on
 * purpose: the gateway's liveness must not depend on its subgraphs, or one subgraph's outage
 * would restart or unroute the gateway for the queries that do not touch it.
 */
export function createSubgraphHealthRoute(
  subgraphUrls: Readonly<Record<string, string>>,
  timeoutMs: number,
): RouteHandler {
  return async (_req, res) => {
    const entries = await Promise.all(
      Object.entries(subgraphUrls).map(async ([name, url]) => [name, await probe(url, timeoutMs)] as const),
    );
    const subgraphs = Object.fromEntries(entries);
    const healthy = entries.every(([, status]) => status === "ok");
    sendJson(res, healthy ? 200 : 503, { status: healthy ? "ok" : "unavailable", subgraphs });
  };
}

async function probe(graphqlUrl: string, timeoutMs: number): Promise<string> {
  try {
    const response = await fetch(new URL("/health", graphqlUrl), { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok ? "ok" : `HTTP ${response.status}`;
  } catch (error) {
    return error instanceof Error && error.name === "TimeoutError"
      ? `no answer within ${timeoutMs} ms`
      : "unreachable";
  }
}
