/**
 * A process for the saga crash test to kill (test-only): runs the orders consumer, the payment
 * settler and the orders outbox relay on CRASH_ORDERS_DATABASE_URL until its parent disconnects.
 * Payments go to the test provider, whose ledger is in Redis and so outlives this process.
 */
import { createLogger } from "@nexus/core";
import { startOutboxRelay } from "@nexus/events";
import { connectRedis, openPostgres } from "@nexus/stores";
import { requiredEnv as env, serveUntilParentLeaves } from "@nexus/testing/crash-child";
import { MAX_CART_LINES, MAX_CART_QUANTITY } from "../cart/cart.service.ts";
import { createCartStore } from "../cart/cart.store.ts";
import type { Database } from "../db/database.ts";
import { migrations } from "../db/migrations.ts";
import { startPaymentSettler } from "../payment/payment.settler.ts";
import { createTestPaymentProvider } from "../payment/test.provider.ts";
import { startOrderEventConsumer } from "./order.consumer.ts";

const logger = createLogger("crash-child", "silent");
const redis = await connectRedis(env("REDIS_URL"));
const prefix = env("EVENTS_PREFIX");
const db = await openPostgres<Database>(env("CRASH_ORDERS_DATABASE_URL"), migrations);
const relay = startOutboxRelay({ db, redis, prefix, logger, pollIntervalMs: 50 });
const payments = createTestPaymentProvider(redis, prefix);
const carts = createCartStore(redis, prefix, {
  maxQuantity: MAX_CART_QUANTITY,
  maxLines: MAX_CART_LINES,
  ttlSeconds: 3600,
});
const consumer = startOrderEventConsumer({
  db,
  redis,
  prefix,
  logger,
  payments,
  carts,
  relay,
  // Wishlists are not part of this test: no product is ever back in stock here.
  catalog: { findProductsByIds: async (ids) => ids.map(() => null) },
  concurrency: 16,
  // Short locks so a dead worker's job is recovered in about a second, not BullMQ's 30 s.
  lockDurationMs: 1000,
  stalledIntervalMs: 300,
});
const settler = startPaymentSettler({ db, payments, carts, logger, relay, retryAfterMs: 300 });

// The parent going away (test finished, or crashed itself) ends this process too: no orphans.
serveUntilParentLeaves([
  () => settler.stop(),
  () => consumer.stop(),
  () => relay.stop(),
  () => db.destroy(),
  () => redis.disconnect(),
]);
