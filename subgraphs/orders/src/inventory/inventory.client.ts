import {
  createResiliencePolicy,
  isCircuitOpen,
  type ResilienceSettings,
  type SubgraphSecrets,
  subgraphAuthHeaders,
  traceHeaders,
} from "@nexus/core";

export interface InventoryClient {
  /**
   * Units available now (on hand less reserved) for each product id, in the same order; one
   * request whatever the number of ids. Throws InventoryUnavailableError when inventory cannot
   * give a complete, well-formed answer.
   */
  findAvailable(ids: readonly string[], request?: { requestId?: string | undefined }): Promise<number[]>;
}

/** Inventory did not answer, or answered with errors or with something this client cannot read. */
export class InventoryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InventoryUnavailableError";
  }
}

export interface InventoryClientOptions {
  /** The inventory subgraph's GraphQL endpoint. */
  url: string;
  /** A cart change waits this long at most for inventory, retries included. */
  timeoutMs?: number;
  retries?: ResilienceSettings["retries"];
  circuitBreaker?: ResilienceSettings["circuitBreaker"];
  /** Inventory serves only callers that sign with the subgraph secret, as the gateway does. */
  secrets: SubgraphSecrets;
}

/** Inventory's own federation entry point, as the gateway asks it for `Product.inventory`. */
const AVAILABLE_QUERY = `query OrdersCartAvailability($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Product { id inventory { available } }
  }
}`;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function createInventoryClient(options: InventoryClientOptions): InventoryClient {
  // Shorter than checkout's catalog deadline: availability only informs the cart, which
  // answers without it rather than wait.
  const resilience = createResiliencePolicy({
    timeoutMs: options.timeoutMs ?? 2000,
    retries: options.retries ?? { attempts: 1, backoffMs: 100 },
    circuitBreaker: options.circuitBreaker ?? { failures: 5, cooldownMs: 10_000 },
  });
  return {
    async findAvailable(ids, request = {}) {
      if (ids.length === 0) return [];
      const body = JSON.stringify({
        query: AVAILABLE_QUERY,
        variables: { representations: ids.map((id) => ({ __typename: "Product", id })) },
      });
      const headers: Record<string, string> = { "content-type": "application/json", ...traceHeaders() };
      if (request.requestId) headers["x-request-id"] = request.requestId;
      let answer: { status: number; json: unknown };
      try {
        answer = await resilience.execute(
          async (signal) => {
            const response = await fetch(options.url, {
              method: "POST",
              headers: { ...headers, ...subgraphAuthHeaders(options.secrets, body) },
              body,
              signal,
            });
            const text = await response.text();
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            return { status: response.status, json };
          },
          { retry: true },
        );
      } catch (error) {
        const reason = isCircuitOpen(error) ? "is not called for now: it kept failing" : "did not answer";
        throw new InventoryUnavailableError(`Inventory at ${options.url} ${reason}.`, { cause: error });
      }
      if (answer.status < 200 || answer.status > 299 || !isRecord(answer.json)) {
        throw new InventoryUnavailableError(`Inventory answered HTTP ${answer.status}.`, {
          cause: answer.json,
        });
      }
      const { errors, data } = answer.json;
      if (Array.isArray(errors) && errors.length > 0) {
        throw new InventoryUnavailableError("Inventory answered with errors.", { cause: errors });
      }
      const entities = isRecord(data) ? data._entities : undefined;
      if (!Array.isArray(entities) || entities.length !== ids.length) {
        throw new InventoryUnavailableError("Inventory's answer does not hold one entity per product id.");
      }
      return entities.map((entity: unknown, index) => {
        const available =
          isRecord(entity) && isRecord(entity.inventory) ? entity.inventory.available : undefined;
        if (
          !isRecord(entity) ||
          entity.id !== ids[index] ||
          typeof available !== "number" ||
          !Number.isSafeInteger(available)
        ) {
          throw new InventoryUnavailableError(`Inventory's answer for product ${ids[index]} is malformed.`, {
            cause: entity,
          });
        }
        return Math.max(0, available);
      });
    },
  };
}
