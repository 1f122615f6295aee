/**
 * What every orders test file needs (`useTestEnv`): a fresh PostgreSQL database, a Redis prefix, the outbox
 * relay and the saga consumer, a second outbox standing in for inventory's, a real GraphQL
 * catalog built from catalog's own SDL that answers from memory and records its requests (in
 * every status, as the real catalog answers staff: so these tests show that orders itself sells
 * ACTIVE products only; that the real catalog hides the others from orders is tested in
 * catalog and end to end), and
 * the test payment provider with a switch to make a capture fail after it charged.
 */
import { randomUUID } from "node:crypto";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import {
  createLogger,
  createShutdownStack,
  createSubgraphAuthenticator,
  createTokenSigner,
  type Role,
  type RunningHttpServer,
  readSubgraphSchema,
  sendJson,
  startHttpServer,
  useGlobalIds,
} from "@nexus/core";
import {
  appendToOutbox,
  createOutboxMigration,
  type EventEnvelope,
  type OutboxDatabase,
  type OutboxRelay,
  startOutboxRelay,
} from "@nexus/events";
import { connectRedis, createPostgresDb } from "@nexus/stores";
import {
  createTestAuth,
  createTestPostgres,
  deleteRedisKeys,
  executeSingle,
  startTestSubgraph,
  TEST_REDIS_URL,
  TEST_SUBGRAPH_SECRET,
  TEST_TOKEN_AUDIENCE,
  type TestAuth,
  type TestPostgres,
  testRedisPrefix,
  until,
  withRawIds,
} from "@nexus/testing";
import { GraphQLError, parse } from "graphql";
import type { Redis } from "ioredis";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { MAX_CART_LINES, MAX_CART_QUANTITY } from "./cart/cart.service.ts";
import { type CartStore, createCartStore } from "./cart/cart.store.ts";
import { createCatalogClient } from "./catalog/catalog.client.ts";
import { type Context, createContext, type Deps } from "./context.ts";
import type { Database, OrderStatus } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { startOrderEventConsumer } from "./events/order.consumer.ts";
import { createInventoryClient } from "./inventory/inventory.client.ts";
import type { SagaDeps } from "./order/order.saga.ts";
import type { PaymentProvider } from "./payment/payment.provider.ts";
import { startPaymentSettler } from "./payment/payment.settler.ts";
import { createTestPaymentProvider, type TestPaymentProvider } from "./payment/test.provider.ts";
import { resolvers } from "./resolvers.ts";
import { createUsersClient, type SavedAddress } from "./users/users.client.ts";

export const logger = createLogger("orders-test", "silent");
/** How long the test settler leaves a payment intent before capturing it again. */
export const PAYMENT_RETRY_MS = 300;

// Catalog ids are 24-hex ObjectIds.
export const LAPTOP = "65a000000000000000000001";
export const TEE = "65a000000000000000000002";
export const SHOES = "65a000000000000000000003";
export const EURO_MUG = "65a000000000000000000004";
export const YACHT = "65a000000000000000000005";
export const BROKEN = "65a0000000000000000000ee";
export const UNKNOWN = "65a0000000000000000000ff";

export interface FakeProduct {
  id: string;
  name: string;
  status: "DRAFT" | "ACTIVE" | "ARCHIVED";
  price: { amount: number; currencyCode: string };
  category: { id: string };
}

// Catalog category ids are ObjectIds too.
export const ELECTRONICS = "65c000000000000000000001";
export const CLOTHING = "65c000000000000000000002";
export const HOME = "65c000000000000000000003";

export const money = (amount: number, currencyCode = "USD") => ({ amount, currencyCode });

export const CATALOG: readonly FakeProduct[] = [
  { id: LAPTOP, name: "Aero Laptop", status: "ACTIVE", price: money(129_900), category: { id: ELECTRONICS } },
  { id: TEE, name: "Classic Tee", status: "ACTIVE", price: money(1999), category: { id: CLOTHING } },
  { id: SHOES, name: "Trail Runner", status: "ACTIVE", price: money(8950), category: { id: CLOTHING } },
  { id: EURO_MUG, name: "Euro Mug", status: "ACTIVE", price: money(1200, "EUR"), category: { id: HOME } },
  { id: YACHT, name: "Yacht", status: "ACTIVE", price: money(2_000_000_000), category: { id: HOME } },
];

/** Sets a product's status in the fake catalog, as an admin's updateProduct or archiveProduct would. */
export function setStatus(env: TestEnv, id: string, status: FakeProduct["status"]): void {
  const product = env.catalogProducts.get(id);
  if (!product) throw new Error(`the fake catalog has no product ${id}`);
  product.status = status;
}

export const ADDRESS = {
  name: "Ada Lovelace",
  line1: "12 St James's Square",
  city: "London",
  postalCode: "sw1y 4jh",
  countryCode: "gb",
};

export interface RunOptions {
  as?: { id: string; role?: Role; clientId?: string };
  deps?: Deps;
  requestId?: string;
  /**
   * Keep the global ids clients see. By default answers read in raw ids, the terms of the seed
   * and the database; global-ids.test.ts asserts the encoded forms.
   */
  globalIds?: boolean;
}

export interface TestEnv {
  A: string;
  B: string;
  ADMIN: string;
  pg: TestPostgres<Database>;
  inventoryPg: TestPostgres<OutboxDatabase>;
  redis: Redis;
  prefix: string;
  relay: OutboxRelay;
  inventoryRelay: OutboxRelay;
  carts: CartStore;
  payments: TestPaymentProvider;
  /**
   * `failAfterCapture`: the next captures throw after the provider charged (a crash before
   * commit); `failAfterCartRestore`: the next restores of a rejected order's lines throw after
   * the lines went back to the cart; `inventoryDown`: the fake inventory answers HTTP 503.
   */
  faults: {
    failAfterCapture: number;
    captureCalls: number;
    failAfterCartRestore: number;
    inventoryDown: boolean;
  };
  catalogHttp: RunningHttpServer;
  /** The catalog as the fake serves it now; tests change it. */
  catalogProducts: Map<string, FakeProduct>;
  inventoryHttp: RunningHttpServer;
  /** Units available per product in the fake inventory; products not in it have 0. */
  inventoryAvailable: Map<string, number>;
  /** The representations of every request the fake inventory received. */
  inventoryRequests: unknown[];
  /** Every request the fake catalog received. */
  catalogRequests: { query: string; requestId: string | undefined; representations: unknown }[];
  auth: TestAuth;
  jwks: unknown;
  usersHttp: RunningHttpServer;
  /** The address books the fake users subgraph serves, by user id; tests fill them. */
  addressBooks: Map<string, SavedAddress[]>;
  /** Every request the fake users subgraph received, with the Authorization header it carried. */
  usersRequests: { authorization: string | undefined; representations: unknown }[];
  server: ApolloServer<Context>;
  deps: Deps;
  /** Empties the tables, carts and payments and restores the fake catalog. */
  reset(): Promise<void>;
  /** Stops and drops everything, newest first. */
  close(): Promise<void>;
}

/** Customer ids and the parts tests change, before anything is started. */
function newTestEnv(): TestEnv {
  return {
    A: randomUUID(),
    B: randomUUID(),
    ADMIN: randomUUID(),
    faults: { failAfterCapture: 0, captureCalls: 0, failAfterCartRestore: 0, inventoryDown: false },
    catalogProducts: new Map<string, FakeProduct>(),
    inventoryAvailable: new Map<string, number>(),
    inventoryRequests: [],
    catalogRequests: [],
    addressBooks: new Map<string, SavedAddress[]>(),
    usersRequests: [],
  } as unknown as TestEnv;
}

/**
 * Starts everything into `env` (a new one unless given) and returns it reset. `reset()` empties
 * the tables, carts and payments and restores the fake catalog; `close()` stops and drops it all,
 * newest first, and so does a failure part-way.
 */
export async function createTestEnv(name: string, env: TestEnv = newTestEnv()): Promise<TestEnv> {
  const shutdown = createShutdownStack(`${name} test env`);
  try {
    env.pg = await createTestPostgres<Database>(name, migrations);
    shutdown.defer(() => env.pg.drop());
    env.inventoryPg = await createTestPostgres<OutboxDatabase>(`${name}_inventory`, {
      "0001": createOutboxMigration,
    });
    shutdown.defer(() => env.inventoryPg.drop());
    // The relay and the consumer get their own pools so `pg.queries` holds only what resolvers sent.
    const relayDb = createPostgresDb<OutboxDatabase>(env.pg.url);
    shutdown.defer(() => relayDb.destroy());
    const consumerDb = createPostgresDb<Database>(env.pg.url);
    shutdown.defer(() => consumerDb.destroy());
    const redis = await connectRedis(TEST_REDIS_URL);
    const prefix = testRedisPrefix(name);
    Object.assign(env, { redis, prefix });
    shutdown.defer(async () => {
      await deleteRedisKeys(redis, [prefix]);
      await redis.quit();
    });
    env.relay = startOutboxRelay({ db: relayDb, redis, prefix, logger, pollIntervalMs: 60_000 });
    shutdown.defer(() => env.relay.stop());
    env.inventoryRelay = startOutboxRelay({
      db: env.inventoryPg.db,
      redis,
      prefix,
      logger,
      pollIntervalMs: 60_000,
    });
    shutdown.defer(() => env.inventoryRelay.stop());
    env.payments = createTestPaymentProvider(redis, prefix);
    const faulty: PaymentProvider = {
      ...env.payments,
      async capture(request) {
        env.faults.captureCalls++;
        const result = await env.payments.capture(request);
        if (env.faults.failAfterCapture > 0) {
          env.faults.failAfterCapture--;
          throw new Error("simulated crash after the capture, before the commit");
        }
        return result;
      },
    };
    env.carts = createCartStore(redis, prefix, {
      maxQuantity: MAX_CART_QUANTITY,
      maxLines: MAX_CART_LINES,
      ttlSeconds: 30 * 24 * 3600,
    });
    const sagaCarts: SagaDeps["carts"] = {
      // Through the switch below: a transaction that fails after the lines went back to the cart.
      addOnce: async (...args) => {
        const result = await env.carts.addOnce(...args);
        if (env.faults.failAfterCartRestore > 0) {
          env.faults.failAfterCartRestore--;
          throw new Error("simulated failure after the cart restore, before the commit");
        }
        return result;
      },
      get: (cartId) => env.carts.get(cartId),
    };
    const consumer = startOrderEventConsumer({
      db: consumerDb,
      redis,
      prefix,
      logger,
      payments: faulty,
      carts: sagaCarts,
      relay: env.relay,
      // Resolved at each event: the fake catalog starts below.
      catalog: {
        findProductsByIds: (ids, request) => env.deps.catalog.findProductsByIds(ids, request),
      },
    });
    shutdown.defer(() => consumer.stop());
    // Settles what a failed capture left behind; short, so tests of that wait briefly.
    const settler = startPaymentSettler({
      db: consumerDb,
      payments: faulty,
      carts: sagaCarts,
      logger,
      relay: env.relay,
      retryAfterMs: PAYMENT_RETRY_MS,
    });
    shutdown.defer(() => settler.stop());

    env.auth = await createTestAuth();
    env.jwks = (
      await createTokenSigner({
        ...TEST_TOKEN_AUDIENCE,
        privateKeyPem: env.auth.privateKeyPem,
        ttlSeconds: 900,
      })
    ).jwks;
    env.catalogHttp = await startFakeCatalog(env);
    shutdown.defer(() => env.catalogHttp.close());
    env.usersHttp = await startFakeUsers(env);
    shutdown.defer(() => env.usersHttp.close());
    env.inventoryHttp = await startFakeInventory(env);
    shutdown.defer(() => env.inventoryHttp.close());
    env.deps = {
      db: env.pg.db,
      verify: env.auth.verify,
      catalog: createCatalogClient({ url: env.catalogHttp.url, secrets: { current: TEST_SUBGRAPH_SECRET } }),
      carts: env.carts,
      inventory: createInventoryClient({
        url: env.inventoryHttp.url,
        secrets: { current: TEST_SUBGRAPH_SECRET },
        retries: { attempts: 0, backoffMs: 10 },
        timeoutMs: 1000,
      }),
      guestCheckout: false,
      payments: faulty,
      relay: env.relay,
      logger,
      users: createUsersClient({ url: env.usersHttp.url, secrets: { current: TEST_SUBGRAPH_SECRET } }),
      requireVerifiedEmail: false,
      storeCurrency: "USD",
      pricesIncludeTax: false,
    };
    const subgraph = await startTestSubgraph({
      name: "orders",
      resolvers,
      createContext,
      deps: env.deps,
      logger,
    });
    env.server = subgraph.server;
    shutdown.defer(() => subgraph.stop());
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
  env.close = shutdown.stopAll;
  env.reset = async () => {
    await env.pg.db.deleteFrom("idempotency_keys").execute();
    await env.pg.db.deleteFrom("refunds").execute();
    await env.pg.db.deleteFrom("orders").execute();
    await env.pg.db.deleteFrom("outbox").execute();
    await env.pg.db.deleteFrom("processed_events").execute();
    await env.pg.db.deleteFrom("wishlist_items").execute();
    // Orders first: their redemptions cascade, and then no row names a discount.
    await env.pg.db.deleteFrom("discounts").execute();
    await env.pg.db.deleteFrom("shipping_zones").execute();
    await env.pg.db.deleteFrom("tax_rates").execute();
    const state = [
      ...(await env.redis.keys(`${env.prefix}:cart:*`)),
      ...(await env.redis.keys(`${env.prefix}:cart-settings:*`)),
      ...(await env.redis.keys(`${env.prefix}:payments:*`)),
      ...(await env.redis.keys(`${env.prefix}:cart-once:*`)),
    ];
    if (state.length > 0) await env.redis.del(...state);
    env.catalogProducts.clear();
    for (const product of CATALOG) env.catalogProducts.set(product.id, structuredClone(product));
    env.catalogRequests.length = 0;
    env.addressBooks.clear();
    env.usersRequests.length = 0;
    env.faults.failAfterCapture = 0;
    env.faults.captureCalls = 0;
    env.faults.failAfterCartRestore = 0;
    env.faults.inventoryDown = false;
    env.inventoryAvailable.clear();
    for (const product of CATALOG) env.inventoryAvailable.set(product.id, 100);
    env.inventoryRequests.length = 0;
    env.deps.guestCheckout = false;
    env.deps.pricesIncludeTax = false;
    env.pg.queries.length = 0;
  };
  await env.reset();
  return env;
}

/**
 * A test file's environment: created before its tests (the customer ids are there at once),
 * reset before each, closed after all.
 */
export function useTestEnv(name: string): TestEnv {
  const env = newTestEnv();
  beforeAll(() => createTestEnv(name, env));
  afterAll(() => env.close?.());
  beforeEach(() => env.reset());
  return env;
}

/** A real GraphQL subgraph built from catalog's own SDL, answering `_entities` from `catalogProducts`. */
async function startFakeCatalog(env: TestEnv): Promise<RunningHttpServer> {
  const apollo = new ApolloServer({
    // Global ids at its edge, as the subgraph kit gives the real one.
    schema: useGlobalIds(
      buildSubgraphSchema([
        {
          typeDefs: parse(readSubgraphSchema("catalog")),
          resolvers: {
            Product: {
              __resolveReference: (ref: { id: string }) => {
                if (ref.id === BROKEN) throw new Error("catalog storage failed");
                return env.catalogProducts.get(ref.id) ?? null;
              },
            },
          },
        },
      ]),
      parse(readSubgraphSchema("catalog")),
    ),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart({ request }) {
          env.catalogRequests.push({
            query: request.query ?? "",
            requestId: request.http?.headers.get("x-request-id"),
            representations: request.variables?.representations,
          });
        },
      },
    ],
  });
  return startHttpServer({
    apollo,
    host: "127.0.0.1",
    port: 0,
    logger,
    // Like the real catalog, it answers only callers that sign with the subgraph secret.
    authenticate: createSubgraphAuthenticator({ current: TEST_SUBGRAPH_SECRET }),
    context: async () => ({}),
    // The app test verifies tokens against a JWKS URL; the fake serves the test key's.
    publicRoutes: { "GET /.well-known/jwks.json": (_req, res) => sendJson(res, 200, env.jwks) },
  });
}

/**
 * A real GraphQL subgraph built from users' own SDL, answering `User.addresses` from
 * `addressBooks` with users' rule: the owner (by the forwarded token) or `users:read:any` only,
 * anyone else FORBIDDEN.
 */
async function startFakeUsers(env: TestEnv): Promise<RunningHttpServer> {
  interface UsersContext {
    authorization: string | undefined;
  }
  const apollo = new ApolloServer<UsersContext>({
    // Global ids at its edge, as the subgraph kit gives the real one.
    schema: useGlobalIds(
      buildSubgraphSchema([
        {
          typeDefs: parse(readSubgraphSchema("users")),
          resolvers: {
            User: {
              __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: "Customer" }),
              addresses: async (user: { id: string }, _args: unknown, ctx: UsersContext) => {
                const viewer = await env.auth.verify(ctx.authorization);
                if (!viewer || (viewer.userId !== user.id && !viewer.scopes.includes("users:read:any"))) {
                  throw new GraphQLError("Only the account holder may see these addresses.", {
                    extensions: { code: "FORBIDDEN" },
                  });
                }
                return env.addressBooks.get(user.id) ?? [];
              },
            },
          },
        },
      ]),
      parse(readSubgraphSchema("users")),
    ),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart({ request }) {
          env.usersRequests.push({
            authorization: request.http?.headers.get("authorization"),
            representations: request.variables?.representations,
          });
        },
      },
    ],
  });
  return startHttpServer({
    apollo,
    host: "127.0.0.1",
    port: 0,
    logger,
    authenticate: createSubgraphAuthenticator({ current: TEST_SUBGRAPH_SECRET }),
    context: async (req) => ({ authorization: req.headers.authorization }),
  });
}

/**
 * A real GraphQL subgraph built from inventory's own SDL, answering `Product.inventory` from
 * `inventoryAvailable` (any product it does not list has none), as inventory answers orders.
 */
async function startFakeInventory(env: TestEnv): Promise<RunningHttpServer> {
  const apollo = new ApolloServer({
    // Global ids at its edge, as the subgraph kit gives the real one.
    schema: useGlobalIds(
      buildSubgraphSchema([
        {
          typeDefs: parse(readSubgraphSchema("inventory")),
          resolvers: {
            Product: {
              __resolveReference: (ref: { id: string }) => {
                if (env.faults.inventoryDown) throw new Error("inventory storage failed");
                return { id: ref.id };
              },
              inventory: (product: { id: string }) => {
                const available = env.inventoryAvailable.get(product.id) ?? 0;
                return { available, inStock: available > 0, lowStock: available <= 5 };
              },
            },
          },
        },
      ]),
      parse(readSubgraphSchema("inventory")),
    ),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart({ request }) {
          env.inventoryRequests.push(request.variables?.representations);
        },
      },
    ],
  });
  return startHttpServer({
    apollo,
    host: "127.0.0.1",
    port: 0,
    logger,
    authenticate: createSubgraphAuthenticator({ current: TEST_SUBGRAPH_SECRET }),
    context: async () => ({}),
  });
}

/** Operations and probes bound to one environment. */
export function createTestOperations(env: TestEnv) {
  async function run(query: string, variables: Record<string, unknown> = {}, options: RunOptions = {}) {
    const authorization = options.as
      ? await env.auth.bearer(options.as.id, options.as.role, { clientId: options.as.clientId })
      : undefined;
    const context = await createContext(options.deps ?? env.deps, {
      authorization,
      requestId: options.requestId,
    });
    const result = await executeSingle(env.server, context, query, variables);
    return options.globalIds ? result : { ...result, data: withRawIds(result.data) };
  }

  async function data<T>(query: string, variables: Record<string, unknown> = {}, options: RunOptions = {}) {
    const result = await run(query, variables, options);
    expect(result.errors).toBeUndefined();
    return result.data as T;
  }

  /**
   * A job as BullMQ stores it: a hash at `<prefix>:<queue>:<job id>`. Read with ioredis because
   * bullmq is a dependency of @nexus/events, not of this package.
   */
  async function bullJob(queue: string, jobId: string): Promise<Record<string, string> | undefined> {
    const job = await env.redis.hgetall(`${env.prefix}:${queue}:${jobId}`);
    return Object.keys(job).length > 0 ? job : undefined;
  }

  /**
   * Waits until the orders consumer completed the job (BullMQ stores a `returnvalue` only then);
   * fails the test as soon as it failed more than `failures` times.
   */
  async function processedByOrders(eventId: string, failures = 0): Promise<Record<string, string>> {
    return until(
      `the orders consumer to process ${eventId}`,
      async () => {
        const job = await bullJob("events.orders", eventId);
        if (job?.finishedOn && "returnvalue" in job) return job;
        if (job?.failedReason && Number(job.atm) > failures) {
          throw new Error(`the consumer failed: ${job.failedReason}`);
        }
        return undefined;
      },
      { timeoutMs: 15_000 },
    );
  }

  /** Publishes an inventory event the way inventory does: outbox row, then relay to BullMQ. */
  async function fromInventory<T extends "InventoryReserved" | "InventoryRejected" | "ReservationExpired">(
    type: T,
    payload: EventEnvelope<T>["payload"],
    options: { failures?: number } = {},
  ): Promise<EventEnvelope<T>> {
    const event = await env.inventoryPg.db
      .transaction()
      .execute((trx) => appendToOutbox(trx, type, payload.orderId, payload));
    expect(await env.inventoryRelay.flush()).toBe(1);
    await processedByOrders(event.id, options.failures ?? 0);
    return event;
  }

  /** The events orders wrote to its outbox, oldest first. */
  async function outbox() {
    const rows = await env.pg.db
      .selectFrom("outbox")
      .select(["type", "aggregate_id", "payload"])
      .orderBy("occurred_at")
      .execute();
    return rows.map((row) => ({ type: row.type, aggregateId: row.aggregate_id, payload: row.payload }));
  }

  async function rowCounts() {
    const count = async (table: "orders" | "order_lines" | "outbox" | "idempotency_keys") => {
      const row = await env.pg.db
        .selectFrom(table)
        .select(sql<number>`count(*)::int`.as("n"))
        .executeTakeFirstOrThrow();
      return row.n;
    };
    return {
      orders: await count("orders"),
      lines: await count("order_lines"),
      outbox: await count("outbox"),
      keys: await count("idempotency_keys"),
    };
  }

  /** Inserts an order directly, to control placed_at and status. */
  async function insertOrder(
    customerId: string,
    placedAt: Date,
    lines = 1,
    status: OrderStatus = "PENDING",
  ): Promise<string> {
    const { id } = await env.pg.db
      .insertInto("orders")
      .values({
        customer_id: customerId,
        currency_code: "USD",
        total_amount: lines * 500,
        placed_at: placedAt,
        status,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await env.pg.db
      .insertInto("order_lines")
      .values(
        Array.from({ length: lines }, (_, position) => ({
          order_id: id,
          position,
          product_id: TEE,
          product_name: `Line ${position}`,
          unit_price: 500,
          quantity: 1,
        })),
      )
      .execute();
    await env.pg.db
      .insertInto("order_status_changes")
      .values({ order_id: id, status: "PENDING", at: placedAt })
      .execute();
    return id;
  }

  return { run, data, bullJob, processedByOrders, fromInventory, outbox, rowCounts, insertOrder };
}
