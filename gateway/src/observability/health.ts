import {
  type RouteHandler,
  SUBGRAPH_AUTH_CHALLENGE,
  type SubgraphSecrets,
  sendJson,
  subgraphAuthHeaders,
} from "@nexus/core";

/**
 * `GET /ready`: the supergraph is loaded (this route is only served once ApolloServer has
 * started, which loads it and builds the query planner) and every subgraph answers its own
 * `/health`. 200 when all do, else 503, with one line per subgraph either way.
 *
 * The probes are signed: a subgraph's `/health` is open, but refuses (401) a signature that
 * does not hold, so a subgraph that would refuse the gateway's fetches is not ready either.
 *
 * `/health` stays liveness only: it must not depend on subgraphs, or one subgraph's outage
 * would restart every gateway replica, including for the operations that do not touch it.
 */
export function createReadinessRoute(
  subgraphUrls: Readonly<Record<string, string>>,
  timeoutMs: number,
  secrets: SubgraphSecrets,
): RouteHandler {
  return async (_req, res) => {
    const entries = await Promise.all(
      Object.entries(subgraphUrls).map(
        async ([name, url]) => [name, await probe(url, timeoutMs, secrets)] as const,
      ),
    );
    const subgraphs = Object.fromEntries(entries);
    const ready = entries.every(([, status]) => status === "ok");
    sendJson(res, ready ? 200 : 503, {
      status: ready ? "ok" : "unavailable",
      supergraph: "loaded",
      subgraphs,
    });
  };
}

async function probe(graphqlUrl: string, timeoutMs: number, secrets: SubgraphSecrets): Promise<string> {
  try {
    const response = await fetch(new URL("/health", graphqlUrl), {
      headers: subgraphAuthHeaders(secrets),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    if (response.headers.get("www-authenticate") === SUBGRAPH_AUTH_CHALLENGE) {
      return "refuses the gateway's SUBGRAPH_SECRET";
    }
    return response.ok ? "ok" : `HTTP ${response.status}`;
  } catch (error) {
    return error instanceof Error && error.name === "TimeoutError"
      ? `no answer within ${timeoutMs} ms`
      : "unreachable";
  }
}
