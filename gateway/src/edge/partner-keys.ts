import { createHash } from "node:crypto";
import {
  createResiliencePolicy,
  type Logger,
  type ResilienceSettings,
  SUBGRAPH_AUTH_CHALLENGE,
  type SubgraphSecrets,
  subgraphAuthHeaders,
} from "@nexus/core";
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
  /**
   * The subgraph fetches' timeout, retries and breaker. An exchange only reads the key's
   * client, so a transient failure is retried; a users subgraph that keeps failing is not
   * called for a cooldown, and API-key requests are refused at once meanwhile.
   */
  resilience: ResilienceSettings;
  /** The exchange answers only the gateway: its requests are signed like subgraph fetches. */
  secrets: SubgraphSecrets;
  logger: Logger;
  maxEntries?: number;
}): ResolveApiKey {
  const cache = new Map<string, Entry>();
  const maxEntries = options.maxEntries ?? 10_000;
  const resilience = createResiliencePolicy(options.resilience);

  const exchange = async (apiKey: string): Promise<PartnerToken | null> => {
    const response = await resilience.execute(
      async (signal) => {
        const answer = await fetch(options.exchangeUrl, {
          method: "POST",
          // A fresh signature per attempt: it carries a timestamp.
          headers: { "x-api-key": apiKey, ...subgraphAuthHeaders(options.secrets) },
          signal,
        });
        // Read within the deadline, which ends when this returns.
        return {
          status: answer.status,
          challenge: answer.headers.get("www-authenticate"),
          body: await answer.text(),
        };
      },
      { retry: true },
    );
    // A 401 with the subgraph challenge refuses the gateway itself, not the key: a wrong secret
    // must not look like every partner's key being revoked.
    if (response.status === 401 && response.challenge === SUBGRAPH_AUTH_CHALLENGE) {
      throw new Error("the users subgraph refused the gateway's signature: SUBGRAPH_SECRET differs");
    }
    if (response.status === 401) return null;
    if (response.status < 200 || response.status > 299) {
      throw new Error(`API key exchange answered HTTP ${response.status}`);
    }
    const body = JSON.parse(response.body) as {
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
