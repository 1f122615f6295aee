import { ApolloServer, type BaseContext } from "@apollo/server";
import { buildSubgraphSchema, type GraphQLResolverMap } from "@apollo/subgraph";
import { parse } from "graphql";
import { enforceAccess } from "./access.ts";
import { useGlobalIds } from "./global-id-schema.ts";
import { type RequestMeta, type RouteHandler, requestMeta, startHttpServer } from "./http.ts";
import type { Logger } from "./logger.ts";
import {
  createMetricsRoute,
  createSubgraphMetrics,
  type SubgraphMetrics,
  useSubgraphMetrics,
} from "./metrics.ts";
import { createShutdownStack } from "./process.ts";
import type { ServiceConfig } from "./service-config.ts";
import { readSubgraphSchema, subgraphServerOptions } from "./subgraph.ts";
import { createSubgraphAuthenticator, loadSubgraphSecrets, type SubgraphSecrets } from "./subgraph-auth.ts";

/**
 * A store a subgraph asks the kit for. The connectors live in @nexus/stores (`postgresStore`,
 * `mongoStore`, `redisStore`), which depends on this package, so only the shape is here.
 */
export interface SubgraphStore<T> {
  /**
   * Connects, and creates and migrates where the store has that and `schema.migrations` is
   * `auto`; with `verify` it only checks the schema is current. Throws when it cannot.
   */
  open(logger: Logger, schema: StoreSchemaOptions): Promise<T>;
  /** Throws when the store does not answer; `/health` runs it. */
  check(store: T): Promise<void>;
  close(store: T): Promise<void>;
  /** Adds what the store can report (a pool's usage) to the subgraph's metrics, under its key. */
  instrument?(store: T, metrics: SubgraphMetrics, key: string): void;
}

/** How the kit asks a store to treat its schema: `DATABASE_MIGRATIONS` (service-config.ts). */
export interface StoreSchemaOptions {
  migrations: ServiceConfig["databaseMigrations"];
}

/** The stores a subgraph declared, opened: `{ db: postgresStore(...) }` gives `{ db: Kysely<...> }`. */
export type OpenedStores<S> = { [K in keyof S]: S[K] extends SubgraphStore<infer T> ? T : never };

/**
 * Merges the modules' resolver maps into one: fields of one type may come from several modules
 * (Query, Mutation, an entity another module extends), but a Type.field defined twice throws at
 * start-up instead of one module's resolver silently replacing the other's. Scalars and other
 * non-plain values count as a whole type.
 */
export function mergeResolvers<R extends object>(modules: readonly R[]): R {
  const merged: Record<string, unknown> = {};
  for (const module of modules) {
    for (const [type, value] of Object.entries(module)) {
      if (value === undefined) continue;
      const existing = merged[type];
      if (!isFieldMap(value) || (existing !== undefined && !isFieldMap(existing))) {
        if (existing !== undefined) throw new Error(`resolvers: ${type} is defined by two modules`);
        merged[type] = value;
        continue;
      }
      const fields = (existing ?? {}) as Record<string, unknown>;
      for (const [field, resolver] of Object.entries(value)) {
        if (field in fields) throw new Error(`resolvers: ${type}.${field} is defined by two modules`);
        fields[field] = resolver;
      }
      merged[type] = fields;
    }
  }
  return merged as R;
}

function isFieldMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * The ApolloServer of a subgraph: the SDL in schema/<name>.graphql (the reviewed contract), the
 * merged resolvers, `@authenticated`/`@requiresScopes` enforced, global ids at the boundary
 * (global-id-schema.ts), and the options every subgraph
 * shares. Tests build their server with it too, so they run what production runs.
 */
export function createSubgraphServer<TContext extends BaseContext>(
  name: string,
  resolvers: object,
  logger: Logger,
  metrics?: SubgraphMetrics,
): ApolloServer<TContext> {
  const typeDefs = parse(readSubgraphSchema(name));
  const options = subgraphServerOptions(logger);
  return new ApolloServer<TContext>({
    // The generated Resolvers types are stricter than Apollo's map, which they always satisfy.
    schema: useGlobalIds(
      enforceAccess(
        buildSubgraphSchema([{ typeDefs, resolvers: resolvers as GraphQLResolverMap<unknown> }]),
        typeDefs,
      ),
      typeDefs,
      (type) => metrics?.legacyIds.inc({ subgraph: name, type }),
    ),
    ...options,
    plugins: metrics ? [...options.plugins, useSubgraphMetrics(metrics)] : options.plugins,
  });
}

/** What a subgraph's `start` gets once its stores are open. */
export interface SubgraphStartKit<S> {
  stores: OpenedStores<S>;
  /** The secrets callers sign with; a subgraph that calls another signs with them too. */
  secrets: SubgraphSecrets;
  /** Registers a stop for what `start` started (a relay, a consumer, a timer): run in reverse order. */
  defer(stop: () => unknown): void;
  /** This subgraph's metrics, served at `/metrics`: pass them to the outbox relay and event consumer. */
  metrics: SubgraphMetrics;
}

/** What a subgraph's `start` returns: its long-lived deps, extra routes, and what its callers may use. */
export interface SubgraphStarted<D, X> {
  deps: D;
  /** Extra routes behind the subgraph-signature check, like `/graphql`. */
  routes?: Record<string, RouteHandler>;
  /** Routes open to anyone (users' JWKS). */
  publicRoutes?: Record<string, RouteHandler>;
  /** Added to the running subgraph for its callers (end-to-end tests read `payments`, `cache` ...). */
  expose?: X;
}

export interface SubgraphOptions<S extends Record<string, SubgraphStore<unknown>>, D, TContext, X> {
  /** The subgraph's name: its SDL file, its log lines, its shutdown errors. */
  name: string;
  config: ServiceConfig;
  logger: Logger;
  /** Opened in key order, checked by `/health`, closed in reverse order. */
  stores: S;
  /** The merged resolvers (`mergeResolvers`). */
  resolvers: object;
  /** Per request: verify the token and build fresh loaders. */
  createContext(deps: D, request: RequestMeta): Promise<TContext>;
  /** Seeds, starts the background workers (each registered with `defer`) and builds the deps. */
  start(kit: SubgraphStartKit<S>): Promise<SubgraphStarted<D, X>>;
}

export type RunningSubgraph<S, X> = { url: string; stop(): Promise<void> } & OpenedStores<S> & X;

/**
 * Starts a subgraph: opens its stores, runs its `start`, and serves `/graphql` (signed callers
 * only), `/health` and `/ready` (every store answers) and `/metrics` (open like the probes, or
 * behind METRICS_TOKEN) until `stop()`, which closes everything newest first. A failure part-way
 * stops what had started and rethrows.
 */
export async function startSubgraph<
  S extends Record<string, SubgraphStore<unknown>>,
  D,
  TContext extends BaseContext,
  X extends object = Record<never, never>,
>(options: SubgraphOptions<S, D, TContext, X>): Promise<RunningSubgraph<S, X>> {
  const { name, config, logger } = options;
  const shutdown = createShutdownStack(name);
  const metrics = createSubgraphMetrics(name);
  if (config.production && config.metricsToken === undefined) {
    logger.warn(
      "METRICS_TOKEN is not set: /metrics answers anyone who reaches this service; set it or block /metrics",
    );
  }
  try {
    const stores: Record<string, unknown> = {};
    const checks: (() => Promise<void>)[] = [];
    for (const [key, store] of Object.entries(options.stores)) {
      const opened = await store.open(logger, { migrations: config.databaseMigrations });
      shutdown.defer(() => store.close(opened));
      stores[key] = opened;
      store.instrument?.(opened, metrics, key);
      checks.push(() => store.check(opened));
    }
    const checkStores = async () => {
      for (const check of checks) await check();
    };
    const secrets = await loadSubgraphSecrets(config, logger);
    const started = await options.start({
      stores: stores as OpenedStores<S>,
      secrets,
      defer: shutdown.defer,
      metrics,
    });
    const http = await startHttpServer({
      apollo: createSubgraphServer<TContext>(name, options.resolvers, logger, metrics),
      host: config.host,
      port: config.port,
      logger,
      authenticate: createSubgraphAuthenticator(secrets),
      context: (req) => options.createContext(started.deps, requestMeta(req)),
      routes: started.routes,
      publicRoutes: {
        ...started.publicRoutes,
        "GET /metrics": createMetricsRoute(metrics.registry, config.metricsToken),
      },
      healthCheck: checkStores,
      // Served only once the stores are open, migrated (or found current) and `start` has run.
      readinessCheck: checkStores,
    });
    shutdown.defer(() => http.close());
    logger.info(`${name} subgraph ready`, { url: http.url });
    return Object.assign(
      { url: http.url, stop: shutdown.stopAll },
      stores,
      started.expose,
    ) as RunningSubgraph<S, X>;
  } catch (error) {
    await shutdown.stopAll().catch(() => {});
    throw error;
  }
}
