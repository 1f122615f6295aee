import { randomUUID } from "node:crypto";
import { createServer as createNetServer } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import {
  ConfigError,
  createLogger,
  createTokenSigner,
  encodeCursor,
  type Role,
  type RunningHttpServer,
  readSubgraphSchema,
  sendJson,
  startHttpServer,
} from "@nexus/core";
import {
  appendToOutbox,
  createOutboxMigration,
  type EventConsumer,
  type EventEnvelope,
  type OutboxDatabase,
  type OutboxRelay,
  startOutboxRelay,
} from "@nexus/events";
import { connectRedis, createPostgresDb, databaseUrl, dropDatabase } from "@nexus/stores";
import {
  createTestAuth,
  createTestPostgres,
  executeSingle,
  TEST_REDIS_URL,
  TEST_SERVER_URL,
  TEST_TOKEN_AUDIENCE,
  type TestAuth,
  type TestPostgres,
  testRedisPrefix,
} from "@nexus/testing";
import { parse } from "graphql";
import type { Redis } from "ioredis";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startApp } from "../app.ts";
import { createCatalogClient } from "../catalog/catalog.client.ts";
import { loadConfig } from "../config.ts";
import { type Context, createContext, type Deps } from "../context.ts";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { startOrderEventConsumer } from "../events/order.consumer.ts";
import { createServer } from "../server.ts";

const logger = createLogger("orders-test", "silent");

// Catalog ids are 24-hex ObjectIds.
const LAPTOP = "65a000000000000000000001";
const TEE = "65a000000000000000000002";
const SHOES = "65a000000000000000000003";
const EURO_MUG = "65a000000000000000000004";
const YACHT = "65a000000000000000000005";
const BROKEN = "65a0000000000000000000ee";
const UNKNOWN = "65a0000000000000000000ff";

interface FakeProduct {
  id: string;
  name: string;
  price: { amount: number; currencyCode: string };
}

const CATALOG: readonly FakeProduct[] = [
  { id: LAPTOP, name: "Aero Laptop", price: { amount: 129_900, currencyCode: "USD" } },
  { id: TEE, name: "Classic Tee", price: { amount: 1999, currencyCode: "USD" } },
  { id: SHOES, name: "Trail Runner", price: { amount: 8950, currencyCode: "USD" } },
  { id: EURO_MUG, name: "Euro Mug", price: { amount: 1200, currencyCode: "EUR" } },
  { id: YACHT, name: "Yacht", price: { amount: 2_000_000_000, currencyCode: "USD" } },
];

/** The catalog as the fake serves it now; tests change it to prove orders keep their snapshot. */
const catalogProducts = new Map<string, FakeProduct>();
/** Every request the fake catalog received. */
const catalogRequests: { query: string; requestId: string | undefined; representations: unknown }[] = [];

const A = randomUUID();
const B = randomUUID();
const ADMIN = randomUUID();

let pg: TestPostgres<Database>;
let inventoryPg: TestPostgres<OutboxDatabase>;
let relayDb: Kysely<OutboxDatabase>;
let consumerDb: Kysely<Database>;
let redis: Redis;
let prefix: string;
let relay: OutboxRelay;
let inventoryRelay: OutboxRelay;
let consumer: EventConsumer;
let catalogHttp: RunningHttpServer;
let auth: TestAuth;
let jwks: unknown;
let server: ApolloServer<Context>;
let deps: Deps;

/** A real GraphQL subgraph built from catalog's own SDL, answering `_entities` from `catalogProducts`. */
async function startFakeCatalog(): Promise<RunningHttpServer> {
  const apollo = new ApolloServer({
    schema: buildSubgraphSchema([
      {
        typeDefs: parse(readSubgraphSchema("catalog")),
        resolvers: {
          Product: {
            __resolveReference: (ref: { id: string }) => {
              if (ref.id === BROKEN) throw new Error("catalog storage failed");
              return catalogProducts.get(ref.id) ?? null;
            },
          },
        },
      },
    ]),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart({ request }) {
          catalogRequests.push({
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
    context: async () => ({}),
    // The app test verifies tokens against a JWKS URL; the fake serves the test key's.
    routes: { "GET /.well-known/jwks.json": (_req, res) => sendJson(res, 200, jwks) },
  });
}

/** A port nothing listens on: the catalog is down. */
async function closedPortUrl(): Promise<string> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}/graphql`;
}

beforeAll(async () => {
  pg = await createTestPostgres<Database>("orders", migrations);
  // Stands in for the inventory subgraph's database: where InventoryReserved/Rejected come from.
  inventoryPg = await createTestPostgres<OutboxDatabase>("orders_inventory", {
    "0001": createOutboxMigration,
  });
  // The relay and the consumer get their own pools so `pg.queries` holds only what resolvers sent.
  relayDb = createPostgresDb<OutboxDatabase>(pg.url);
  consumerDb = createPostgresDb<Database>(pg.url);
  redis = await connectRedis(TEST_REDIS_URL);
  prefix = testRedisPrefix("orders");
  relay = startOutboxRelay({ db: relayDb, redis, prefix, logger, pollIntervalMs: 60_000 });
  inventoryRelay = startOutboxRelay({ db: inventoryPg.db, redis, prefix, logger, pollIntervalMs: 60_000 });
  consumer = startOrderEventConsumer({ db: consumerDb, redis, prefix, logger });

  auth = await createTestAuth();
  jwks = (
    await createTokenSigner({ ...TEST_TOKEN_AUDIENCE, privateKeyPem: auth.privateKeyPem, ttlSeconds: 900 })
  ).jwks;
  catalogHttp = await startFakeCatalog();
  deps = {
    db: pg.db,
    verify: auth.verify,
    catalog: createCatalogClient({ url: catalogHttp.url }),
    relay,
    logger,
  };
  server = createServer(logger);
  await server.start();
});

afterAll(async () => {
  await server?.stop();
  await consumer?.stop();
  await relay?.stop();
  await inventoryRelay?.stop();
  if (redis) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
  await catalogHttp?.close();
  await relayDb?.destroy();
  await consumerDb?.destroy();
  await pg?.drop();
  await inventoryPg?.drop();
});

beforeEach(async () => {
  await pg.db.deleteFrom("order_lines").execute();
  await pg.db.deleteFrom("orders").execute();
  await pg.db.deleteFrom("outbox").execute();
  await pg.db.deleteFrom("processed_events").execute();
  catalogProducts.clear();
  for (const product of CATALOG) catalogProducts.set(product.id, structuredClone(product));
  catalogRequests.length = 0;
  pg.queries.length = 0;
});

interface RunOptions {
  as?: { id: string; role?: Role };
  deps?: Deps;
  requestId?: string;
}

async function run(query: string, variables: Record<string, unknown> = {}, options: RunOptions = {}) {
  const authorization = options.as ? await auth.bearer(options.as.id, options.as.role) : undefined;
  const context = await createContext(options.deps ?? deps, { authorization, requestId: options.requestId });
  return executeSingle(server, context, query, variables);
}

async function data<T>(query: string, variables: Record<string, unknown> = {}, options: RunOptions = {}) {
  const result = await run(query, variables, options);
  expect(result.errors).toBeUndefined();
  return result.data as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A job as BullMQ stores it: a hash at `<prefix>:<queue>:<job id>`. Read with ioredis because
 * bullmq is a dependency of @nexus/events, not of this package.
 */
async function bullJob(queue: string, jobId: string): Promise<Record<string, string> | undefined> {
  const job = await redis.hgetall(`${prefix}:${queue}:${jobId}`);
  return Object.keys(job).length > 0 ? job : undefined;
}

/** Waits until the orders consumer finished the job; a failed attempt fails the test with its reason. */
async function processedByOrders(eventId: string): Promise<void> {
  await until(`the orders consumer to process ${eventId}`, async () => {
    const job = await bullJob("events.orders", eventId);
    if (job?.failedReason) throw new Error(`the consumer failed: ${job.failedReason}`);
    return job?.finishedOn ? true : undefined;
  });
}

/** Publishes an inventory event the way inventory does: outbox row, then relay to BullMQ. */
async function fromInventory<T extends "InventoryReserved" | "InventoryRejected">(
  type: T,
  payload: EventEnvelope<T>["payload"],
): Promise<EventEnvelope<T>> {
  const event = await inventoryPg.db
    .transaction()
    .execute((trx) => appendToOutbox(trx, type, payload.orderId, payload));
  expect(await inventoryRelay.flush()).toBe(1);
  await processedByOrders(event.id);
  return event;
}

const PLACE_ORDER = `mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order {
      id status placedAt customer { id } total { amount currencyCode }
      lines { product { id } productName quantity unitPrice { amount currencyCode } lineTotal { amount currencyCode } }
    }
    userErrors { field message code }
  }
}`;

interface OrderData {
  id: string;
  status: string;
  placedAt: string;
  customer: { id: string };
  total: { amount: number; currencyCode: string };
  lines: {
    product: { id: string };
    productName: string;
    quantity: number;
    unitPrice: { amount: number; currencyCode: string };
    lineTotal: { amount: number; currencyCode: string };
  }[];
}

interface PlaceOrderData {
  placeOrder: {
    order: OrderData | null;
    userErrors: { field: string[] | null; message: string; code: string }[];
  };
}

type LineInput = { productId: string; quantity: number };

const place = (lines: LineInput[], options: RunOptions = { as: { id: A } }) =>
  data<PlaceOrderData>(PLACE_ORDER, { input: { lines } }, options).then((d) => d.placeOrder);

/** Orders, lines and outbox rows: all three stay empty whenever an order is refused. */
async function rowCounts() {
  const count = async (table: "orders" | "order_lines" | "outbox") => {
    const row = await pg.db
      .selectFrom(table)
      .select(sql<number>`count(*)::int`.as("n"))
      .executeTakeFirstOrThrow();
    return row.n;
  };
  return { orders: await count("orders"), lines: await count("order_lines"), outbox: await count("outbox") };
}

const money = (amount: number, currencyCode = "USD") => ({ amount, currencyCode });

describe("placeOrder", () => {
  it("prices every line from one catalog _entities request and snapshots names and prices", async () => {
    const payload = await place(
      [
        { productId: TEE, quantity: 3 },
        { productId: LAPTOP.toUpperCase(), quantity: 1 },
      ],
      { as: { id: A }, requestId: "req-place-1" },
    );

    expect(payload.userErrors).toEqual([]);
    const order = payload.order;
    expect(order).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: "PENDING",
      placedAt: expect.any(String),
      customer: { id: A },
      total: money(3 * 1999 + 129_900),
      lines: [
        {
          product: { id: TEE },
          productName: "Classic Tee",
          quantity: 3,
          unitPrice: money(1999),
          lineTotal: money(5997),
        },
        {
          product: { id: LAPTOP },
          productName: "Aero Laptop",
          quantity: 1,
          unitPrice: money(129_900),
          lineTotal: money(129_900),
        },
      ],
    });
    expect(catalogRequests).toEqual([
      {
        query: expect.stringContaining("_entities(representations: $representations)"),
        requestId: "req-place-1",
        representations: [
          { __typename: "Product", id: TEE },
          { __typename: "Product", id: LAPTOP },
        ],
      },
    ]);
    // Three inserts in one transaction; the payload's lines come from them, not from another read.
    expect(pg.queries.map((q) => /^insert into "\w+"|^begin$|^commit$/.exec(q)?.[0])).toEqual([
      "begin",
      'insert into "orders"',
      'insert into "order_lines"',
      'insert into "outbox"',
      "commit",
    ]);

    catalogProducts.set(LAPTOP, { id: LAPTOP, name: "Aero Laptop 2", price: money(99_900) });
    catalogProducts.delete(TEE);
    const later = await data<{ order: OrderData }>(
      `query ($id: ID!) { order(id: $id) {
        id status placedAt customer { id } total { amount currencyCode }
        lines { product { id } productName quantity unitPrice { amount currencyCode } lineTotal { amount currencyCode } }
      } }`,
      { id: order?.id },
      { as: { id: A } },
    );
    expect(later.order).toEqual(order);

    const rows = await pg.db
      .selectFrom("order_lines")
      .select(["position", "product_id", "product_name", "unit_price", "quantity"])
      .orderBy("position")
      .execute();
    expect(rows).toEqual([
      { position: 0, product_id: TEE, product_name: "Classic Tee", unit_price: 1999, quantity: 3 },
      { position: 1, product_id: LAPTOP, product_name: "Aero Laptop", unit_price: 129_900, quantity: 1 },
    ]);
    const saved = await pg.db.selectFrom("orders").selectAll().executeTakeFirstOrThrow();
    expect(saved).toMatchObject({
      customer_id: A,
      status: "PENDING",
      currency_code: "USD",
      total_amount: 135_897,
    });
    expect(saved.placed_at.toISOString()).toBe(order?.placedAt);
    // Stored to the millisecond, so a cursor made from a JS Date matches the row exactly.
    const { micros } = await sql<{ micros: number }>`
      SELECT (extract(microseconds FROM placed_at)::int % 1000) AS micros FROM orders`
      .execute(pg.db)
      .then((r) => r.rows[0] ?? { micros: -1 });
    expect(micros).toBe(0);
  });

  it("writes OrderPlaced to the outbox in the order's transaction and publishes it to inventory and insights", async () => {
    const { order } = await place([
      { productId: SHOES, quantity: 2 },
      { productId: TEE, quantity: 1 },
    ]);
    const orderId = order?.id ?? "";
    const [row, ...others] = await pg.db.selectFrom("outbox").selectAll().execute();
    expect(others).toEqual([]);
    expect(row).toMatchObject({
      type: "OrderPlaced",
      aggregate_id: orderId,
      payload: {
        orderId,
        customerId: A,
        currencyCode: "USD",
        lines: [
          { productId: SHOES, quantity: 2, unitPrice: 8950 },
          { productId: TEE, quantity: 1, unitPrice: 1999 },
        ],
      },
    });
    if (!row) throw new Error("no outbox row");

    // The mutation's own flush publishes it; no poll is due for a minute.
    await until("the outbox row to be published", async () => {
      const { published_at } = await pg.db
        .selectFrom("outbox")
        .select("published_at")
        .where("id", "=", row.id)
        .executeTakeFirstOrThrow();
      return published_at ?? undefined;
    });
    const envelope = {
      id: row.id,
      type: "OrderPlaced",
      aggregateId: orderId,
      occurredAt: row.occurred_at.toISOString(),
      payload: row.payload,
    };
    for (const queue of ["events.inventory", "events.insights"]) {
      const job = await bullJob(queue, row.id);
      expect(job?.name).toBe("OrderPlaced");
      expect(JSON.parse(job?.data ?? "null")).toEqual(envelope);
    }
  });

  it("writes neither the order nor its lines when the outbox insert fails", async () => {
    await sql`ALTER TABLE outbox ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`.execute(pg.db);
    try {
      const result = await run(
        PLACE_ORDER,
        { input: { lines: [{ productId: TEE, quantity: 1 }] } },
        { as: { id: A } },
      );
      expect(result.data).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
      expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0 });
    } finally {
      await sql`ALTER TABLE outbox DROP CONSTRAINT refuse_all`.execute(pg.db);
    }
  });

  it("reports every problem at once, in line order, and writes nothing", async () => {
    const payload = await place([
      { productId: LAPTOP, quantity: 0 },
      { productId: "not-a-product-id", quantity: 1 },
      { productId: TEE, quantity: 1000 },
      { productId: LAPTOP.toUpperCase(), quantity: 2 },
      { productId: UNKNOWN, quantity: 1 },
      { productId: SHOES, quantity: 999 },
    ]);
    expect(payload).toEqual({
      order: null,
      userErrors: [
        {
          code: "INVALID_QUANTITY",
          field: ["input", "lines", "0", "quantity"],
          message: "Quantities must be between 1 and 999.",
        },
        {
          code: "PRODUCT_NOT_FOUND",
          field: ["input", "lines", "1", "productId"],
          message: "There is no such product.",
        },
        {
          code: "INVALID_QUANTITY",
          field: ["input", "lines", "2", "quantity"],
          message: "Quantities must be between 1 and 999.",
        },
        {
          code: "DUPLICATE_PRODUCT",
          field: ["input", "lines", "3", "productId"],
          message: "This product is already on another line; change that line's quantity instead.",
        },
        {
          code: "PRODUCT_NOT_FOUND",
          field: ["input", "lines", "4", "productId"],
          message: "There is no such product.",
        },
      ],
    });
    // Malformed ids and repeats are never sent to the catalog.
    expect(catalogRequests.map((r) => r.representations)).toEqual([
      [LAPTOP, TEE, UNKNOWN, SHOES].map((id) => ({ __typename: "Product", id })),
    ]);
    expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0 });
  });

  it("refuses an empty order and one over 50 lines without asking the catalog", async () => {
    expect(await place([])).toEqual({
      order: null,
      userErrors: [
        { code: "EMPTY_ORDER", field: ["input", "lines"], message: "An order needs at least one line." },
      ],
    });
    const tooMany = Array.from({ length: 51 }, (_, i) => ({
      productId: `65b${i.toString(16).padStart(21, "0")}`,
      quantity: 1,
    }));
    expect(await place(tooMany)).toEqual({
      order: null,
      userErrors: [
        { code: "TOO_MANY_LINES", field: ["input", "lines"], message: "An order may have at most 50 lines." },
      ],
    });
    expect(catalogRequests).toEqual([]);
    expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0 });
  });

  it("accepts exactly 50 lines", async () => {
    for (let i = 0; i < 50; i++) {
      const id = `65c${i.toString(16).padStart(21, "0")}`;
      catalogProducts.set(id, { id, name: `Sticker ${i}`, price: money(100 + i) });
    }
    const lines = [...catalogProducts.keys()]
      .filter((id) => id.startsWith("65c"))
      .map((productId) => ({ productId, quantity: 2 }));
    const { order, userErrors } = await place(lines);
    expect(userErrors).toEqual([]);
    expect(order?.lines).toHaveLength(50);
    // 2 * (100 + 101 + ... + 149)
    expect(order?.total).toEqual(money(2 * (50 * 100 + (49 * 50) / 2)));
    expect(catalogRequests).toHaveLength(1);
  });

  it("refuses mixed currencies and totals past what an Int holds", async () => {
    expect(
      await place([
        { productId: TEE, quantity: 1 },
        { productId: EURO_MUG, quantity: 1 },
      ]),
    ).toEqual({
      order: null,
      userErrors: [
        {
          code: "CURRENCY_MISMATCH",
          field: ["input", "lines", "1", "productId"],
          message: "This product is priced in EUR, the rest of the order in USD.",
        },
      ],
    });
    expect(await place([{ productId: YACHT, quantity: 2 }])).toEqual({
      order: null,
      userErrors: [
        {
          code: "TOTAL_TOO_LARGE",
          field: ["input", "lines"],
          message: "The order's total is more than one order can hold; split it.",
        },
      ],
    });
    expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0 });
  });

  it("fails without writing anything when the catalog is down or answers with errors", async () => {
    const down = { ...deps, catalog: createCatalogClient({ url: await closedPortUrl() }) };
    const offline = await run(
      PLACE_ORDER,
      { input: { lines: [{ productId: TEE, quantity: 1 }] } },
      { as: { id: A }, deps: down },
    );
    expect(offline.data).toBeNull();
    expect(offline.errors?.map((e) => e.extensions?.code)).toEqual(["INTERNAL_SERVER_ERROR"]);

    const failing = await run(
      PLACE_ORDER,
      {
        input: {
          lines: [
            { productId: TEE, quantity: 1 },
            { productId: BROKEN, quantity: 1 },
          ],
        },
      },
      { as: { id: A } },
    );
    expect(failing.data).toBeNull();
    expect(failing.errors?.map((e) => e.extensions?.code)).toEqual(["INTERNAL_SERVER_ERROR"]);
    expect(catalogRequests).toHaveLength(1);
    expect(await rowCounts()).toEqual({ orders: 0, lines: 0, outbox: 0 });
  });

  it("requires a signed-in viewer", async () => {
    const result = await run(PLACE_ORDER, { input: { lines: [{ productId: TEE, quantity: 1 }] } });
    expect(result.data).toBeNull();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
    expect(catalogRequests).toEqual([]);
  });
});

describe("inventory events", () => {
  const statusOf = async (orderId: string) =>
    pg.db
      .selectFrom("orders")
      .select(["status", "updated_at"])
      .where("id", "=", orderId)
      .executeTakeFirstOrThrow();

  async function placed(): Promise<string> {
    const { order } = await place([{ productId: TEE, quantity: 1 }]);
    if (!order) throw new Error("order not placed");
    return order.id;
  }

  it("confirms a pending order on InventoryReserved", async () => {
    const orderId = await placed();
    const event = await fromInventory("InventoryReserved", { orderId });
    expect((await statusOf(orderId)).status).toBe("CONFIRMED");
    expect(await pg.db.selectFrom("processed_events").selectAll().execute()).toEqual([
      { event_id: event.id, event_type: "InventoryReserved", processed_at: expect.any(Date) },
    ]);
  });

  it("rejects a pending order on InventoryRejected, and leaves a settled order alone", async () => {
    const rejected = await placed();
    const confirmed = await placed();
    await fromInventory("InventoryRejected", {
      orderId: rejected,
      lines: [{ productId: TEE, requested: 1, available: 0 }],
    });
    expect((await statusOf(rejected)).status).toBe("REJECTED");

    await fromInventory("InventoryReserved", { orderId: confirmed });
    const before = await statusOf(confirmed);
    await fromInventory("InventoryRejected", { orderId: confirmed, lines: [] });
    await fromInventory("InventoryReserved", { orderId: rejected });
    expect(await statusOf(confirmed)).toEqual(before);
    expect((await statusOf(rejected)).status).toBe("REJECTED");
  });

  it("applies a redelivered event once, even to an order that is pending again", async () => {
    const orderId = await placed();
    const event = await fromInventory("InventoryReserved", { orderId });
    expect((await statusOf(orderId)).status).toBe("CONFIRMED");

    // Redelivery as it happens: the relay publishes the row again (its mark was lost) after
    // BullMQ dropped the finished job. Resetting the order shows the event itself is skipped.
    await pg.db.updateTable("orders").set({ status: "PENDING" }).where("id", "=", orderId).execute();
    await inventoryPg.db
      .updateTable("outbox")
      .set({ published_at: null })
      .where("id", "=", event.id)
      .execute();
    await redis.del(`${prefix}:events.orders:${event.id}`);
    expect(await inventoryRelay.flush()).toBe(1);
    await processedByOrders(event.id);

    expect((await statusOf(orderId)).status).toBe("PENDING");
    expect(await pg.db.selectFrom("processed_events").select("event_id").execute()).toEqual([
      { event_id: event.id },
    ]);
  });

  it("completes, without retries, an event that names no valid order", async () => {
    const event = await fromInventory("InventoryReserved", { orderId: "not-an-order-id" });
    // `atm` is BullMQ's attempts-made counter.
    expect((await bullJob("events.orders", event.id))?.atm).toBe("1");
  });
});

/** Inserts an order directly, to control placed_at. */
async function insertOrder(customerId: string, placedAt: Date, lines = 1): Promise<string> {
  const { id } = await pg.db
    .insertInto("orders")
    .values({ customer_id: customerId, currency_code: "USD", total_amount: lines * 500, placed_at: placedAt })
    .returning("id")
    .executeTakeFirstOrThrow();
  await pg.db
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
  return id;
}

describe("reading orders", () => {
  it("shows an order to its customer and to admins; to anyone else it does not exist", async () => {
    const id = await insertOrder(A, new Date("2026-01-01T10:00:00.000Z"));
    const query = `query ($id: ID!) { order(id: $id) { id total { amount } } }`;
    const visible = { order: { id, total: { amount: 500 } } };

    expect(await data(query, { id }, { as: { id: A } })).toEqual(visible);
    expect(await data(query, { id }, { as: { id: ADMIN, role: "ADMIN" } })).toEqual(visible);
    expect(await data(query, { id }, { as: { id: B } })).toEqual({ order: null });
    expect(await data(query, { id: randomUUID() }, { as: { id: A } })).toEqual({ order: null });
    expect(await data(query, { id: "not-a-uuid" }, { as: { id: A } })).toEqual({ order: null });

    const anonymous = await run(query, { id });
    expect(anonymous.data).toEqual({ order: null });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });

  it("resolves Order _entities with one orders query and one lines query, hiding others' orders", async () => {
    const mine1 = await insertOrder(A, new Date("2026-01-01T10:00:00.000Z"), 2);
    const mine2 = await insertOrder(A, new Date("2026-01-02T10:00:00.000Z"), 1);
    const theirs = await insertOrder(B, new Date("2026-01-03T10:00:00.000Z"), 1);
    pg.queries.length = 0;

    const result = await data<{ _entities: unknown[] }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on Order { id status customer { id } lines { productName lineTotal { amount currencyCode } } }
      } }`,
      {
        reps: [mine2, theirs, randomUUID(), "not-a-uuid", mine1.toUpperCase()].map((id) => ({
          __typename: "Order",
          id,
        })),
      },
      { as: { id: A } },
    );
    const line = (n: number) => ({ productName: `Line ${n}`, lineTotal: money(500) });
    expect(result._entities).toEqual([
      { id: mine2, status: "PENDING", customer: { id: A }, lines: [line(0)] },
      null,
      null,
      null,
      { id: mine1, status: "PENDING", customer: { id: A }, lines: [line(0), line(1)] },
    ]);
    expect(pg.queries).toHaveLength(2);
    expect(pg.queries[0]).toMatch(/^select .* from "orders" where "id" in/);
    expect(pg.queries[1]).toMatch(/from "order_lines"/);

    const anonymous = await run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { id } } }`,
      {
        reps: [{ __typename: "Order", id: mine1 }],
      },
    );
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });

  it("resolves User _entities to stubs whose orders only the user and admins may read", async () => {
    await insertOrder(A, new Date("2026-01-01T10:00:00.000Z"));
    const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) {
      ... on User { id orders { totalCount } }
    } }`;
    const reps = { reps: [{ __typename: "User", id: A }] };

    pg.queries.length = 0;
    const stub = await data(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id } } }`,
      reps,
    );
    expect(stub).toEqual({ _entities: [{ id: A }] });
    expect(pg.queries).toEqual([]);

    expect(await data(query, reps, { as: { id: A } })).toEqual({
      _entities: [{ id: A, orders: { totalCount: 1 } }],
    });
    expect(await data(query, reps, { as: { id: ADMIN, role: "ADMIN" } })).toEqual({
      _entities: [{ id: A, orders: { totalCount: 1 } }],
    });
    const other = await run(query, reps, { as: { id: B } });
    expect(other.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    const anonymous = await run(query, reps);
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("User.orders", () => {
  const ORDERS = `query ($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) {
    ... on User { orders(first: $first, after: $after) {
      edges { cursor node { id placedAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      totalCount
    } }
  } }`;
  interface OrdersPage {
    edges: { cursor: string; node: { id: string; placedAt: string } }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
    totalCount: number;
  }
  const pageOf = async (first: number | null, after: string | null, as = { id: A }) => {
    const result = await data<{ _entities: { orders: OrdersPage }[] }>(
      ORDERS,
      { reps: [{ __typename: "User", id: A }], first, after },
      { as },
    );
    const page = result._entities[0]?.orders;
    if (!page) throw new Error("no page");
    return page;
  };

  it("pages newest first by (placedAt, id), ties included, with exact cursors and counts", async () => {
    const t = (minute: number) => new Date(`2026-02-01T10:0${minute}:00.123Z`);
    const ids = [
      { id: await insertOrder(A, t(1)), at: t(1) },
      { id: await insertOrder(A, t(3)), at: t(3) },
      { id: await insertOrder(A, t(3)), at: t(3) },
      { id: await insertOrder(A, t(2)), at: t(2) },
      { id: await insertOrder(A, t(5)), at: t(5) },
    ];
    await insertOrder(B, t(4));
    const newestFirst = [...ids].sort(
      (x, y) => y.at.getTime() - x.at.getTime() || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0),
    );
    const edge = ({ id, at }: { id: string; at: Date }) => ({
      cursor: encodeCursor([at.toISOString(), id]),
      node: { id, placedAt: at.toISOString() },
    });
    const expected = newestFirst.map(edge);

    pg.queries.length = 0;
    const first = await pageOf(2, null);
    expect(pg.queries).toHaveLength(2);
    expect(first).toEqual({
      edges: expected.slice(0, 2),
      pageInfo: {
        hasNextPage: true,
        hasPreviousPage: false,
        startCursor: expected[0]?.cursor,
        endCursor: expected[1]?.cursor,
      },
      totalCount: 5,
    });
    const second = await pageOf(2, first.pageInfo.endCursor);
    expect(second.edges).toEqual(expected.slice(2, 4));
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const last = await pageOf(2, second.pageInfo.endCursor);
    expect(last).toEqual({
      edges: expected.slice(4),
      pageInfo: {
        hasNextPage: false,
        hasPreviousPage: true,
        startCursor: expected[4]?.cursor,
        endCursor: expected[4]?.cursor,
      },
      totalCount: 5,
    });
    expect((await pageOf(null, null)).edges).toEqual(expected);
  });

  it("refuses a bad page size or a cursor it did not hand out", async () => {
    const codes = async (first: number | null, after: string | null) => {
      const result = await run(
        ORDERS,
        { reps: [{ __typename: "User", id: A }], first, after },
        { as: { id: A } },
      );
      return result.errors?.map((e) => e.extensions?.code);
    };
    expect(await codes(0, null)).toEqual(["BAD_USER_INPUT"]);
    expect(await codes(101, null)).toEqual(["BAD_USER_INPUT"]);
    expect(await codes(10, "not-a-cursor")).toEqual(["BAD_USER_INPUT"]);
    expect(await codes(10, encodeCursor(["2026-01-01T00:00:00.000Z", "not-a-uuid"]))).toEqual([
      "BAD_USER_INPUT",
    ]);
    expect(await codes(10, encodeCursor(["yesterday", randomUUID()]))).toEqual(["BAD_USER_INPUT"]);
  });

  it("loads the lines of 10 orders with one query", async () => {
    const base = Date.parse("2026-03-01T00:00:00.000Z");
    for (let i = 0; i < 10; i++) await insertOrder(A, new Date(base + i * 60_000), (i % 3) + 1);
    pg.queries.length = 0;
    const result = await data<{ _entities: { orders: { edges: { node: { lines: unknown[] } }[] } }[] }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on User { orders(first: 10) { edges { node { id lines { productName quantity } } } } }
      } }`,
      { reps: [{ __typename: "User", id: A }] },
      { as: { id: A } },
    );
    const lineCounts = result._entities[0]?.orders.edges.map((e) => e.node.lines.length);
    expect(lineCounts).toEqual([1, 3, 2, 1, 3, 2, 1, 3, 2, 1]);
    expect(pg.queries).toHaveLength(3);
    expect(pg.queries.filter((q) => q.includes('from "order_lines"'))).toHaveLength(1);
  });

  it("pages several users' orders with one query for pages and one for counts", async () => {
    const C = randomUUID();
    await insertOrder(A, new Date("2026-04-01T00:00:00.000Z"));
    await insertOrder(A, new Date("2026-04-02T00:00:00.000Z"));
    await insertOrder(B, new Date("2026-04-03T00:00:00.000Z"));
    pg.queries.length = 0;
    const result = await data<{
      _entities: { id: string; orders: { totalCount: number; edges: unknown[] } }[];
    }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on User { id orders(first: 1) { totalCount edges { node { id } } } }
      } }`,
      { reps: [A, B, C].map((id) => ({ __typename: "User", id })) },
      { as: { id: ADMIN, role: "ADMIN" } },
    );
    expect(result._entities.map((u) => [u.id, u.orders.totalCount, u.orders.edges.length])).toEqual([
      [A, 2, 1],
      [B, 1, 1],
      [C, 0, 0],
    ]);
    expect(pg.queries).toHaveLength(2);
  });
});

describe("config and app", () => {
  it("reads defaults and reports every bad value at once", () => {
    expect(loadConfig({})).toMatchObject({
      port: 4003,
      databaseUrl: "postgres://postgres@127.0.0.1:5432/orders",
      redisUrl: "redis://127.0.0.1:6379",
      eventsPrefix: "nexus",
      catalogUrl: "http://127.0.0.1:4002/graphql",
      outboxPollMs: 500,
    });
    expect(loadConfig({ DATABASE_URL: "postgres://db.internal:5432/postgres" }).databaseUrl).toBe(
      "postgres://db.internal:5432/orders",
    );
    let error: unknown;
    try {
      loadConfig({ OUTBOX_POLL_MS: "soon", CATALOG_URL: "ftp://catalog", REDIS_URL: "nope" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'REDIS_URL must be a URL, got "nope"',
      'OUTBOX_POLL_MS must be an integer between 10 and 60000, got "soon"',
      'CATALOG_URL must use http: or https:, got "ftp:"',
    ]);
  });

  it("startApp migrates, serves placeOrder over HTTP, relays the event and stops cleanly", async () => {
    const url = databaseUrl(TEST_SERVER_URL, `nexus_test_orders_app_${randomUUID().slice(0, 8)}`);
    const appPrefix = testRedisPrefix("orders-app");
    const queries: string[] = [];
    const jwksUrl = catalogHttp.url.replace(/\/graphql$/, "/.well-known/jwks.json");
    const config = loadConfig({
      HOST: "127.0.0.1",
      ORDERS_PORT: "0",
      LOG_LEVEL: "silent",
      ORDERS_DATABASE_URL: url,
      REDIS_URL: TEST_REDIS_URL,
      EVENTS_PREFIX: appPrefix,
      CATALOG_URL: catalogHttp.url,
      OUTBOX_POLL_MS: "50",
      JWT_ISSUER: TEST_TOKEN_AUDIENCE.issuer,
      JWT_AUDIENCE: TEST_TOKEN_AUDIENCE.audience,
      JWKS_URL: jwksUrl,
    });
    const app = await startApp(config, logger, { onQuery: (q) => queries.push(q) });
    try {
      const response = await fetch(app.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: await auth.bearer(A),
          "x-request-id": "req-http-1",
        },
        body: JSON.stringify({
          query: PLACE_ORDER,
          variables: { input: { lines: [{ productId: TEE, quantity: 4 }] } },
        }),
      });
      const body = (await response.json()) as { data: PlaceOrderData };
      expect(body.data.placeOrder.order?.total).toEqual(money(4 * 1999));
      expect(catalogRequests.map((r) => r.requestId)).toEqual(["req-http-1"]);
      expect(queries.some((q) => q.startsWith('insert into "orders"'))).toBe(true);

      const event = await app.db.selectFrom("outbox").select("id").executeTakeFirstOrThrow();
      const job = await until("the app to publish OrderPlaced", async () => {
        const hash = await redis.hgetall(`${appPrefix}:events.inventory:${event.id}`);
        return hash.name ? hash : undefined;
      });
      expect(job.name).toBe("OrderPlaced");
      expect((await fetch(app.url.replace(/\/graphql$/, "/health"))).status).toBe(200);
    } finally {
      await app.stop();
      await dropDatabase(url);
      const keys = await redis.keys(`${appPrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  });
});
