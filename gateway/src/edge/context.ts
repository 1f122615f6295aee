import type { IncomingMessage } from "node:http";
import { graphQLError, headerValue, type VerifyAuthorization, type Viewer } from "@nexus/core";
import type { ResolveApiKey } from "./partner-keys.ts";

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
  resolveApiKey: ResolveApiKey;
  /** How many reverse proxies in front of the gateway append to `x-forwarded-for`. */
  trustedProxyHops: number;
}

/** Who is calling, for limits, metrics and persisted operations. */
export interface Client {
  /** The partner client's name for API-key requests, else `apollographql-client-name`, if sent. */
  name: string | null;
  kind: "partner" | "user" | "anonymous";
  /** The end client's address (see `clientAddress`). */
  ip: string;
}

export interface GatewayContext {
  viewer: Viewer | null;
  client: Client;
  requestId: string;
  /** Headers for every subgraph fetch: the FORWARDED_HEADERS received, the partner's token, the client address. */
  forwardedHeaders: Readonly<Record<string, string>>;
  /**
   * What plugins learn about the request as it goes, for metrics and the access log. An object
   * of its own because Apollo hands plugins a shallow copy of the context.
   */
  observed: { operationName: string | null };
}

const unauthenticated = (message: string) =>
  graphQLError("UNAUTHENTICATED", message, { http: { status: 401 } });

/**
 * The end client's address. `x-forwarded-for` is a list that anyone can start, so only the
 * entries appended by the `hops` proxies the operator trusts count: the client is the entry
 * just before them. With no trusted proxies, the socket's peer is the client.
 */
export function clientAddress(req: IncomingMessage, hops: number): string {
  const peer = req.socket.remoteAddress ?? "unknown";
  if (hops === 0) return peer;
  const chain = [
    ...(headerValue(req.headers["x-forwarded-for"]) ?? "")
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean),
    peer,
  ];
  return chain[Math.max(0, chain.length - 1 - hops)] ?? peer;
}

/**
 * Runs before the operation is planned, so a bad token or API key is refused with HTTP 401
 * without any subgraph being called. The token is verified once here; the JWKS behind
 * `verify` is cached. A partner's API key is exchanged for its access token, which then goes
 * to the subgraphs in its place: they never see API keys. The HTTP layer guarantees
 * `x-request-id`.
 */
export async function createContext(deps: Deps, req: IncomingMessage): Promise<GatewayContext> {
  const forwardedHeaders: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headerValue(req.headers[name]);
    if (value !== undefined) forwardedHeaders[name] = value;
  }
  const ip = clientAddress(req, deps.trustedProxyHops);
  forwardedHeaders["x-forwarded-for"] = ip;

  const apiKey = headerValue(req.headers["x-api-key"]);
  if (apiKey !== undefined) {
    if (forwardedHeaders.authorization !== undefined) {
      throw unauthenticated("Send either an Authorization header or an x-api-key header, not both.");
    }
    const partner = await deps.resolveApiKey(apiKey.trim());
    if (!partner) throw unauthenticated("The API key is unknown or revoked.");
    forwardedHeaders.authorization = `Bearer ${partner.accessToken}`;
  }

  const viewer = await deps.verify(forwardedHeaders.authorization);
  const kind = viewer?.role === "PARTNER" && viewer.clientName ? "partner" : viewer ? "user" : "anonymous";
  return {
    viewer,
    client: {
      name:
        kind === "partner"
          ? (viewer?.clientName ?? null)
          : (forwardedHeaders["apollographql-client-name"] ?? null),
      kind,
      ip,
    },
    requestId: forwardedHeaders["x-request-id"] ?? "",
    forwardedHeaders,
    observed: { operationName: null },
  };
}

/**
 * The key a client's limits are counted under, shared by every gateway replica: a partner by
 * its client name, a signed-in user by id, anyone else by address. A partner's users share
 * the partner's limits; anonymous clients behind one NAT share theirs.
 */
export function clientKey({ viewer, client }: Pick<GatewayContext, "viewer" | "client">): string {
  if (client.kind === "partner" && client.name) return `partner:${client.name}`;
  if (viewer) return `user:${viewer.userId}`;
  return `ip:${client.ip}`;
}
