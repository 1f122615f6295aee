import { createHash } from "node:crypto";
import { type Logger, SUBGRAPH_AUTH_CHALLENGE, type SubgraphSecrets, subgraphAuthHeaders } from "@nexus/core";
import { GraphQLError } from "graphql";

export interface PartnerToken {
  accessToken: string;
  expiresAt: Date;
  client: { id: string; name: string };
}

/** Resolves an `x-api-key` to the partner's access token; null for an unknown or revoked key. */
export type ResolveApiKey = (apiKey: string) => Promise<PartnerToken | null>;

interface Entry {
  token: Promise<PartnerToken | null>;
  /** Until when this answer may be reused: revocation reaches the gateway within `cacheSeconds`. */
  until: number;
}

/**
 * Exchanges API keys at the users subgraph for short-lived access tokens, so partners reach
 * every subgraph with a JWT like anyone else. Answers are cached per key (by hash, never the
 * key itself) for `cacheSeconds`, unknown keys for a few seconds only, so a new key works at
 * once and a revoked one stops within the cache time. Concurrent requests with one key share
 * one exchange.
 */
export function createApiKeyResolver(options: {
  exchangeUrl: string;
  cacheSeconds: number;
  timeoutMs: number;
  /** The exchange answers only the gateway: its requests are signed like subgraph fetches. */
  secrets: SubgraphSecrets;
  logger: Logger;
  maxEntries?: number;
}): ResolveApiKey {
  const cache = new Map<string, Entry>();
  const maxEntries = options.maxEntries ?? 10_000;

  const exchange = async (apiKey: string): Promise<PartnerToken | null> => {
    const response = await fetch(options.exchangeUrl, {
      method: "POST",
      headers: { "x-api-key": apiKey, ...subgraphAuthHeaders(options.secrets) },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    // A 401 with the subgraph challenge refuses the gateway itself, not the key: a wrong secret
    // must not look like every partner's key being revoked.
    if (response.status === 401 && response.headers.get("www-authenticate") === SUBGRAPH_AUTH_CHALLENGE) {
      throw new Error("the users subgraph refused the gateway's signature: SUBGRAPH_SECRET differs");
    }
    if (response.status === 401) return null;
    if (!response.ok) throw new Error(`API key exchange answered HTTP ${response.status}`);
    const body = (await response.json()) as {
      accessToken: string;
      expiresAt: string;
      client: PartnerToken["client"];
    };
    return { accessToken: body.accessToken, expiresAt: new Date(body.expiresAt), client: body.client };
  };

  return async (apiKey) => {
    const key = createHash("sha256").update(apiKey).digest("base64url");
    const now = Date.now();
    const cached = cache.get(key);
    if (cached && cached.until > now) return cached.token;

    const token = exchange(apiKey);
    cache.set(key, { token, until: now + 5_000 });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    try {
      const result = await token;
      // Keep a token only while it stays valid for a while after the cache time.
      const until = result
        ? Math.min(now + options.cacheSeconds * 1000, result.expiresAt.getTime() - 60_000)
        : now + 5_000;
      cache.set(key, { token, until });
      return result;
    } catch (error) {
      cache.delete(key);
      options.logger.warn("partner API key exchange failed", { error });
      throw new GraphQLError("API keys cannot be checked right now; try again shortly.", {
        extensions: { code: "SUBGRAPH_UNAVAILABLE", serviceName: "users", http: { status: 503 } },
      });
    }
  };
}
