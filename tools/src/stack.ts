/**
 * The whole supergraph in this process, for end-to-end tests and the saga benchmark: all six
 * subgraphs and the gateway on port 0, real PostgreSQL, Redis and MongoDB-wire stores with
 * fresh databases, and a real SMTP mail catcher notifications sends to. Stores can be watched
 * to count queries. With `processes`, each service runs as its own process instead, as deployed.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp as startCatalog } from "@nexus/catalog/app";
import { loadConfig as loadCatalogConfig } from "@nexus/catalog/config";
import { createLogger } from "@nexus/core";
import { loadConfig as loadGatewayConfig, startGateway } from "@nexus/gateway";
import { startApp as startInsights } from "@nexus/insights/app";
import { loadConfig as loadInsightsConfig } from "@nexus/insights/config";
import { startApp as startInventory } from "@nexus/inventory/app";
import { loadConfig as loadInventoryConfig } from "@nexus/inventory/config";
import { type MailCatcher, startMailCatcher } from "@nexus/mail";
import { startApp as startNotifications } from "@nexus/notifications/app";
import { loadConfig as loadNotificationsConfig } from "@nexus/notifications/config";
import { startApp as startOrders } from "@nexus/orders/app";
import { loadConfig as loadOrdersConfig } from "@nexus/orders/config";
import { connectRedis, createPostgresDb, databaseUrl, dropDatabase } from "@nexus/stores";
import {
  createTestAuth,
  deleteRedisKeys,
  freePort,
  TEST_REDIS_URL,
  TEST_SERVER_URL,
  type TestAuth,
  testRedisPrefix,
  until,
} from "@nexus/testing";
import { startApp as startUsers } from "@nexus/users/app";
import { loadConfig as loadUsersConfig } from "@nexus/users/config";
import type { Kysely } from "kysely";
import { type SubgraphProxy, startSubgraphProxy } from "./subgraph-proxy.ts";
import { repoRoot, type SubgraphName, serviceEntry } from "./subgraphs.ts";

export type { SubgraphName };

export interface StackOptions {
  mongoUrl: string;
  /** Extra or overriding environment, e.g. a shorter OUTBOX_POLL_MS. */
  env?: Record<string, string>;
  onProductFind?: (filter: unknown) => void;
  onInventoryQuery?: (sql: string) => void;
  onOrdersQuery?: (sql: string) => void;
  /**
   * Puts a controllable proxy between the gateway and each subgraph, for chaos tests. Only
   * the gateway goes through them: the subgraphs still call each other directly.
   */
  proxySubgraphs?: boolean;
  /**
   * Runs every subgraph and the gateway as its own process (`node <service>/src/index.ts`, as
   * `pnpm start` and a deployment do), so they do not share one event loop. The query watchers
   * above are not available then.
   */
  processes?: boolean;
}

export interface Stack {
  endpoint: string;
  /** Each subgraph's own endpoint, for calls that bypass the gateway. */
  subgraphUrls: Record<SubgraphName, string>;
  /** The gateway's way to each subgraph when started with `proxySubgraphs`, else null. */
  proxies: Record<SubgraphName, SubgraphProxy> | null;
  /** Signs tokens the whole stack accepts (the users subgraph signs with the same key). */
  auth: TestAuth;
  /** The SUBGRAPH_SECRET every service of the stack shares: sign direct subgraph calls with it. */
  subgraphSecret: string;
  /** The BullMQ key prefix of the stack's event queues (EVENTS_PREFIX), to watch a consumer's queue. */
  eventsPrefix: string;
  /** The gateway's environment: `startGateway(loadConfig(gatewayEnv))` starts another replica of it. */
  gatewayEnv: Readonly<Record<string, string>>;
  ordersDb: Awaited<ReturnType<typeof startOrders>>["db"];
  /** Notifications' database, to read its delivery log. */
  notificationsDb: Awaited<ReturnType<typeof startNotifications>>["db"];
  /**
   * The SMTP server notifications sends to (SMTP_URL): tests read the real messages from it, and
   * from the `.eml` file each is written to in `mailDir`, as `pnpm start` writes `.nexus/mail/`.
   */
  mail: MailCatcher;
  mailDir: string;
  databases: { users: string; orders: string; inventory: string; insights: string; notifications: string };
  /** With `processes`, each service's process id (to read its CPU time); empty otherwise. */
  pids: Partial<Record<SubgraphName | "gateway", number>>;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const suffix = randomBytes(4).toString("hex");
  const databases = {
    users: databaseUrl(TEST_SERVER_URL, `nexus_e2e_users_${suffix}`),
    orders: databaseUrl(TEST_SERVER_URL, `nexus_e2e_orders_${suffix}`),
    inventory: databaseUrl(TEST_SERVER_URL, `nexus_e2e_inventory_${suffix}`),
    insights: databaseUrl(TEST_SERVER_URL, `nexus_e2e_insights_${suffix}`),
    notifications: databaseUrl(TEST_SERVER_URL, `nexus_e2e_notifications_${suffix}`),
  };
  const logger = createLogger("e2e", "silent");
  const auth = await createTestAuth();
  const stops: (() => Promise<void>)[] = [];
  const mailDir = await mkdtemp(join(tmpdir(), "nexus-e2e-mail-"));
  const redisPrefixes = {
    EVENTS_PREFIX: testRedisPrefix("e2e"),
    REDIS_KEY_PREFIX: testRedisPrefix("e2e-users"),
    GATEWAY_REDIS_PREFIX: testRedisPrefix("e2e-gateway"),
  };
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
    await Promise.all(Object.values(databases).map((url) => dropDatabase(url)));
    // Queues keep completed jobs for a day: a benchmark's would otherwise stay behind by the
    // hundred thousand and slow every later user of this Redis.
    const redis = await connectRedis(TEST_REDIS_URL);
    try {
      await deleteRedisKeys(redis, Object.values(redisPrefixes));
    } finally {
      await redis.quit();
    }
    await rm(mailDir, { recursive: true, force: true });
  };

  // One secret for the stack, as one deployment shares one: the gateway signs with it, the
  // subgraphs answer nothing else.
  const subgraphSecret = randomBytes(32).toString("base64url");
  const env: Record<string, string> = {
    HOST: "127.0.0.1",
    SUBGRAPH_SECRET: subgraphSecret,
    LOG_LEVEL: "silent",
    SEED_DEMO_DATA: "true",
    DATABASE_URL: TEST_SERVER_URL,
    REDIS_URL: TEST_REDIS_URL,
    // Login throttling counts per client address (REDIS_KEY_PREFIX), and every stack's clients
    // are 127.0.0.1.
    ...redisPrefixes,
    OUTBOX_POLL_MS: "200",
    JWT_PRIVATE_KEY: auth.privateKeyPem,
    JWT_ISSUER: "nexus-test",
    JWT_AUDIENCE: "nexus-test",
    MONGO_URL: options.mongoUrl,
    MONGO_EMBEDDED: "false",
    CATALOG_MONGO_DATABASE: `nexus_e2e_catalog_${suffix}`,
    USERS_DATABASE_URL: databases.users,
    ORDERS_DATABASE_URL: databases.orders,
    INVENTORY_DATABASE_URL: databases.inventory,
    INSIGHTS_DATABASE_URL: databases.insights,
    NOTIFICATIONS_DATABASE_URL: databases.notifications,
    USERS_PORT: "0",
    CATALOG_PORT: "0",
    ORDERS_PORT: "0",
    INVENTORY_PORT: "0",
    INSIGHTS_PORT: "0",
    NOTIFICATIONS_PORT: "0",
    // Tests wait for mail; the sender is woken by each commit, and polls this often for retries.
    MAIL_POLL_MS: "200",
    MAIL_RETRY_BACKOFF_MS: "200",
    GATEWAY_PORT: "0",
    // The N+1 guards count MongoDB finds; catalog's Redis cache would serve repeats without one.
    CATALOG_CACHE_TTL_SECONDS: "0",
    // These tests drive one customer far harder than a storefront would (100 concurrent
    // checkouts, polling every 100 ms) to test the saga, not the gateway's per-client limits,
    // which gateway/src/operation/limits.test.ts covers.
    COST_BUDGET_CAPACITY: "1000000",
    COST_BUDGET_REFILL_PER_SECOND: "1000000",
    RATE_LIMIT_PER_MINUTE: "1000000",
    // Nor load shedding (gateway/src/edge/overload.test.ts covers it): the whole stack shares one
    // event loop here, and on a busy test machine it can run late without the gateway being
    // saturated.
    MAX_IN_FLIGHT_REQUESTS: "0",
    MAX_EVENT_LOOP_DELAY_MS: "0",
    ...options.env,
  };

  try {
    const mail = await startMailCatcher({ dir: mailDir });
    stops.push(mail.stop);
    env.SMTP_URL = mail.url;

    if (options.processes && (options.onProductFind || options.onInventoryQuery || options.onOrdersQuery)) {
      throw new Error("startStack: query watchers need the services in this process");
    }
    const pids: Stack["pids"] = {};
    /** A service in this process, or as its own process when `processes` is set. */
    const start = async (
      name: SubgraphName | "gateway",
      inProcess: () => Promise<RunningService>,
      serviceEnv = env,
    ): Promise<RunningService> => {
      const service = options.processes ? await startServiceProcess(name, serviceEnv) : await inProcess();
      stops.push(() => service.stop());
      if (service.pid !== undefined) pids[name] = service.pid;
      return service;
    };

    const users = await start("users", () => startUsers(loadUsersConfig(env), logger));
    env.USERS_URL = users.url;
    env.JWKS_URL = users.url.replace(/\/graphql$/, "/.well-known/jwks.json");
    env.PARTNER_TOKEN_URL = users.url.replace(/\/graphql$/, "/auth/partner-token");

    const catalog = await start("catalog", () =>
      startCatalog(loadCatalogConfig(env), logger, {
        onCommand: (event) => {
          if (event.commandName === "find" && event.command.find === "products") {
            options.onProductFind?.(event.command.filter);
          }
        },
      }),
    );
    env.CATALOG_URL = catalog.url;

    const inventory = await start("inventory", () =>
      startInventory(loadInventoryConfig(env), logger, {
        onQuery: (sql) => options.onInventoryQuery?.(sql),
      }),
    );
    env.INVENTORY_URL = inventory.url;

    const insights = await start("insights", () => startInsights(loadInsightsConfig(env), logger));
    env.INSIGHTS_URL = insights.url;

    const orders = await start("orders", () =>
      startOrders(loadOrdersConfig(env), logger, {
        onQuery: (sql) => options.onOrdersQuery?.(sql),
      }),
    );
    env.ORDERS_URL = orders.url;

    const notifications = await start("notifications", () =>
      startNotifications(loadNotificationsConfig(env), logger),
    );
    env.NOTIFICATIONS_URL = notifications.url;

    const subgraphUrls = {
      users: users.url,
      catalog: catalog.url,
      orders: orders.url,
      inventory: inventory.url,
      insights: insights.url,
      notifications: notifications.url,
    };
    const proxies = options.proxySubgraphs ? await startProxies(subgraphUrls, stops) : null;
    const gatewayEnv = { ...env };
    for (const [name, proxy] of Object.entries(proxies ?? {}))
      gatewayEnv[`${name.toUpperCase()}_URL`] = proxy.url;

    const gateway = await start(
      "gateway",
      () => startGateway(loadGatewayConfig(gatewayEnv), logger),
      gatewayEnv,
    );
    // The stack's own handles to the databases tests read, wherever the services run.
    const ordersDb = createPostgresDb<DatabaseOf<Stack["ordersDb"]>>(databases.orders);
    const notificationsDb = createPostgresDb<DatabaseOf<Stack["notificationsDb"]>>(databases.notifications);
    stops.push(
      () => ordersDb.destroy(),
      () => notificationsDb.destroy(),
    );
    return {
      endpoint: gateway.url,
      subgraphUrls,
      proxies,
      auth,
      subgraphSecret,
      eventsPrefix: redisPrefixes.EVENTS_PREFIX,
      gatewayEnv,
      ordersDb,
      notificationsDb,
      mail,
      mailDir,
      databases,
      pids,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
}

type DatabaseOf<T> = T extends Kysely<infer DB> ? DB : never;

interface RunningService {
  url: string;
  /** Set when the service runs as its own process. */
  pid?: number;
  stop(): Promise<void>;
}

/**
 * `node <service>/src/index.ts` with `env` on a free port, as `pnpm start` runs it; resolves
 * once its `/ready` answers 200. Its errors go to this process's stderr.
 */
async function startServiceProcess(
  name: SubgraphName | "gateway",
  env: Record<string, string>,
): Promise<RunningService> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, serviceEntry(name))], {
    env: { ...process.env, ...env, [`${name.toUpperCase()}_PORT`]: String(port) },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  try {
    await until(
      `${name} ready`,
      async () => {
        if (child.exitCode !== null)
          throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
        return (await fetch(`${base}/ready`).catch(() => null))?.ok;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    url: `${base}/graphql`,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

async function startProxies(
  urls: Record<SubgraphName, string>,
  stops: (() => Promise<void>)[],
): Promise<Record<SubgraphName, SubgraphProxy>> {
  const proxies: Partial<Record<SubgraphName, SubgraphProxy>> = {};
  for (const [name, url] of Object.entries(urls) as [SubgraphName, string][]) {
    const proxy = await startSubgraphProxy(url);
    stops.push(proxy.close);
    proxies[name] = proxy;
  }
  return proxies as Record<SubgraphName, SubgraphProxy>;
}
