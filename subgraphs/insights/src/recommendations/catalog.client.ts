import {
  createResiliencePolicy,
  isCircuitOpen,
  type Logger,
  type SubgraphSecrets,
  subgraphAuthHeaders,
  traceHeaders,
} from "@nexus/core";

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
  // Reads only, so a retry changes nothing; a short deadline because a storefront waits.
  const resilience = createResiliencePolicy({
    timeoutMs: options.timeoutMs ?? 2000,
    retries: { attempts: 1, backoffMs: 100 },
    circuitBreaker: { failures: 5, cooldownMs: 10_000 },
  });
  const cache = new Map<string, { active: boolean; until: number }>();

  const ask = async (ids: string[], requestId: string | undefined): Promise<Map<string, boolean>> => {
    const body = JSON.stringify({
      query: STATUS_QUERY,
      variables: { representations: ids.map((id) => ({ __typename: "Product", id })) },
    });
    const headers: Record<string, string> = { "content-type": "application/json", ...traceHeaders() };
    if (requestId) headers["x-request-id"] = requestId;
    const answer = await resilience.execute(
      async (signal) => {
        const response = await fetch(options.url, {
          method: "POST",
          headers: { ...headers, ...subgraphAuthHeaders(options.secrets, body) },
          body,
          signal,
        });
        // Read within the deadline, which ends when this returns.
        return { status: response.status, text: await response.text() };
      },
      { retry: true },
    );
    if (answer.status < 200 || answer.status > 299)
      throw new Error(`the catalog answered HTTP ${answer.status}`);
    return readStatuses(JSON.parse(answer.text) as unknown, ids);
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
        const reason = isCircuitOpen(error) ? "is not called for now" : "did not answer";
        options.logger.warn(`catalog ${reason}; unconfirmed products are left out of recommendations`, {
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
function readStatuses(body: unknown, ids: readonly string[]): Map<string, boolean> {
  if (!isRecord(body)) throw new Error("the catalog's answer is not a GraphQL response");
  if (Array.isArray(body.errors) && body.errors.length > 0)
    throw new Error("the catalog answered with errors");
  const entities = isRecord(body.data) ? body.data._entities : undefined;
  if (!Array.isArray(entities) || entities.length !== ids.length) {
    throw new Error("the catalog's answer does not hold one entity per product id");
  }
  const statuses = new Map<string, boolean>();
  entities.forEach((entity: unknown, index) => {
    const id = ids[index] as string;
    if (entity === null) {
      statuses.set(id, false);
      return;
    }
    if (!isRecord(entity) || entity.id !== id || typeof entity.status !== "string") {
      throw new Error(`the catalog's answer for product ${id} is malformed`);
    }
    statuses.set(id, entity.status === "ACTIVE");
  });
  return statuses;
}
