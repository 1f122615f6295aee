import type { ApolloServer } from "@apollo/server";
import { createLogger, DEFAULT_CURRENCY } from "@nexus/core";
import { connectRedis } from "@nexus/stores";
import {
  createTestAuth,
  createTestMongo,
  deleteRedisKeys,
  type executeSingle,
  startTestSubgraph,
  TEST_REDIS_URL,
  type TestAuth,
  type TestMongo,
  testRedisPrefix,
} from "@nexus/testing";
import type { Redis } from "ioredis";
import { type Context, createContext, type Deps } from "./context.ts";
import { type CatalogDb, createCatalogDb, ensureIndexes, upgradeDocuments } from "./db/collections.ts";
import { seedDemoData } from "./db/seed.ts";
import { createProductCache, type ProductCache } from "./product/product.cache.ts";
import { resolvers } from "./resolvers.ts";
import type { ReviewSettings } from "./review/review.service.ts";
import { DEFAULT_BLOCKED_WORDS, parseWordList } from "./review/screening.model.ts";
import { createEmbeddedSearchEngine } from "./search/embedded.engine.ts";
import type { SearchEngine } from "./search/search-engine.ts";
import { createSearchIndex, type SearchIndex } from "./search/search-index.ts";

export interface TestEnv {
  mongo: TestMongo;
  db: CatalogDb;
  redis: Redis;
  prefix: string;
  cache: ProductCache;
  /** This env's own search index, as each catalog replica has one. */
  search: SearchIndex;
  deps: Deps;
  auth: TestAuth;
  server: ApolloServer<Context>;
  /** Runs an operation as the gateway would send it, optionally with an Authorization header. */
  run(
    query: string,
    variables?: Record<string, unknown>,
    authorization?: string,
  ): ReturnType<typeof executeSingle>;
  /** How many commands of `name` went to `collection` since the last reset of `mongo.commands`. */
  count(name: string, collection: string): number;
  close(): Promise<void>;
}

/**
 * A catalog subgraph in-process on its own MongoDB database and Redis prefix, optionally with
 * the demo data. Real stores throughout; only the token signer is local.
 */
export interface TestEnvOptions {
  seed: boolean;
  reviews?: Partial<ReviewSettings>;
  storeCurrency?: string;
  /** Another replica of `replicaOf`: the same MongoDB database and Redis prefix, its own index and cache. */
  replicaOf?: TestEnv;
  search?: {
    /** The first build waits for this; until then searches go to MongoDB. Default: built before the env is returned. */
    holdFirstBuild?: Promise<unknown>;
    /** Off by default, so tests that count MongoDB commands see only their own. */
    catchUpMs?: number;
    createEngine?: () => SearchEngine;
  };
}

export async function createTestEnv(label: string, options: TestEnvOptions): Promise<TestEnv> {
  const logger = createLogger("catalog-test", "silent");
  const shared = options.replicaOf;
  const mongo = shared ? await createTestMongo(`${label}_replica`) : await createTestMongo(label);
  const db = createCatalogDb(shared ? mongo.client.db(shared.mongo.db.databaseName) : mongo.db);
  await ensureIndexes(db);
  await upgradeDocuments(db);
  const storeCurrency = options.storeCurrency ?? DEFAULT_CURRENCY;
  if (options.seed && !shared) await seedDemoData(db, logger, storeCurrency);
  const redis = await connectRedis(TEST_REDIS_URL);
  const prefix = shared?.prefix ?? testRedisPrefix(label);
  const cache = createProductCache({ redis, prefix, ttlSeconds: 300, logger });
  const auth = await createTestAuth();
  const reviews: ReviewSettings = {
    autoApproveVerified: true,
    blockedWords: parseWordList(DEFAULT_BLOCKED_WORDS),
    ...options.reviews,
  };
  const search = createSearchIndex({
    db,
    redis,
    prefix,
    logger,
    createEngine: options.search?.createEngine ?? createEmbeddedSearchEngine,
    catchUpMs: options.search?.catchUpMs ?? 0,
    firstBuildAfter: options.search?.holdFirstBuild,
  });
  if (!options.search?.holdFirstBuild) await search.ready();
  const deps: Deps = { db, verify: auth.verify, logger, cache, reviews, storeCurrency, search };
  const subgraph = await startTestSubgraph({ name: "catalog", resolvers, createContext, deps, logger });
  mongo.commands.length = 0;
  return {
    mongo,
    db,
    redis,
    prefix,
    cache,
    search,
    deps,
    auth,
    server: subgraph.server,
    run: (query, variables = {}, authorization) => subgraph.run(query, variables, { authorization }),
    count: (name, collection) =>
      mongo.commands.filter((c) => c.name === name && c.collection === collection).length,
    async close() {
      await search.stop();
      await subgraph.stop();
      // A replica leaves the shared database and keys to the env it joined.
      if (!shared) {
        await deleteRedisKeys(redis, [prefix]);
      }
      await redis.quit();
      await mongo.close();
    },
  };
}
