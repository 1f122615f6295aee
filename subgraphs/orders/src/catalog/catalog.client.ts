import {
  createResiliencePolicy,
  isCircuitOpen,
  type Money,
  type ResilienceSettings,
  type SubgraphSecrets,
  subgraphAuthHeaders,
  traceHeaders,
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

/** What one call to the catalog gave: read to its end inside the deadline. */
interface CatalogAnswer {
  status: number;
  body: { json: unknown } | { unreadable: unknown };
}

export function createCatalogClient(options: CatalogClientOptions): CatalogClient {
  // The gateway's defaults: the same dependency seen from another caller. Every call is a
  // read (`_entities`), so retrying one changes nothing.
  const resilience = createResiliencePolicy({
    timeoutMs: options.timeoutMs ?? 5000,
    retries: options.retries ?? { attempts: 2, backoffMs: 100 },
    circuitBreaker: options.circuitBreaker ?? { failures: 5, cooldownMs: 10_000 },
  });
  return {
    async findProductsByIds(ids, request = {}) {
      if (ids.length === 0) return [];
      const query = JSON.stringify({
        query: PRODUCTS_QUERY,
        variables: { representations: ids.map((id) => ({ __typename: "Product", id })) },
      });
      const headers: Record<string, string> = {
        "content-type": "application/json",
        ...traceHeaders(),
      };
      if (request.requestId) headers["x-request-id"] = request.requestId;
      let answer: CatalogAnswer;
      try {
        answer = await resilience.execute(
          async (signal): Promise<CatalogAnswer> => {
            // A fresh signature per attempt: it carries a timestamp.
            const response = await fetch(options.url, {
              method: "POST",
              headers: { ...headers, ...subgraphAuthHeaders(options.secrets, query) },
              body: query,
              signal,
            });
            // The body is read here, within the deadline, which ends when this returns.
            const text = await response.text();
            try {
              return { status: response.status, body: { json: JSON.parse(text) } };
            } catch (error) {
              return { status: response.status, body: { unreadable: error } };
            }
          },
          { retry: true },
        );
      } catch (error) {
        const reason = isCircuitOpen(error) ? "is not called for now: it kept failing" : "did not answer";
        throw new CatalogUnavailableError(`The catalog at ${options.url} ${reason}.`, { cause: error });
      }
      if ("unreadable" in answer.body) {
        throw new CatalogUnavailableError(`The catalog answered HTTP ${answer.status} without JSON.`, {
          cause: answer.body.unreadable,
        });
      }
      // Apollo answers a GraphQL request it could not execute with 4xx and the reason in `errors`.
      if (answer.status < 200 || answer.status > 299) {
        throw new CatalogUnavailableError(`The catalog answered HTTP ${answer.status}.`, {
          cause: answer.body.json,
        });
      }
      return readEntities(answer.body.json, ids);
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Checks the answer field by field: a price that is not what it claims to be must never reach an order. */
function readEntities(body: unknown, ids: readonly string[]): (CatalogProduct | null)[] {
  if (!isRecord(body)) throw new CatalogUnavailableError("The catalog's answer is not a GraphQL response.");
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    throw new CatalogUnavailableError("The catalog answered with errors.", { cause: body.errors });
  }
  const entities = isRecord(body.data) ? body.data._entities : undefined;
  if (!Array.isArray(entities) || entities.length !== ids.length) {
    throw new CatalogUnavailableError("The catalog's answer does not hold one entity per product id.");
  }
  return entities.map((entity: unknown, index) => {
    if (entity === null) return null;
    const read = readProduct(entity);
    if (!read || read.product.id !== ids[index]) {
      throw new CatalogUnavailableError(`The catalog's answer for product ${ids[index]} is malformed.`, {
        cause: entity,
      });
    }
    return read.status === "ACTIVE" ? read.product : null;
  });
}

function readProduct(entity: unknown): { product: CatalogProduct; status: string } | null {
  if (!isRecord(entity) || !isRecord(entity.price)) return null;
  const { id, name, status } = entity;
  const { amount, currencyCode } = entity.price;
  if (typeof id !== "string" || typeof name !== "string" || typeof status !== "string") return null;
  if (typeof amount !== "number" || !Number.isSafeInteger(amount) || amount < 0) return null;
  if (typeof currencyCode !== "string" || !/^[A-Z]{3}$/.test(currencyCode)) return null;
  // The category only labels the sale for reports; an answer without one still sells the product.
  const category = entity.category;
  let categoryId: string | null = null;
  if (isRecord(category)) {
    if (typeof category.id !== "string") return null;
    categoryId = category.id;
  } else if (category !== null && category !== undefined) return null;
  return { product: { id, name, price: { amount, currencyCode }, categoryId }, status };
}
