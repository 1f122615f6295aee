import { createEntitiesCaller, type ResilienceSettings, rawIdOf, type SubgraphSecrets } from "@nexus/core";

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
  const callInventory = createEntitiesCaller({
    service: "inventory",
    url: options.url,
    secrets: options.secrets,
    resilience: {
      timeoutMs: options.timeoutMs ?? 2000,
      retries: options.retries ?? { attempts: 1, backoffMs: 100 },
      circuitBreaker: options.circuitBreaker ?? { failures: 5, cooldownMs: 10_000 },
    },
    unavailable: (message, error) => new InventoryUnavailableError(message, error),
  });
  return {
    async findAvailable(ids, request = {}) {
      const representations = ids.map((id) => ({ __typename: "Product", id }));
      const entities = await callInventory(AVAILABLE_QUERY, representations, {
        requestId: request.requestId,
      });
      return entities.map((entity, index) => {
        const available =
          isRecord(entity) && isRecord(entity.inventory) ? entity.inventory.available : undefined;
        if (
          !isRecord(entity) ||
          rawIdOf(entity.id, "Product") !== ids[index] ||
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
