/** A minimal GraphQL-over-HTTP client for scripts and end-to-end tests, as a real client would call. */
import { type SubgraphSecrets, subgraphAuthHeaders } from "@nexus/core";

export interface GraphQLResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export async function graphql<T>(
  endpoint: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  /** Signs the call as the gateway does: for a subgraph called directly. */
  signWith?: SubgraphSecrets,
): Promise<{ status: number; headers: Headers; body: GraphQLResult<T> }> {
  const body = JSON.stringify({ query, variables });
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signWith ? subgraphAuthHeaders(signWith, body) : {}),
      ...headers,
    },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as GraphQLResult<T>,
  };
}

/** Like `graphql` but throws on any error, for steps that must succeed. */
export async function graphqlOk<T>(
  endpoint: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  signWith?: SubgraphSecrets,
): Promise<T> {
  const { status, body } = await graphql<T>(endpoint, query, variables, headers, signWith);
  if (body.errors?.length || !body.data) {
    throw new Error(`GraphQL request failed (HTTP ${status}): ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data;
}
