import { randomUUID } from "node:crypto";
import { appendToOutbox, applyEventOnce, type EventEnvelope } from "@nexus/events";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { type CatalogClient, CatalogUnavailableError } from "../catalog/catalog.client.ts";
import { createOrderEventHandlers } from "../events/order.consumer.ts";
import { createTestOperations, logger, SHOES, setStatus, TEE, useTestEnv } from "../test-env.ts";

const env = useTestEnv("orders_back_in_stock");
const { A, B } = env;
const { outbox, processedByOrders } = createTestOperations(env);

const backInStock = (productId: string, id = randomUUID()): EventEnvelope<"ProductBackInStock"> => ({
  id,
  type: "ProductBackInStock",
  aggregateId: productId,
  occurredAt: new Date().toISOString(),
  payload: { productId, available: 5 },
});

/** Applies an event the way the consumer does (its effect and its id in one transaction). */
function apply(event: EventEnvelope, catalog: CatalogClient = env.deps.catalog) {
  const handlers = createOrderEventHandlers({ payments: env.payments, logger, catalog, carts: env.carts });
  return applyEventOnce(env.pg.db, handlers, event);
}

async function wish(customerId: string, productId: string) {
  await env.pg.db
    .insertInto("wishlist_items")
    .values({ customer_id: customerId, product_id: productId })
    .execute();
}

const announced = async () =>
  (await outbox())
    .filter((event) => event.type === "WishlistItemBackInStock")
    .map((event) => ({
      aggregateId: event.aggregateId,
      payload: event.payload as EventEnvelope<"WishlistItemBackInStock">["payload"],
    }))
    .sort((x, y) => x.aggregateId.localeCompare(y.aggregateId));

const notice = (customerId: string, productId: string, productName: string | null) => ({
  aggregateId: customerId,
  payload: { customerId, productId, productName },
});

const sorted = <T extends { aggregateId: string }>(list: T[]) =>
  [...list].sort((x, y) => x.aggregateId.localeCompare(y.aggregateId));

const lastNotified = async (customerId: string, productId: string) =>
  (
    await env.pg.db
      .selectFrom("wishlist_items")
      .select("last_notified_at")
      .where("customer_id", "=", customerId)
      .where("product_id", "=", productId)
      .executeTakeFirstOrThrow()
  ).last_notified_at;

describe("ProductBackInStock", () => {
  it("tells every customer whose wishlist holds the product, once each, through the orders queue", async () => {
    await wish(A, TEE);
    await wish(B, TEE);
    await wish(B, SHOES);
    // Published the way inventory publishes it: its outbox, its relay, the orders queue.
    const event = await env.inventoryPg.db
      .transaction()
      .execute((trx) => appendToOutbox(trx, "ProductBackInStock", TEE, { productId: TEE, available: 3 }));
    expect(await env.inventoryRelay.flush()).toBe(1);
    await processedByOrders(event.id);
    expect(await announced()).toEqual(sorted([notice(A, TEE, "Classic Tee"), notice(B, TEE, "Classic Tee")]));
    expect(await lastNotified(A, TEE)).toBeInstanceOf(Date);
    expect(await lastNotified(B, SHOES)).toBeNull();
  });

  it("sends nothing twice when the same event is delivered again", async () => {
    await wish(A, TEE);
    const event = backInStock(TEE);
    expect(await apply(event)).toBe(true);
    expect(await apply(event)).toBe(false);
    expect(await announced()).toEqual([notice(A, TEE, "Classic Tee")]);
  });

  it("tells a customer at most once in 24 hours however often the stock flickers", async () => {
    await wish(A, TEE);
    await wish(B, TEE);
    await apply(backInStock(TEE));
    // Out of stock and back again an hour later: nobody is told again.
    await apply(backInStock(TEE));
    expect(await announced()).toHaveLength(2);
    // A was told 25 hours ago, B 23 hours ago: only A hears of the next return.
    await env.pg.db
      .updateTable("wishlist_items")
      .set({ last_notified_at: sql<Date>`now() - interval '25 hours'` })
      .where("customer_id", "=", A)
      .execute();
    await env.pg.db
      .updateTable("wishlist_items")
      .set({ last_notified_at: sql<Date>`now() - interval '23 hours'` })
      .where("customer_id", "=", B)
      .execute();
    await apply(backInStock(TEE));
    const all = await announced();
    expect(all.filter((n) => n.aggregateId === A)).toHaveLength(2);
    expect(all.filter((n) => n.aggregateId === B)).toHaveLength(1);
    // A customer who adds the product after an announcement hears of its next return at once.
    const late = randomUUID();
    await wish(late, TEE);
    await apply(backInStock(TEE));
    expect((await announced()).filter((n) => n.aggregateId === late)).toEqual([
      notice(late, TEE, "Classic Tee"),
    ]);
  });

  it("announces without a name when the catalog cannot say", async () => {
    await wish(A, TEE);
    const down: CatalogClient = {
      findProductsByIds: () => Promise.reject(new CatalogUnavailableError("catalog down")),
    };
    expect(await apply(backInStock(TEE), down)).toBe(true);
    expect(await announced()).toEqual([notice(A, TEE, null)]);
  });

  it("tells no one about a product that is not for sale, and keeps them for its next return", async () => {
    await wish(A, TEE);
    setStatus(env, TEE, "ARCHIVED");
    expect(await apply(backInStock(TEE))).toBe(true);
    expect(await announced()).toEqual([]);
    expect(await lastNotified(A, TEE)).toBeNull();
    setStatus(env, TEE, "ACTIVE");
    await apply(backInStock(TEE));
    expect(await announced()).toEqual([notice(A, TEE, "Classic Tee")]);
  });

  it("asks the catalog nothing when no wishlist holds the product, and ignores malformed ids", async () => {
    await wish(A, SHOES);
    expect(await apply(backInStock(TEE))).toBe(true);
    expect(await apply(backInStock("not-a-product"))).toBe(true);
    expect(env.catalogRequests).toEqual([]);
    expect(await announced()).toEqual([]);
  });

  it("fans out to many customers in one transaction", async () => {
    const customers = Array.from({ length: 300 }, () => randomUUID());
    await env.pg.db
      .insertInto("wishlist_items")
      .values(customers.map((customer_id) => ({ customer_id, product_id: SHOES })))
      .execute();
    await apply(backInStock(SHOES.toUpperCase()));
    const all = await announced();
    expect(all).toHaveLength(300);
    expect(new Set(all.map((n) => n.aggregateId))).toEqual(new Set(customers));
    expect(all.every((n) => n.payload.productId === SHOES && n.payload.productName === "Trail Runner")).toBe(
      true,
    );
    expect(env.catalogRequests).toHaveLength(1);
  });
});

describe("UserDeleted", () => {
  it("empties the deleted account's wishlist and no one else's; a repeat changes nothing", async () => {
    await wish(A, TEE);
    await wish(A, SHOES);
    await wish(B, TEE);
    const event: EventEnvelope<"UserDeleted"> = {
      id: randomUUID(),
      type: "UserDeleted",
      aggregateId: A,
      occurredAt: new Date().toISOString(),
      payload: { userId: A },
    };
    expect(await apply(event)).toBe(true);
    expect(await apply(event)).toBe(false);
    const left = await env.pg.db.selectFrom("wishlist_items").select(["customer_id", "product_id"]).execute();
    expect(left).toEqual([{ customer_id: B, product_id: TEE }]);
    // A back-in-stock for the product now tells only B.
    await apply(backInStock(TEE));
    expect((await announced()).map((notice) => notice.aggregateId)).toEqual([B]);
  });
});
