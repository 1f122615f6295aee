import { createLogger, createTokenVerifier, type Logger, startSubgraph } from "@nexus/core";
import { createMailTransport } from "@nexus/mail";
import { postgresStore, redisStore } from "@nexus/stores";
import type { Config } from "./config.ts";
import { createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { startFailedEventAlerts } from "./events/failed-events.sweeper.ts";
import { startNotificationsConsumer } from "./events/notifications.consumer.ts";
import type { StoreInfo } from "./mail/message-types.ts";
import { resolvers } from "./resolvers.ts";
import { startMailSender } from "./sending/mail-sender.sweeper.ts";

export interface StartAppOptions {
  /** Receives every SQL statement sent to PostgreSQL; end-to-end tests count queries with it. */
  onQuery?: (sql: string) => void;
}

/** The store as messages name it. */
export const storeInfo = (config: Config): StoreInfo => ({
  name: config.storeName,
  url: config.storeUrl,
  supportEmail: config.storeSupportEmail,
});

/**
 * Connects, migrates, starts the email sender, the event consumer and the failed-event alerts,
 * and serves. Used by index.ts and by end-to-end tests. `stop()` closes everything in reverse order.
 */
export async function startApp(
  config: Config,
  logger: Logger = createLogger("notifications", config.logLevel),
  options: StartAppOptions = {},
) {
  return startSubgraph({
    name: "notifications",
    config,
    logger,
    stores: {
      // A connection per event in flight, a few for recording sends (each a short update), and some for queries.
      db: postgresStore<Database>(config.databaseUrl, migrations, {
        onQuery: options.onQuery,
        maxConnections: config.eventConcurrency + Math.ceil(config.mailConcurrency / 2) + 6,
      }),
      redis: redisStore(config.redisUrl),
    },
    resolvers,
    createContext,
    async start({ stores: { db, redis }, secrets, defer, metrics }) {
      const store = storeInfo(config);
      const transport = createMailTransport({ url: config.smtpUrl, from: config.mailFrom });
      defer(() => transport.close());
      const sender = startMailSender({
        db,
        transport,
        from: config.mailFrom,
        store,
        logger,
        concurrency: config.mailConcurrency,
        attempts: config.mailAttempts,
        backoffMs: config.mailBackoffMs,
        pollMs: config.mailPollMs,
      });
      defer(() => sender.stop());
      const consumer = startNotificationsConsumer({
        db,
        redis,
        prefix: config.eventsPrefix,
        logger,
        concurrency: config.eventConcurrency,
        batchSize: config.eventBatchSize,
        secrets,
        storeUrl: config.storeUrl,
        staffAlertEmails: config.staffAlertEmails,
        onQueued: sender.wake,
        metrics,
      });
      defer(() => consumer.stop());
      const alerts = await startFailedEventAlerts({
        db,
        redis,
        prefix: config.eventsPrefix,
        logger,
        storeUrl: config.storeUrl,
        staffAlertEmails: config.staffAlertEmails,
        onQueued: sender.wake,
      });
      defer(() => alerts.stop());

      const deps: Deps = { db, verify: createTokenVerifier(config.auth), logger, store };
      return { deps, expose: { mailSender: sender } };
    },
  });
}
