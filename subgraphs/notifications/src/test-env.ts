import { randomUUID } from "node:crypto";
import type { ApolloServer } from "@apollo/server";
import { createLogger, createShutdownStack, type Logger, sealForServices } from "@nexus/core";
import {
  applyEventOnce,
  type EventEnvelope,
  type EventHandlers,
  type EventPayloads,
  type EventType,
  type UserSnapshot,
} from "@nexus/events";
import { createMailTransport, type MailCatcher, type MailTransport, startMailCatcher } from "@nexus/mail";
import { connectRedis } from "@nexus/stores";
import {
  createTestAuth,
  createTestPostgres,
  deleteRedisKeys,
  startTestSubgraph,
  TEST_REDIS_URL,
  TEST_SUBGRAPH_SECRET,
  type TestAuth,
  type TestPostgres,
  type TestSubgraph,
  testRedisPrefix,
  withRawIds,
} from "@nexus/testing";
import { sql } from "kysely";
import { type Context, createContext, type Deps } from "./context.ts";
import type { Database } from "./db/database.ts";
import { migrations } from "./db/migrations.ts";
import { notificationHandlers } from "./events/notifications.consumer.ts";
import type { StoreInfo } from "./mail/message-types.ts";
import { resolvers } from "./resolvers.ts";
import { type MailSender, type MailSenderOptions, startMailSender } from "./sending/mail-sender.sweeper.ts";

export const TEST_STORE: StoreInfo = {
  name: "Test Store",
  url: "https://shop.test/",
  supportEmail: "help@shop.test",
};
export const TEST_MAIL_FROM = "Test Store <store@shop.test>";
export const TEST_STAFF_EMAILS = ["ops@shop.test"];
export const TEST_SECRETS = { current: TEST_SUBGRAPH_SECRET };

/**
 * The notifications subgraph in-process on a fresh database, a Redis prefix of its own and a
 * real SMTP mail catcher, driven through executeOperation. Events are applied as the consumer
 * applies them; `startSender` runs the email worker against the catcher (or another server).
 */
export interface TestEnv {
  pg: TestPostgres<Database>;
  redis: Awaited<ReturnType<typeof connectRedis>>;
  prefix: string;
  mail: MailCatcher;
  auth: TestAuth;
  logger: Logger;
  deps: Deps;
  handlers: EventHandlers<Database>;
  server: ApolloServer<Context>;
  /**
   * Runs an operation and reads the answer in raw ids, the terms of the seed and the database;
   * `runGlobal` keeps the global ids clients see, for the tests of that encoding.
   */
  run(
    query: string,
    variables?: Record<string, unknown>,
    authorization?: string,
  ): ReturnType<TestSubgraph<Context>["run"]>;
  runGlobal(
    query: string,
    variables?: Record<string, unknown>,
    authorization?: string,
  ): ReturnType<TestSubgraph<Context>["run"]>;
  /** Applies events one after the other as the consumer does; returns which were applied. */
  deliver(...events: EventEnvelope[]): Promise<boolean[]>;
  /** Starts an email worker (stopped by `reset`), sending to the catcher unless `smtpUrl` says otherwise. */
  startSender(options?: Partial<MailSenderOptions> & { smtpUrl?: string }): MailSender;
  /** Stops the email workers, then empties the tables and forgets the queries logged so far. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function createTestEnv(name: string): Promise<TestEnv> {
  const shutdown = createShutdownStack(`${name} test env`);
  try {
    const pg = await createTestPostgres<Database>(name, migrations);
    shutdown.defer(() => pg.drop());
    const redis = await connectRedis(TEST_REDIS_URL);
    const prefix = testRedisPrefix(name);
    shutdown.defer(async () => {
      await deleteRedisKeys(redis, [prefix]);
      await redis.quit();
    });
    const mail = await startMailCatcher();
    shutdown.defer(() => mail.stop());
    const auth = await createTestAuth();
    const logger = createLogger(`${name}-test`, "silent");
    const deps: Deps = { db: pg.db, verify: auth.verify, logger, store: TEST_STORE };
    const handlers = notificationHandlers({
      secrets: TEST_SECRETS,
      storeUrl: TEST_STORE.url,
      staffAlertEmails: TEST_STAFF_EMAILS,
    });
    const subgraph = await startTestSubgraph({
      name: "notifications",
      resolvers,
      createContext,
      deps,
      logger,
    });
    shutdown.defer(() => subgraph.stop());
    let senderStops: (() => Promise<void>)[] = [];
    const stopSenders = async () => {
      const stops = senderStops;
      senderStops = [];
      for (const stop of stops) await stop();
    };
    shutdown.defer(stopSenders);
    return {
      pg,
      redis,
      prefix,
      mail,
      auth,
      logger,
      deps,
      handlers,
      server: subgraph.server,
      run: async (query, variables = {}, authorization) => {
        const result = await subgraph.run(query, variables, { authorization });
        return { ...result, data: withRawIds(result.data) };
      },
      runGlobal: (query, variables = {}, authorization) => subgraph.run(query, variables, { authorization }),
      async deliver(...events) {
        const applied: boolean[] = [];
        for (const event of events) applied.push(await applyEventOnce(pg.db, handlers, event));
        return applied;
      },
      startSender(options = {}) {
        const transport: MailTransport = createMailTransport({
          url: options.smtpUrl ?? mail.url,
          from: TEST_MAIL_FROM,
          timeoutMs: 2000,
        });
        const sender = startMailSender({
          db: pg.db,
          transport,
          from: TEST_MAIL_FROM,
          store: TEST_STORE,
          logger,
          concurrency: 4,
          attempts: 3,
          backoffMs: 20,
          pollMs: 50,
          ...options,
        });
        senderStops.push(async () => {
          await sender.stop();
          transport.close();
        });
        return sender;
      },
      async reset() {
        await stopSenders();
        await sql`TRUNCATE contacts, deliveries, notification_preferences, failed_event_alerts, processed_events`.execute(
          pg.db,
        );
        pg.queries.length = 0;
      },
      close: shutdown.stopAll,
    };
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
}

/** An event as its producer would publish it; `occurredAt` is when it happened (default now). */
export function envelope<T extends EventType>(
  type: T,
  payload: EventPayloads[T],
  occurredAt: Date | string = new Date(),
): EventEnvelope<T> {
  return {
    id: randomUUID(),
    type,
    aggregateId: randomUUID(),
    occurredAt: new Date(occurredAt).toISOString(),
    payload,
  };
}

export function userSnapshot(overrides: Partial<UserSnapshot> = {}): UserSnapshot {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    email: `user-${id.slice(0, 8)}@example.test`,
    name: "Ada Lovelace",
    role: "CUSTOMER",
    emailVerified: true,
    ...overrides,
  };
}

/** A token sealed as users seals it. */
export const sealed = (token: string): string => sealForServices(TEST_SECRETS, token);
