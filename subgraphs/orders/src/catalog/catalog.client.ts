import {
  createEntitiesCaller,
  type Money,
  type ResilienceSettings,
  rawIdOf,
  type SubgraphSecrets,
} from "@nexus/core";

/** What carts and checkout need to know about a product the catalog sells now. */
export interface CatalogProduct {
  id: string;
  name: string;
  price: Money;
  /** The category the product is listed in; null only when the catalog's answer leaves it out. */
  categoryId: string | null;
}

export interface CatalogClient {
  /**
   * The products with these ids that are for sale (ACTIVE), in the same order; null where the
   * catalog has none or does not sell it (DRAFT, ARCHIVED), which are one and the same to a
   * buyer. One request to the catalog whatever the number of ids.
   * Throws CatalogUnavailableError when the catalog cannot give a complete, well-formed answer.
   */
  findProductsByIds(
    ids: readonly string[],
    request?: { requestId?: string | undefined },
  ): Promise<(CatalogProduct | null)[]>;
}

/** The catalog did not answer, or answered with errors or with something this client cannot read. */
export class CatalogUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CatalogUnavailableError";
  }
}

export interface CatalogClientOptions {
  /** The catalog subgraph's GraphQL endpoint. */
  url: string;
  /** A checkout waits this long at most for the catalog, retries included. */
  timeoutMs?: number;
  /** Retries of transient failures (refused connection, 502/503/504) within that time. */
  retries?: ResilienceSettings["retries"];
  /** Consecutive failed calls after which the catalog is not called for a cooldown. */
  circuitBreaker?: ResilienceSettings["circuitBreaker"];
  /** The catalog serves only callers that sign with the subgraph secret, as the gateway does. */
  secrets: SubgraphSecrets;
}

/**
 * The catalog's own federation entry point: the same query the gateway sends to resolve
 * Product references, so orders needs no private API from the catalog. Sent without a user's
 * token, it gets ACTIVE products only; `status` is asked for all the same, so orders never
 * sells anything else even from a catalog that answered with it.
 */
const PRODUCTS_QUERY = `query OrdersCheckoutProducts($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Product { id name status price { amount currencyCode } category { id } }
  }
}`;

export function createCatalogClient(options: CatalogClientOptions): CatalogClient {
  // The gateway's defaults: the same dependency seen from another caller.
  const callCatalog = createEntitiesCaller({
    service: "the catalog",
    url: options.url,
    secrets: options.secrets,
    resilience: {
      timeoutMs: options.timeoutMs ?? 5000,
      retries: options.retries ?? { attempts: 2, backoffMs: 100 },
      circuitBreaker: options.circuitBreaker ?? { failures: 5, cooldownMs: 10_000 },
    },
    unavailable: (message, error) => new CatalogUnavailableError(message, error),
  });
  return {
    async findProductsByIds(ids, request = {}) {
      const representations = ids.map((id) => ({ __typename: "Product", id }));
      const entities = await callCatalog(PRODUCTS_QUERY, representations, { requestId: request.requestId });
      return entities.map((entity, index) => readEntity(entity, ids[index] as string));
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Checks the answer field by field: a price that is not what it claims to be must never reach an order. */
function readEntity(entity: unknown, id: string): CatalogProduct | null {
  if (entity === null) return null;
  const read = readProduct(entity);
  if (!read || read.product.id !== id) {
    throw new CatalogUnavailableError(`The catalog's answer for product ${id} is malformed.`, {
      cause: entity,
    });
  }
  return read.status === "ACTIVE" ? read.product : null;
}

function readProduct(entity: unknown): { product: CatalogProduct; status: string } | null {
  if (!isRecord(entity) || !isRecord(entity.price)) return null;
  const { name, status } = entity;
  // Catalog answers with global ids; orders keeps raw ones.
  const id = rawIdOf(entity.id, "Product");
  const { amount, currencyCode } = entity.price;
  if (typeof id !== "string" || typeof name !== "string" || typeof status !== "string") return null;
  if (typeof amount !== "number" || !Number.isSafeInteger(amount) || amount < 0) return null;
  if (typeof currencyCode !== "string" || !/^[A-Z]{3}$/.test(currencyCode)) return null;
  // The category only labels the sale for reports; an answer without one still sells the product.
  const category = entity.category;
  let categoryId: string | null = null;
  if (isRecord(category)) {
    categoryId = rawIdOf(category.id, "Category");
    if (categoryId === null) return null;
  } else if (category !== null && category !== undefined) return null;
  return { product: { id, name, price: { amount, currencyCode }, categoryId }, status };
}
