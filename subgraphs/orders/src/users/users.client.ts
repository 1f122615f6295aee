import {
  type Address,
  createEntitiesCaller,
  type ResilienceSettings,
  rawIdOf,
  type SubgraphSecrets,
} from "@nexus/core";

/** An address from a customer's address book, as users keeps it. */
export type SavedAddress = Address & { id: string };

export interface UsersClient {
  /**
   * The address book of the customer the `authorization` header belongs to, read with that
   * header so users' own rule (the owner or staff only) decides; null when users has no such
   * account. One request to users.
   * Throws UsersUnavailableError when users cannot give a complete, well-formed answer.
   */
  findAddressesOf(
    customerId: string,
    request: { authorization: string | undefined; requestId?: string | undefined },
  ): Promise<SavedAddress[] | null>;
}

/** Users did not answer, or answered with errors or with something this client cannot read. */
export class UsersUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsersUnavailableError";
  }
}

export interface UsersClientOptions {
  /** The users subgraph's GraphQL endpoint. */
  url: string;
  /** A checkout waits this long at most for users, retries included. */
  timeoutMs?: number;
  /** Retries of transient failures (refused connection, 502/503/504) within that time. */
  retries?: ResilienceSettings["retries"];
  /** Consecutive failed calls after which users is not called for a cooldown. */
  circuitBreaker?: ResilienceSettings["circuitBreaker"];
  /** Users serves only callers that sign with the subgraph secret, as the gateway does. */
  secrets: SubgraphSecrets;
}

/**
 * Users' own federation entry point, the query the gateway sends for `me { addresses }`, so
 * orders needs no private API. It carries the customer's token: users shows an address book
 * to its owner only, so no one reaches another customer's addresses through orders.
 */
const ADDRESSES_QUERY = `query OrdersCheckoutAddresses($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on User { id addresses { id name line1 line2 city region postalCode countryCode } }
  }
}`;

export function createUsersClient(options: UsersClientOptions): UsersClient {
  const callUsers = createEntitiesCaller({
    service: "the users service",
    url: options.url,
    secrets: options.secrets,
    resilience: {
      timeoutMs: options.timeoutMs ?? 5000,
      retries: options.retries ?? { attempts: 2, backoffMs: 100 },
      circuitBreaker: options.circuitBreaker ?? { failures: 5, cooldownMs: 10_000 },
    },
    unavailable: (message, error) => new UsersUnavailableError(message, error),
  });
  return {
    async findAddressesOf(customerId, request) {
      const [user] = await callUsers(ADDRESSES_QUERY, [{ __typename: "User", id: customerId }], request);
      return readAddressBook(user, customerId);
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const optionalString = (value: unknown): value is string | null | undefined =>
  value === null || value === undefined || typeof value === "string";

/** Checks the answer field by field: an address an order ships to must be what users holds. */
function readAddressBook(user: unknown, customerId: string): SavedAddress[] | null {
  if (user === null) return null;
  if (!isRecord(user) || rawIdOf(user.id, "User") !== customerId) {
    throw new UsersUnavailableError("The users service's answer names another account.", { cause: user });
  }
  // Null when the field was refused, which comes with `errors` and is turned away before this:
  // here it is a malformed answer.
  if (!Array.isArray(user.addresses)) {
    throw new UsersUnavailableError("The users service's answer has no address book.", { cause: user });
  }
  return user.addresses.map((entry: unknown) => {
    const address = readAddress(entry);
    if (!address) throw new UsersUnavailableError("The users service's answer holds a malformed address.");
    return address;
  });
}

function readAddress(entry: unknown): SavedAddress | null {
  if (!isRecord(entry)) return null;
  const { id, name, line1, line2, city, region, postalCode, countryCode } = entry;
  if (
    typeof id !== "string" ||
    typeof name !== "string" ||
    typeof line1 !== "string" ||
    typeof city !== "string" ||
    typeof postalCode !== "string" ||
    typeof countryCode !== "string" ||
    !optionalString(line2) ||
    !optionalString(region)
  ) {
    return null;
  }
  return { id, name, line1, line2: line2 ?? null, city, region: region ?? null, postalCode, countryCode };
}
