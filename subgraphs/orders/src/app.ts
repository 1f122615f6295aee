import { createLogger, createTokenVerifier, type Logger, startSubgraph } from "@nexus/core";
import { announceOrderUpdates, consumerSettings, relaySettings, startOutboxRelay } from "@nexus/events";
import { postgresStore, redisStore } from "@nexus/stores";
import { MAX_CART_LINES, MAX_CART_QUANTITY } from "./cart/cart.service.ts";
import { createCartStore } from "./cart/cart.store.ts";
import { createCatalogClient } from "./catalog/catalog.client.ts";
import { deleteIdempotencyKeysOlderThan } from "./checkout/checkout.repository.ts";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { startOrderEventConsumer } from "./events/order.consumer.ts";
import { createInventoryClient } from "./inventory/inventory.client.ts";
import { registerOrderMetrics } from "./order/order.metrics.ts";
import type { PaymentProvider } from "./payment/payment.provider.ts";
import { startPaymentSettler } from "./payment/payment.settler.ts";
import { createTestPaymentProvider } from "./payment/test.provider.ts";
import { resolvers } from "./resolvers.ts";
import { createUsersClient } from "./users/users.client.ts";

/** Expired idempotency keys are deleted this often; retention is only ever longer than configured. */
const KEY_PURGE_INTERVAL_MS = 60 * 60 * 1000;

export interface StartAppOptions {
  /** Receives every SQL statement sent to PostgreSQL; end-to-end tests count queries with it. */
  onQuery?: (sql: string) => void;
  /** Replaces the configured payment provider; tests use it to watch or break captures. */
  payments?: PaymentProvider;
}

/**
 * Connects, migrates, starts the outbox relay and the event consumer, and serves.
 * Used by index.ts and by end-to-end tests. `stop()` closes everything in reverse order.
 */
export async function startApp(
  config: Config,
  logger: Logger = createLogger("orders", config.logLevel),
  options: StartAppOptions = {},
) {
  return startSubgraph({
    name: "orders",
    config,
    logger,
    stores: {
      db: postgresStore<Database>(config.databaseUrl, migrations, { onQuery: options.onQuery }),
      redis: redisStore(config.redisUrl),
    },
    resolvers,
    createContext,
    async start({ stores: { db, redis }, secrets, defer, metrics }) {
      const relay = startOutboxRelay({
        db,
        redis,
        logger,
        metrics,
        ...relaySettings(config),
        // Live order tracking: every status change is also announced to the gateways, from the
        // relay rather than the request path, so it is announced once it is committed, and again
        // if the relay fails before marking it published.
        announce: announceOrderUpdates(redis, config.eventsPrefix),
      });
      defer(() => relay.stop());
      registerOrderMetrics(metrics, db, logger);
      const payments = options.payments ?? createTestPaymentProvider(redis, config.eventsPrefix);
      const carts = createCartStore(redis, config.eventsPrefix, {
        maxQuantity: MAX_CART_QUANTITY,
        maxLines: MAX_CART_LINES,
        ttlSeconds: config.cartTtlDays * 24 * 3600,
      });
      const catalog = createCatalogClient({ url: config.catalogUrl, secrets });
      const consumer = startOrderEventConsumer({
        db,
        redis,
        prefix: config.eventsPrefix,
        logger,
        payments,
        carts,
        relay,
        catalog,
        metrics,
        // A saga step only records the payment intent in its transaction; the capture runs after
        // the commit (afterCommit), so batches never wait on the provider.
        ...consumerSettings(config),
      });
      defer(() => consumer.stop());
      const settler = startPaymentSettler({
        db,
        payments,
        carts,
        logger,
        relay,
        retryAfterMs: config.paymentRetryMs,
      });
      defer(() => settler.stop());

      const purgeKeys = () =>
        deleteIdempotencyKeysOlderThan(db, config.idempotencyKeyRetentionHours)
          .then((deleted) => {
            if (deleted > 0) logger.info("deleted expired idempotency keys", { deleted });
          })
          .catch((error: unknown) => logger.warn("could not delete expired idempotency keys", { error }));
      void purgeKeys();
      const purgeTimer = setInterval(purgeKeys, KEY_PURGE_INTERVAL_MS);
      purgeTimer.unref();
      defer(() => clearInterval(purgeTimer));

      const deps: Deps = {
        db,
        verify: createTokenVerifier(config.auth),
        catalog,
        carts,
        inventory: createInventoryClient({ url: config.inventoryUrl, secrets }),
        guestCheckout: config.guestCheckout,
        payments,
        relay,
        logger,
        users: createUsersClient({ url: config.usersUrl, secrets }),
        requireVerifiedEmail: config.requireVerifiedEmail,
        storeCurrency: config.storeCurrency,
        pricesIncludeTax: config.pricesIncludeTax,
      };
      return { deps, expose: { relay, payments } };
    },
  });
}
