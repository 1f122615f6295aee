import type { IncomingHttpHeaders } from "node:http";
import { headerValue, type VerifyAuthorization, type Viewer } from "@nexus/core";

/**
 * Request headers every subgraph fetch carries. Subgraphs verify `authorization` again (zero
 * trust), log under the same `x-request-id`, and may report per client.
 */
export const FORWARDED_HEADERS = [
  "authorization",
  "x-request-id",
  "apollographql-client-name",
  "apollographql-client-version",
] as const;

export interface Deps {
  verify: VerifyAuthorization;
}

export interface GatewayContext {
  viewer: Viewer | null;
  requestId: string;
  /** The FORWARDED_HEADERS present on the incoming request, as received. */
  forwardedHeaders: Readonly<Record<string, string>>;
}

/**
 * Runs before the operation is planned, so a bad token is refused with HTTP 401 without any
 * subgraph being called. The HTTP layer guarantees `x-request-id`.
 */
export async function createContext(deps: Deps, headers: IncomingHttpHeaders): Promise<GatewayContext> {
  const forwardedHeaders: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headerValue(headers[name]);
    if (value !== undefined) forwardedHeaders[name] = value;
  }
  return {
    viewer: await deps.verify(forwardedHeaders.authorization),
    requestId: forwardedHeaders["x-request-id"] ?? "",
    forwardedHeaders,
  };
}
