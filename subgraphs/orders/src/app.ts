import {
  createLogger,
  createShutdownStack,
  createSubgraphAuthenticator,
  createTokenVerifier,
  type Logger,
  loadSubgraphSecrets,
  requestMeta,
  startHttpServer,
} from "@nexus/core";
import { startOutboxRelay } from "@nexus/events";
import { assertRedisReady, connectRedis, openPostgres } from "@nexus/stores";
import { sql } from "kysely";
import { MAX_CART_LINES, MAX_CART_QUANTITY } from "./cart/cart.service.ts";
import { createCartStore } from "./cart/cart.store.ts";
import { createCatalogClient } from "./catalog/catalog.client.ts";
import { deleteIdempotencyKeysOlderThan } from "./checkout/checkout.repository.ts";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { startOrderEventConsumer } from "./events/order.consumer.ts";
import type { PaymentProvider } from "./payment/payment.provider.ts";
import { createTestPaymentProvider } from "./payment/test.provider.ts";
import { createServer } from "./server.ts";

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
  const db = await openPostgres<Database>(config.databaseUrl, migrations, { onQuery: options.onQuery });
  const shutdown = createShutdownStack("orders");
  shutdown.defer(() => db.destroy());

  try {
    const redis = await connectRedis(config.redisUrl);
    shutdown.defer(() => redis.quit());
    const relay = startOutboxRelay({
      db,
      redis,
      prefix: config.eventsPrefix,
      logger,
      pollIntervalMs: config.outboxPollMs,
      retry: { attempts: config.eventAttempts, backoffMs: config.eventBackoffMs },
    });
    shutdown.defer(() => relay.stop());
    const payments = options.payments ?? createTestPaymentProvider(redis, config.eventsPrefix);
    const consumer = startOrderEventConsumer({
      db,
      redis,
      prefix: config.eventsPrefix,
      logger,
      payments,
      relay,
    });
    shutdown.defer(() => consumer.stop());

    const purgeKeys = () =>
      deleteIdempotencyKeysOlderThan(db, config.idempotencyKeyRetentionHours)
        .then((deleted) => {
          if (deleted > 0) logger.info("deleted expired idempotency keys", { deleted });
        })
        .catch((error: unknown) => logger.warn("could not delete expired idempotency keys", { error }));
    void purgeKeys();
    const purgeTimer = setInterval(purgeKeys, KEY_PURGE_INTERVAL_MS);
    purgeTimer.unref();
    shutdown.defer(async () => clearInterval(purgeTimer));

    const subgraphSecrets = await loadSubgraphSecrets(config, logger);
    const deps: Deps = {
      db,
      verify: createTokenVerifier(config.auth),
      catalog: createCatalogClient({ url: config.catalogUrl, secrets: subgraphSecrets }),
      carts: createCartStore(redis, config.eventsPrefix, {
        maxQuantity: MAX_CART_QUANTITY,
        maxLines: MAX_CART_LINES,
        ttlSeconds: config.cartTtlDays * 24 * 3600,
      }),
      payments,
      relay,
      logger,
    };
    const http = await startHttpServer({
      apollo: createServer(logger),
      host: config.host,
      port: config.port,
      logger,
      authenticate: createSubgraphAuthenticator(subgraphSecrets),
      context: (req) => createContext(deps, requestMeta(req)),
      healthCheck: async () => {
        await sql`SELECT 1`.execute(db);
        assertRedisReady(redis);
      },
    });
    shutdown.defer(() => http.close());
    logger.info("orders subgraph ready", { url: http.url });

    return { url: http.url, db, relay, payments, stop: shutdown.stopAll };
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
}
