import {
  createResiliencePolicy,
  isCircuitOpen,
  type ResilienceSettings,
  type SubgraphSecrets,
  subgraphAuthHeaders,
  traceHeaders,
} from "@nexus/core";

/** An address from a customer's address book, as users keeps it. */
export interface SavedAddress {
  id: string;
  name: string;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string;
  countryCode: string;
}

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

interface UsersAnswer {
  status: number;
  body: { json: unknown } | { unreadable: unknown };
}

export function createUsersClient(options: UsersClientOptions): UsersClient {
  // Every call is a read (`_entities`), so retrying one changes nothing.
  const resilience = createResiliencePolicy({
    timeoutMs: options.timeoutMs ?? 5000,
    retries: options.retries ?? { attempts: 2, backoffMs: 100 },
    circuitBreaker: options.circuitBreaker ?? { failures: 5, cooldownMs: 10_000 },
  });
  return {
    async findAddressesOf(customerId, request) {
      const query = JSON.stringify({
        query: ADDRESSES_QUERY,
        variables: { representations: [{ __typename: "User", id: customerId }] },
      });
      const headers: Record<string, string> = { "content-type": "application/json", ...traceHeaders() };
      if (request.authorization) headers.authorization = request.authorization;
      if (request.requestId) headers["x-request-id"] = request.requestId;
      let answer: UsersAnswer;
      try {
        answer = await resilience.execute(
          async (signal): Promise<UsersAnswer> => {
            // A fresh signature per attempt: it carries a timestamp.
            const response = await fetch(options.url, {
              method: "POST",
              headers: { ...headers, ...subgraphAuthHeaders(options.secrets, query) },
              body: query,
              signal,
            });
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
        throw new UsersUnavailableError(`The users service at ${options.url} ${reason}.`, { cause: error });
      }
      if ("unreadable" in answer.body) {
        throw new UsersUnavailableError(`The users service answered HTTP ${answer.status} without JSON.`, {
          cause: answer.body.unreadable,
        });
      }
      if (answer.status < 200 || answer.status > 299) {
        throw new UsersUnavailableError(`The users service answered HTTP ${answer.status}.`, {
          cause: answer.body.json,
        });
      }
      return readAddressBook(answer.body.json, customerId);
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const optionalString = (value: unknown): value is string | null | undefined =>
  value === null || value === undefined || typeof value === "string";

/** Checks the answer field by field: an address an order ships to must be what users holds. */
function readAddressBook(body: unknown, customerId: string): SavedAddress[] | null {
  if (!isRecord(body))
    throw new UsersUnavailableError("The users service's answer is not a GraphQL response.");
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    throw new UsersUnavailableError("The users service answered with errors.", { cause: body.errors });
  }
  const entities = isRecord(body.data) ? body.data._entities : undefined;
  if (!Array.isArray(entities) || entities.length !== 1) {
    throw new UsersUnavailableError("The users service's answer does not hold the one account asked for.");
  }
  const [user] = entities as unknown[];
  if (user === null) return null;
  if (!isRecord(user) || user.id !== customerId) {
    throw new UsersUnavailableError("The users service's answer names another account.", { cause: user });
  }
  // Null when the field was refused; the errors above would say so, so this is a malformed answer.
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
