import { createEntitiesCaller, type Logger, rawIdOf, type SubgraphSecrets } from "@nexus/core";

/**
 * Which products the store sells now. Insights hears of products only through orders, never of
 * their status, so before it suggests a product it asks the catalog.
 */
export interface CatalogClient {
  /**
   * The ids among `ids` the catalog sells now (ACTIVE). One request to the catalog for the ids
   * it has not answered about within the cache's lifetime. When the catalog cannot answer, the
   * ids it has not answered about count as not for sale: a recommendation list is better short
   * than showing something that cannot be bought.
   */
  findActiveIds(ids: readonly string[], request?: { requestId?: string | undefined }): Promise<Set<string>>;
}

export interface CatalogClientOptions {
  /** The catalog subgraph's GraphQL endpoint. */
  url: string;
  /** The catalog serves only callers that sign with the subgraph secret, as the gateway does. */
  secrets: SubgraphSecrets;
  logger: Logger;
  /** How long an answer about a product is reused (default one minute). */
  cacheTtlMs?: number;
  /** A recommendation waits this long at most for the catalog, retries included. */
  timeoutMs?: number;
  /** Entries kept at most; the oldest go first. */
  cacheSize?: number;
  now?: () => number;
}

/**
 * The catalog's own federation entry point, as the gateway and orders use it. Sent without a
 * user's token it returns ACTIVE products only (others are null); `status` is checked anyway.
 */
const STATUS_QUERY = `query InsightsProductStatus($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Product { id status } }
}`;

export function createCatalogClient(options: CatalogClientOptions): CatalogClient {
  const ttl = options.cacheTtlMs ?? 60_000;
  const cacheSize = options.cacheSize ?? 10_000;
  const now = options.now ?? Date.now;
  // A short deadline because a storefront waits.
  const callCatalog = createEntitiesCaller({
    service: "the catalog",
    url: options.url,
    secrets: options.secrets,
    resilience: {
      timeoutMs: options.timeoutMs ?? 2000,
      retries: { attempts: 1, backoffMs: 100 },
      circuitBreaker: { failures: 5, cooldownMs: 10_000 },
    },
    // Never seen beyond this client: every failure is logged and the products left out.
    unavailable: (message, error) => new Error(message, error),
  });
  const cache = new Map<string, { active: boolean; until: number }>();

  const ask = async (ids: string[], requestId: string | undefined): Promise<Map<string, boolean>> => {
    const representations = ids.map((id) => ({ __typename: "Product", id }));
    return readStatuses(await callCatalog(STATUS_QUERY, representations, { requestId }), ids);
  };

  return {
    async findActiveIds(ids, request = {}) {
      const at = now();
      const active = new Set<string>();
      const unknown: string[] = [];
      for (const id of new Set(ids)) {
        const cached = cache.get(id);
        if (cached && cached.until > at) {
          if (cached.active) active.add(id);
        } else unknown.push(id);
      }
      if (unknown.length === 0) return active;
      let answer: Map<string, boolean>;
      try {
        answer = await ask(unknown, request.requestId);
      } catch (error) {
        // The error says why: no answer, an open circuit, or an answer that could not be read.
        options.logger.warn("catalog unavailable; unconfirmed products are left out of recommendations", {
          error,
          products: unknown.length,
        });
        return active;
      }
      for (const [id, isActive] of answer) {
        cache.delete(id);
        cache.set(id, { active: isActive, until: at + ttl });
        if (isActive) active.add(id);
      }
      for (const id of cache.keys()) {
        if (cache.size <= cacheSize) break;
        cache.delete(id);
      }
      return active;
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** One status per id asked; anything malformed is an error, so nothing unchecked is suggested. */
function readStatuses(entities: unknown[], ids: readonly string[]): Map<string, boolean> {
  const statuses = new Map<string, boolean>();
  entities.forEach((entity, index) => {
    const id = ids[index] as string;
    if (entity === null) {
      statuses.set(id, false);
      return;
    }
    if (!isRecord(entity) || rawIdOf(entity.id, "Product") !== id || typeof entity.status !== "string") {
      throw new Error(`The catalog's answer for product ${id} is malformed.`, { cause: entity });
    }
    statuses.set(id, entity.status === "ACTIVE");
  });
  return statuses;
}
