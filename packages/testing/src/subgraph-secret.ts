import { subgraphAuthHeaders } from "@nexus/core";

/** The subgraph secret services started by tests share (`SUBGRAPH_SECRET`). */
export const TEST_SUBGRAPH_SECRET = "nexus-test-subgraph-secret-not-for-production";

/** Headers of a JSON request to a subgraph, signed as the gateway signs its own. */
export function testSubgraphHeaders(
  body: string,
  secret: string = TEST_SUBGRAPH_SECRET,
): Record<string, string> {
  return { "content-type": "application/json", ...subgraphAuthHeaders({ current: secret }, body) };
}
